"""Bad inputs end to end: each malformed config key, search space or dataset goes through the
command a user types, in a copy of the workflow, and must stop it with one sentence that names
the input and the fix, and leave no partial output. docs/bad-inputs.md lists every case.

The cases run up front, two at a time (one workflow copy per runner, each copy shared by its
cases; parse-time cases first, so a copy has no results/ yet when they run), and each test
checks one case's outcome.
"""

from __future__ import annotations

import gzip
import json
import queue
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.test_workflow import ROOT, copy_workflow, snakemake

pytestmark = pytest.mark.workflow
DOC = ROOT / "docs" / "bad-inputs.md"
RUNNERS = 2  # the machine has 2 cores; each runner has its own copy of the workflow
# default_config reads only the space, not the dataset: it runs beside prepare and its complete
# output (the prior config) may stay when prepare refuses the dataset. Nothing else may.
PRIOR_CONFIG = ("final", "final/default", "final/default/config.json")


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # config | space | data
    wrong: str  # what is wrong, as docs/bad-inputs.md says it
    config: tuple[str, ...]  # the --config items
    expect: tuple[str, ...]  # fragments of the message: the input it names, and the fix
    where: str = "parse"  # parse: the Snakefile refuses it; else the rule whose log says it
    file: str = ""  # a file the case writes into the workflow copy
    content: bytes = b""
    configfiles: tuple[str, ...] = ()  # more --configfile files, after config/test.yaml

    @property
    def exp(self) -> str:
        """results/<exp>/ of a data case (named after its file)."""
        return Path(self.file).stem


def conf(case_id: str, wrong: str, config: str, *expect: str) -> Case:
    return Case(case_id, "config", wrong, (config,), expect)


SPACE = """\
fidelity: {name: epochs, min: 1, max: 3, eta: 3}
hyperparameters:
  model: {type: categorical, choices: [boe, cnn], prior: boe}
  lr: {type: float, low: 1.0e-3, high: 5.0e-2, log: true, prior: 1.0e-2}
  token_drop: {type: float, low: 0.0, high: 0.3, prior: 0.1}
  embed_dim: {type: categorical, choices: [8, 16], prior: 16}
families:
  cnn:
    num_filters: {type: int, low: 4, high: 16, log: true, prior: 8}
"""


def conf_file(case_id: str, wrong: str, content: str, *expect: str) -> Case:
    """A second --configfile (bad_configs/<case>.yaml) holding ``content``, no --config."""
    path = f"bad_configs/{case_id}.yaml"
    return Case(case_id, "config", wrong, (), expect, "parse", path, content.encode(), (path,))


def space(case_id: str, wrong: str, old: str, new: str, *expect: str) -> Case:
    """A copy of a valid space (config/spaces/test.yaml) with ``old`` replaced by ``new``."""
    assert old in SPACE, old
    path = f"bad_spaces/{case_id}.yaml"
    content = SPACE.replace(old, new).encode()
    return Case(case_id, "space", wrong, (f"search={{space: {path}}}",), expect, "parse", path,
                content)  # fmt: skip


def data(case_id: str, wrong: str, name: str, content: bytes, *expect: str) -> Case:
    path = f"bad_data/{name}"
    return Case(case_id, "data", wrong, (f"dataset={path}", "experiment="), expect, "prepare",
                path, content)  # fmt: skip


def reviews(n: int, labels: tuple[object, ...] = ("pos", "neg")) -> pd.DataFrame:
    words = ["great", "dull", "fine", "awful", "moving", "weak"]
    texts = [f"a {words[i % 6]} film number {i}" for i in range(n)]
    return pd.DataFrame({"text": texts, "label": [labels[i % len(labels)] for i in range(n)]})


def csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode()


def nan_labels(n: int = 100, missing: int = 40) -> bytes:
    df = reviews(n)
    df["label"] = df["label"].astype(object)
    df.loc[: missing - 1, "label"] = np.nan  # pandas writes NaN as an empty field
    return csv(df)


def mixed_encoding() -> bytes:
    """UTF-8 rows with a few latin-1 ones pasted in (é as the single byte 0xe9)."""
    utf8 = csv(reviews(30)) + "une critique très émouvante,pos\n".encode()
    return utf8 + "un café trop sucré,neg\n".encode("latin-1") + csv(reviews(10))[11:]


def jsonl(rows: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


CASES = [
    conf("config-unknown-key", "a key the schema does not know (typo)", "search={workerz: 2}",
         "unknown config key 'search.workerz'", "valid keys there: budget"),
    conf("config-wrong-type", "a string where a number belongs",
         "search={budget: {amount: lots}}", "config key 'search.budget.amount'",
         "'lots' is not of type 'number'", "fix it on --config"),
    conf("config-negative-budget", "a negative search budget", "search={budget: {amount: -5}}",
         "config key 'search.budget.amount'", "-5 is less than or equal to the minimum of 0"),
    conf("config-nan-budget", "a NaN search budget (JSON Schema's bounds let NaN through)",
         "search={budget: {amount: .nan}}", "config key 'search.budget.amount' is nan",
         "set it to a finite number"),
    conf("config-zero-workers", "zero search workers", "search={workers: 0}",
         "config key 'search.workers'", "0 is less than the minimum of 1"),
    conf("config-unknown-optimizer", "an optimizer hpotext does not have",
         "search={optimizer: smac}", "config key 'search.optimizer'", "'smac' is not one of",
         "'optuna_tpe'"),
    conf("config-bad-fraction", "a search subset fraction above 1", "data={search_fraction: 1.5}",
         "config key 'data.search_fraction'", "1.5 is greater than the maximum of 1"),
    conf("config-either-or", "a word where a number or 'auto' belongs",
         "train={batch_size: big}", "config key 'train.batch_size' is 'big'",
         "set it to an integer >= 1 or 'auto'"),
    conf("config-unknown-dataset", "a dataset that is neither shipped nor a file", "dataset=imdb",
         "dataset 'imdb' is neither a shipped dataset (20newsgroups, sms_spam, trec, vader)",
         "pass a registry name or the path of a csv/tsv/jsonl/parquet file"),
    conf_file("config-second-configfile", "a bad value in a second --configfile",
              "search: {workers: 0}\n", "config key 'search.workers'",
              "0 is less than the minimum of 1",
              "fix it in bad_configs/config-second-configfile.yaml"),
    conf("config-dataset-directory", "a directory as the dataset", "dataset=config",
         "dataset 'config' is a directory", "pass the path of a csv/tsv/jsonl/parquet file"),
    conf("config-sequence-one-task", "a sequence of one task",
         "sequence=[{name: only, text: {max_len: 8}}]",
         "sequence must list at least two tasks", "add a task or remove sequence"),
    conf("config-sequence-bad-task", "a task setting the schema refuses",
         "sequence=[{name: a, text: {max_len: 8}}, {name: b, text: {max_len: 0}}]",
         "sequence task 'b': config key 'text.max_len'", "0 is less than the minimum of 1"),
    space("space-low-above-high", "low above high", "low: 1.0e-3, high: 5.0e-2",
          "low: 5.0e-2, high: 1.0e-3", "bad_spaces/space-low-above-high.yaml: 'lr'",
          "low 0.05 >= high 0.001; make low < high"),
    space("space-log-nonpositive", "log scale with low <= 0", "low: 1.0e-3, high: 5.0e-2",
          "low: 0.0, high: 5.0e-2", "bad_spaces/space-log-nonpositive.yaml: 'lr' is log-scaled",
          "low must be > 0 (got 0); raise low or set log: false"),
    space("space-unknown-type", "an unknown type", "type: float, low: 0.0",
          "type: double, low: 0.0", "bad_spaces/space-unknown-type.yaml: 'token_drop'",
          "needs type one of ('float', 'int', 'categorical'), got 'double'; pick one"),
    space("space-empty-choices", "a categorical with no choices", "choices: [8, 16], prior: 16",
          "choices: []", "bad_spaces/space-empty-choices.yaml: categorical 'embed_dim'",
          "needs a list of >= 2 'choices', got []",
          "list two or more values, or move it to 'fixed'"),
    space("space-prior-outside", "a prior (default) outside the bounds", "prior: 1.0e-2",
          "prior: 0.5", "bad_spaces/space-prior-outside.yaml: prior 0.5 of 'lr'",
          "is outside [0.001, 0.05]; move the prior inside the bounds"),
    space("space-unknown-parent", "a conditional block under a family that is not a model choice",
          "  cnn:\n", "  rnn:\n", "bad_spaces/space-unknown-parent.yaml: family 'rnn'",
          "is not among the model choices ('boe', 'cnn')",
          "add it to the choices of 'model' or remove its block"),
    Case("space-missing-file", "space", "search.space names a file that does not exist",
         ("search={space: bad_spaces/nope.yaml}",),
         ("search space file bad_spaces/nope.yaml does not exist", "set search.space to a file")),
    Case("space-directory", "space", "search.space names a directory (was a traceback)",
         ("search={space: config/spaces}",),
         ("search space file config/spaces is a directory", "set search.space to a file")),
    space("space-beyond-trainer", "a range the trainer refuses (was a traceback in every trial)",
          "low: 0.0, high: 0.3", "low: 0.0, high: 1.5",
          "bad_spaces/space-beyond-trainer.yaml: 'token_drop' has high 1.5",
          "but token_drop must be in [0, 1) for training; keep low and high within that range"),
    space("space-yaml-syntax", "a YAML syntax error (unclosed flow mapping)",
          "eta: 3}\n", "eta: 3\n", "search space file bad_spaces/space-yaml-syntax.yaml",
          "is not valid YAML (line 2, column 16: expected ',' or '}', but got ':'); fix it"),
    space("space-section-not-mapping", "a section that is a list, not a mapping",
          "fidelity: {name: epochs, min: 1, max: 3, eta: 3}", "fidelity: [1, 3]",
          "bad_spaces/space-section-not-mapping.yaml: 'fidelity' is [1, 3]",
          "write it as a mapping (key: value)"),
    space("space-fixed-typo", "a misspelt setting under fixed (was silently ignored)",
          "families:\n", "fixed: {weight_decy: 0.0}\nfamilies:\n",
          "bad_spaces/space-fixed-typo.yaml: fixed setting 'weight_decy' is neither",
          "weight_decay", "fix its name"),
    conf_file("encoder-unknown-name", "an encoder that is neither shipped, a folder nor cached",
              "search: {space: config/spaces/test_encoder.yaml}\nencoder: {name: bert-huge}\n",
              "encoder.name 'bert-huge' is neither a shipped encoder (minilm), a model folder",
              "download it first (hf download bert-huge) or set encoder.name to a model folder"),
    conf_file("encoder-folder-without-weights",
              "a model folder without config, weights or tokenizer",
              "search: {space: config/spaces/test_encoder.yaml}\nencoder: {name: config}\n",
              "encoder.name 'config': the folder config has no config.json and no weights",
              "save the model there with save_pretrained or name another folder"),
    Case("encoder-max-len-beyond-positions", "space",
         "an encoder max_len that, with [CLS] and [SEP], exceeds the encoder's positions",
         ("search={space: bad_spaces/encoder-max-len-beyond-positions.yaml}",),
         ("the search space lets encoder max_len reach 600, but encoder 'minilm' has 512",
          "keep max_len at most 510"), "parse", "bad_spaces/encoder-max-len-beyond-positions.yaml",
         (ROOT / "config/spaces/test_encoder.yaml").read_bytes().replace(
             b"encoder__max_len: 24", b"encoder__max_len: 600")),
    conf("predict-missing-file", "a predict file that does not exist", "predict=nope.csv",
         "predict is 'nope.csv', which is not a file",
         "set predict to a csv, tsv, jsonl or parquet file of texts, or leave it empty"),
    Case("predict-unknown-suffix", "config", "a predict file whose suffix tells no format",
         ("predict=bad_data/new_texts.txt",),
         ("predict file 'bad_data/new_texts.txt' has suffix '.txt', which does not tell its format",
          "name it .csv, .tsv, .jsonl or .parquet, or pass data.format"),
         "parse", "bad_data/new_texts.txt", b"text\ngood\n"),
    data("data-empty-file", "an empty file", "empty.csv", b"",
         "data file 'bad_data/empty.csv' is empty", "add a header row and rows of text and label"),
    data("data-header-only", "a header and no rows", "header_only.csv", b"text,label\n",
         "data file 'bad_data/header_only.csv' has no data rows", "add rows of text and label"),
    data("data-one-class", "one class only", "one_class.csv", csv(reviews(40, ("pos",))),
         "dataset 'one_class' has fewer than two classes after cleaning (found: 'pos' (40 rows))",
         "check data.label_column or add examples of other classes"),
    data("data-no-text-column", "no text column (texts under another name)", "no_text.csv",
         csv(reviews(40).rename(columns={"text": "review"})),
         "data file 'bad_data/no_text.csv' has no column 'text' (columns: review, label)",
         "set data.text_column to the column holding the texts"),
    data("data-no-label-column", "no label column (jsonl)", "no_label.jsonl",
         jsonl([{"text": f"film {i}", "stars": i % 5} for i in range(40)]),
         "data file 'bad_data/no_label.jsonl' has no column 'label' (columns: text, stars)",
         "set data.label_column to the column holding the class labels"),
    data("data-binary", "binary garbage named .csv", "garbage.csv",
         np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes(),
         "data file 'bad_data/garbage.csv' looks like a binary file", "give a csv, tsv, jsonl"),
    data("data-10mb-line", "a 10 MB file on one line", "one_line.csv", b"word " * 2_000_000,
         "data file 'bad_data/one_line.csv' has no line break in its first MiB",
         "give a csv file whose first line names the columns"),
    data("data-nan-labels", "40 % of the labels NaN (a few are dropped and counted)",
         "nan_labels.csv", nan_labels(),
         "dataset 'nan_labels' would lose 40 of 100 rows (40%: 0 with an empty text, 40 without "
         "a label), more than data.max_dropped_fraction = 0.2",
         "fix those rows, or raise data.max_dropped_fraction"),
    data("data-mixed-encoding", "a UTF-8 file with a few latin-1 bytes", "mixed.csv",
         mixed_encoding(), "data file 'bad_data/mixed.csv' is not valid utf-8 text",
         "(it contains byte 0xe9)", "set data.encoding to the file's encoding"),
    data("data-utf16-no-bom", "UTF-16 without a byte-order mark (was called binary)",
         "utf16.csv", csv(reviews(40)).decode().encode("utf-16-le"),
         "data file 'bad_data/utf16.csv' looks like utf-16-le text, not utf-8",
         "set data.encoding to utf-16-le"),
    data("data-truncated-gz", "a gzip file cut short (a compressed csv is read)",
         "truncated.csv.gz", gzip.compress(csv(reviews(200)), mtime=0)[:-20],
         "data file 'bad_data/truncated.csv.gz' is not a readable gzip file",
         "(Compressed file ended before the end-of-stream marker was reached)",
         "decompress it and pass the plain file"),
]  # fmt: skip


@dataclass
class Outcome:
    returncode: int
    output: str  # snakemake's stdout and stderr
    log: str  # the rule's log (data cases)
    before: set[str]  # paths under results/ before the run
    after: set[str]  # and after it
    resources: bool  # whether resources/ exists after the run
    seconds: float


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")} if root.exists() else set()


def run_case(work: Path, case: Case) -> Outcome:
    before = tree(work / "results")
    if case.file:
        (work / case.file).parent.mkdir(parents=True, exist_ok=True)
        (work / case.file).write_bytes(case.content)
    start = time.monotonic()
    config = ("--config", *case.config) if case.config else ()
    proc = snakemake(
        work, "--configfile", "config/test.yaml", *case.configfiles, *config, check=False
    )
    seconds = time.monotonic() - start
    log = work / "results" / case.exp / "logs" / f"{case.where}.log"
    return Outcome(
        proc.returncode,
        proc.stdout + proc.stderr,
        log.read_text(errors="replace") if case.kind == "data" and log.exists() else "",
        before,
        tree(work / "results"),
        (work / "resources").exists(),
        seconds,
    )


def selected(request: pytest.FixtureRequest) -> list[Case]:
    """The cases the selected tests need (all of them for a test over every case)."""
    ids: set[str] = set()
    for item in request.session.items:
        if getattr(item, "module", None) is not request.module:
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "case" in params:
            ids.add(params["case"].id)
        elif "outcomes" in getattr(item, "fixturenames", ()):
            return CASES
    return [case for case in CASES if case.id in ids]


@pytest.fixture(scope="module")
def outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Outcome]]]:
    cases = selected(request)
    futures: dict[str, Future[Outcome]] = {case.id: Future() for case in cases}
    todo: queue.SimpleQueue[Case] = queue.SimpleQueue()
    for case in sorted(cases, key=lambda c: c.where != "parse"):  # parse-time cases first
        todo.put(case)
    stop = threading.Event()

    def runner(work: Path) -> None:
        while not stop.is_set():
            try:
                case = todo.get_nowait()
            except queue.Empty:
                return
            try:
                futures[case.id].set_result(run_case(work, case))
            except BaseException as err:  # noqa: BLE001 - handed to the test of the case
                futures[case.id].set_exception(err)

    copies = [
        copy_workflow(tmp_path_factory.mktemp("bad_inputs") / "hpotext")
        for _ in range(min(RUNNERS, len(cases)))
    ]
    threads = [threading.Thread(target=runner, args=(work,), daemon=True) for work in copies]
    for thread in threads:
        thread.start()
    yield futures
    stop.set()  # after a failure under -x: finish the running cases, start no more
    for thread in threads:
        thread.join()


def one_sentence(message: str) -> None:
    assert message and "\n" not in message
    assert not re.search(r"[.!?]\s+[A-Z]", message), f"more than one sentence: {message}"
    assert "; " in message, f"no fix after the problem: {message}"  # '<problem>; <fix>'


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_stops_with_one_sentence_and_no_output(
    case: Case, outcomes: dict[str, Future[Outcome]]
) -> None:
    out = outcomes[case.id].result()
    assert out.returncode != 0, out.output[-3000:]
    assert "Traceback" not in out.output, out.output[-3000:]
    assert not out.resources  # nothing fetched
    if case.where == "parse":
        messages = [line for line in out.output.splitlines() if line.startswith("hpotext: ")]
        assert len(messages) == 1, out.output[-3000:]
        message = messages[0].removeprefix("hpotext: ")
        assert not re.search(r"^(local)?rule \w+:", out.output, re.MULTILINE)  # no job ran
        assert not out.before and not out.after  # no results/ directory at all
    else:
        assert out.log, f"no log from rule {case.where}:\n{out.output[-3000:]}"
        assert "Traceback" not in out.log, out.log
        errors = [line for line in out.log.splitlines() if " ERROR hpotext: " in line]
        assert len(errors) == 1, out.log
        message = errors[0].split(" ERROR hpotext: ", 1)[1]
        assert message in out.output and f"Error in rule {case.where}:" in out.output
        new = out.after - out.before
        assert all(p.split("/")[0] == case.exp for p in new), sorted(new)  # its own results only
        assert not any(p.startswith(f"{case.exp}/data/") for p in new), sorted(new)
        allowed = {case.exp, f"{case.exp}/logs"} | {f"{case.exp}/{p}" for p in PRIOR_CONFIG}
        stray = sorted(p for p in new - allowed if not p.startswith(f"{case.exp}/logs/"))
        assert not stray, f"partial output left behind: {stray}"
    one_sentence(message)
    for fragment in case.expect:
        assert fragment in message, f"{fragment!r} not in: {message}"


def test_the_suite_covers_every_kind_of_input() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)) >= 22
    assert all(re.fullmatch(r"[a-z0-9-]+", case_id) for case_id in ids)
    kinds = [case.kind for case in CASES]
    assert min(kinds.count(kind) for kind in ("config", "space", "data")) >= 7
    assert len({case.exp for case in CASES if case.kind == "data"}) == kinds.count("data")
    assert all(len(case.expect) >= 2 for case in CASES)  # the input and the fix


def test_docs_table_lists_every_case() -> None:
    rows: dict[str, str] = {}
    for line in DOC.read_text().splitlines():
        found = re.match(r"\|\s*`([a-z0-9-]+)`\s*\|", line)
        if found:
            assert found.group(1) not in rows, f"{found.group(1)} listed twice"
            rows[found.group(1)] = line
    assert set(rows) == {case.id for case in CASES}
    for case in CASES:
        cells = [cell.strip() for cell in rows[case.id].strip("|").split("|")]
        assert cells[1] == case.kind, rows[case.id]
        where = "at parse" if case.where == "parse" else f"results/<exp>/logs/{case.where}.log"
        assert where in cells[-1], rows[case.id]
        for fragment in case.expect:
            assert fragment in rows[case.id], f"{case.id}: {fragment!r} is not in the docs"
