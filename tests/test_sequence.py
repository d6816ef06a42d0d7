"""Sequences of related tasks: parsing, per-task configs and the summary table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hpotext.errors import ConfigError
from hpotext.studies.sequence import earlier, hurdle_configs, task_config, task_of, tasks
from hpotext.studies.steps import sequence_summary as summary_step
from hpotext.workflow.config import validate_config

TWO = [{"name": "short", "text": {"max_len": 16}}, {"name": "long", "text": {"max_len": 64}}]


def config(**overrides: Any) -> dict[str, Any]:
    return validate_config({"dataset": "vader", "search": {"seed": 3}, **overrides})


def test_tasks_merge_their_overrides_and_take_their_own_seed() -> None:
    base = config(sequence=TWO + [{"name": "trec", "dataset": "trec", "data": {"max_rows": 500}}])
    found = tasks(base)
    assert [t.name for t in found] == ["short", "long", "trec"]
    configs = [task_config(base, t, i) for i, t in enumerate(found)]
    assert [c["text"]["max_len"] for c in configs] == [16, 64, 64]
    assert configs[0]["text"]["min_freq"] == base["text"]["min_freq"]  # the rest is shared
    assert configs[2]["dataset"] == "trec" and configs[2]["data"]["max_rows"] == 500
    assert [c["search"]["seed"] for c in configs] == [3, 4, 5]
    assert all(c["sequence"] == [] for c in configs) and base["search"]["seed"] == 3
    assert tasks(config()) == []


@pytest.mark.parametrize(
    ("sequence", "study", "message"),
    [
        (TWO[:1], {}, "at least two tasks"),
        (TWO + [{"name": "short", "text": {"max_len": 8}}], {}, "same name"),
        ([*TWO, {"name": "a b", "text": {"max_len": 8}}], {}, r"sequence\[2\].name 'a b'"),
        ([*TWO, {"name": "same"}], {}, "task 'same' changes nothing"),
        (TWO, {"scientific": {"model": ["boe", "cnn"]}}, "cannot be combined"),
    ],
)
def test_bad_sequences_fail_with_one_sentence(
    sequence: list[dict[str, Any]], study: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        tasks(config(sequence=sequence, study=study))


def test_a_task_setting_is_validated_and_named() -> None:
    base = config(sequence=[TWO[0], {"name": "bad", "text": {"max_len": 0}}])
    with pytest.raises(ConfigError, match="sequence task 'bad': config key 'text.max_len'"):
        task_config(base, tasks(base)[1], 1)
    with pytest.raises(ConfigError, match="unknown config key 'sequence.0.texts'"):
        config(sequence=[{"name": "x", "texts": {}}, TWO[1]])


def test_paths_and_order() -> None:
    assert task_of("vader/task/long") == "long" and task_of("vader") is None
    assert earlier(["a", "b", "c"], "c") == ["a", "b"] and earlier(["a", "b"], "a") == []


def write_task(root: Path, name: str, hurdles: int, incumbent: int) -> list[str]:
    folder = root / name
    folder.mkdir()
    infos = [{"bracket": -1, "rung": 0, "hurdle": i} for i in range(hurdles)]
    infos += [{"bracket": 0, "rung": 0}, {"bracket": 0, "rung": 1}]
    table = pd.DataFrame({
        "trial_id": range(len(infos)),
        "fidelity": [1] * (len(infos) - 1) + [3],
        "epochs_trained": [1] * (len(infos) - 1) + [2],
        "info": [json.dumps(i) for i in infos],
    })  # fmt: skip
    table.to_parquet(folder / "trials.parquet")
    config = {"model": "boe", "lr": 0.01}
    (folder / "incumbent.json").write_text(
        json.dumps({"trial_id": incumbent, "config": config, "val_accuracy": 0.7})
    )
    (folder / "summary.json").write_text(json.dumps({"test": {"accuracy": {"mean": 0.65}}}))
    return [str(folder / f) for f in ("incumbent.json", "trials.parquet", "summary.json")]


def test_summary_counts_hurdle_trials_and_reads_hurdles(tmp_path: Path) -> None:
    files = [write_task(tmp_path, "a", 0, 1), write_task(tmp_path, "b", 2, 0)]
    frame = summary_step(
        ["a", "b"],
        [f[0] for f in files],
        [f[1] for f in files],
        [f[2] for f in files],
        "rush",
        str(tmp_path / "sequence.md"),
        str(tmp_path / "sequence.parquet"),
    )
    assert list(frame["hurdle_trials"]) == [0, 2]
    assert list(frame["incumbent_is_hurdle"]) == [False, True]
    assert list(frame["epochs"]) == [3, 5] and list(frame["top_rung_trials"]) == [1, 1]
    md = (tmp_path / "sequence.md").read_text()
    assert "| b | rush | 4 | 2 | 5 | 1 | 0.7000 | yes | 0.6500 |" in md
    assert pd.read_parquet(tmp_path / "sequence.parquet").equals(frame)
    assert hurdle_configs([files[0][0]]) == [{"model": "boe", "lr": 0.01}]
