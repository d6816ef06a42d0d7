"""Head to head: hpotext's search against what users run today, at the same budget.

For each dataset the data is prepared as the workflow does (80/10/10 split, 40 % search
subset, the same validation split); then, per seed, every variant searches the same space with
the same wall-clock budget and the same training code (hpotext's trainer and model families,
so a config costs the same everywhere and only the search differs):

    optuna        an Optuna 5 script as its docs teach it: TPESampler + HyperbandPruner, one
                  process, every trial trained from scratch to the maximum epochs, the
                  validation accuracy reported after every epoch and the trial pruned when the
                  pruner says so
    dehb          plain DEHB 0.1.2 through its own ``DEHB.run(total_cost=...)``: every job
                  trains its config from scratch at its fidelity
    neps          NePS 0.17 ``neps.run(optimizer="priorband")`` with the space's priors, cost =
                  training seconds, every evaluation from scratch
    hpotext_1w    hpotext.search.steps.search as ``make run`` configures it (the selected
                  optimizer, checkpoint continuation, diagnosis and EMA stoppers), one worker
    hpotext_2w    the same with two workers sharing one trial store (the default study's count)
    hpotext_1w_noprior  hpotext_1w without starting at the space's prior config (optuna_tpe's
                  prior_first: false), to measure what that start gives

Single-process variants run two at a time with one torch thread each; hpotext_2w runs alone,
its two workers with one thread each, so every process has one core. A variant is killed at its
budget; evaluations that end later do not count.

An *evaluation* is every (config, epochs) validation result the search recorded: every epoch
of an Optuna trial (its intermediate values) and of an hpotext trial (the worker reports each
epoch to the trial store as it trains), every DEHB job and NePS evaluation. Measures per
dataset: best validation accuracy at 25 / 50 / 100 % of the budget; the time each variant needs
to reach each peer's final best (same seed); the test accuracy of each run's best evaluation,
retrained once (its config and epochs, on the search subset, from scratch, no stoppers); the
share of the joint top-10 (best evaluation per run and config) of each dataset, pooled over
all runs and per seed (each seed's runs head to head, summed; the targets use this one, since a
pooled top 10 is set by the single luckiest run); evaluations, configs and epochs per run.
Writes <out>.md, <out>.parquet (every evaluation) and <out>.png.

With ``--portfolio N`` hpotext_1w and hpotext_2w start, after the prior config, with N configs
of config/portfolio.yaml from the datasets other than the one searched (search.portfolio).

    python benchmarks/peers.py --datasets vader trec --seeds 5 --budget 90
    python benchmarks/peers.py --datasets trec --seeds 5 --budget 90 --variants optuna \
        hpotext_2w --portfolio 4 --out benchmarks/results/peers_trec90_portfolio
    python benchmarks/peers.py --datasets trec --seeds 1 --budget 20 --out /tmp/peers/p
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import multiprocessing as mp
import random
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

from benchmarks.common import command, fixed_hash_seed, machine, plot_anytime  # noqa: E402
from benchmarks.efficiency import prepare, subset_files  # noqa: E402
from hpotext import space as space_mod  # noqa: E402
from hpotext.data.datasets import dataset_names  # noqa: E402
from hpotext.data.info import DatasetInfo  # noqa: E402
from hpotext.data.text import Vocab  # noqa: E402
from hpotext.io import canonical_json  # noqa: E402
from hpotext.optimizers.records import Result, Suggestion  # noqa: E402
from hpotext.search.objective import TrialRunner  # noqa: E402
from hpotext.search.store import TrialStore  # noqa: E402
from hpotext.space import portfolio  # noqa: E402
from hpotext.train.callbacks import Callback, TrainState  # noqa: E402
from hpotext.train.loop import load_model  # noqa: E402
from hpotext.train.metrics import predict  # noqa: E402
from hpotext.train.setup import encode_split, load_train_data  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "peers"
PEERS = ("optuna", "dehb", "neps")
MINE = ("hpotext_1w", "hpotext_2w", "hpotext_1w_noprior")
VARIANTS = (*PEERS, *MINE)
ABLATIONS = ("hpotext_1w_noprior",)  # not counted in the joint top-10
FRACTIONS = (0.25, 0.5, 1.0)
log = logging.getLogger("benchmarks.peers")


# --- one search per process ---------------------------------------------------------------------
class Context:
    """What every variant's evaluation needs: space, data, train settings, seed, event log."""

    def __init__(self, job: dict[str, Any]) -> None:
        torch.set_num_threads(1)
        cfg, d = job["config"], Path(job["data"])
        self.job, self.cfg, self.seed = job, cfg, int(job["seed"])
        self.space = space_mod.load(ROOT / cfg["search"]["space"])
        self.data = load_train_data(subset_files(d), cfg["text"]["max_len"])
        self.events = Path(job["events"])
        self.start = time.time()
        self._write({"start": self.start})

    def _write(self, row: dict[str, Any]) -> None:
        with self.events.open("a") as f:
            f.write(json.dumps(row) + "\n")

    def record(self, config: dict[str, Any], epochs: int, trained: int, acc: float | None) -> None:
        """One evaluation the optimizer is told about, stamped with seconds since the start."""
        self._write(
            {
                "t": time.time() - self.start,
                "config": canonical_json(config),
                "epochs": int(epochs),
                "trained": int(trained),
                "val_accuracy": acc,
            }
        )

    def evaluate(
        self, config: dict[str, Any], epochs: int, callbacks: tuple[Callback, ...] = ()
    ) -> Result:
        """Train ``config`` from scratch for ``epochs`` with hpotext's trainer."""
        runner = TrialRunner(
            self.space,
            self.data,
            self.cfg["train"],
            self.seed,
            torch.device("cpu"),
            callbacks=callbacks,
        )
        with tempfile.TemporaryDirectory(prefix="hpotext-peer-") as tmp:
            return runner(Suggestion(0, config, int(epochs)), None, Path(tmp))


def accuracy(result: Result) -> float | None:
    ok = result.ok and math.isfinite(result.objective)
    return float(result.metrics["accuracy"]) if ok else None


class Report(Callback):
    """Optuna's intermediate values: report every epoch, prune when the pruner says so."""

    def __init__(self, ctx: Context, trial: Any, config: dict[str, Any]) -> None:
        self.ctx, self.trial, self.config, self.pruned = ctx, trial, config, False

    def on_epoch_end(self, state: TrainState) -> None:
        r = state.history[-1]
        self.trial.report(r.val_accuracy, r.epoch)
        self.ctx.record(self.config, r.epoch, 1, r.val_accuracy)
        if self.trial.should_prune():
            self.pruned = True
            state.request_stop("pruned")


def run_optuna(ctx: Context) -> None:
    import optuna

    from hpotext.optimizers.optuna_adapter import suggest

    optuna.logging.set_verbosity(logging.WARNING)
    fid = ctx.space.fidelity
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=ctx.seed),
        pruner=optuna.pruners.HyperbandPruner(
            min_resource=fid.min, max_resource=fid.max, reduction_factor=fid.eta
        ),
    )

    def objective(trial: optuna.Trial) -> float:
        config = suggest(trial, ctx.space)
        report = Report(ctx, trial, config)
        result = ctx.evaluate(config, fid.max, (report,))
        if report.pruned:
            raise optuna.TrialPruned()
        acc = accuracy(result)
        return float("nan") if acc is None else acc  # nan: Optuna marks the trial failed

    study.optimize(objective, timeout=ctx.job["budget"])


def run_dehb(ctx: Context) -> None:
    from dehb import DEHB

    from hpotext.optimizers._convert import from_configspace, to_configspace
    from hpotext.optimizers.dehb_adapter import FAILED_FITNESS, _quiet

    fid = ctx.space.fidelity

    def f(config: Any, fidelity: float, **_: Any) -> dict[str, float]:
        epochs = min(fid.max, max(fid.min, int(round(fidelity))))
        flat = from_configspace(ctx.space, config)
        result = ctx.evaluate(flat, epochs)
        acc = accuracy(result)
        ctx.record(flat, epochs, result.epochs_trained, acc)
        return {"fitness": FAILED_FITNESS if acc is None else 1.0 - acc, "cost": result.cost}

    with _quiet(), tempfile.TemporaryDirectory(prefix="hpotext-dehb-") as tmp:
        dehb = DEHB(
            f=f,
            cs=to_configspace(ctx.space, ctx.seed),
            min_fidelity=fid.min,
            max_fidelity=fid.max,
            eta=fid.eta,
            n_workers=1,
            seed=ctx.seed,
            output_path=tmp,
            log_level="ERROR",
        )
        dehb.run(total_cost=ctx.job["budget"])


def pipeline_space(space: space_mod.Space) -> Any:
    """The space as a NePS 0.17 ``PipelineSpace`` (what ``neps.run`` takes), with the priors.

    Built from hpotext's classic NePS space (``to_neps``); NePS's own converter drops priors
    that are 0 (``if parameter.prior``), e.g. label_smoothing's.
    """
    import neps

    from hpotext.optimizers._convert import to_neps

    attrs: dict[str, Any] = {}
    for name, p in to_neps(space).elements.items():
        if isinstance(p, neps.HPOCategorical):
            attrs[name] = neps.Categorical(
                tuple(p.choices),
                prior=list(p.choices).index(p.prior),
                prior_confidence=p.prior_confidence,
            )
        elif p.is_fidelity:
            attrs[name] = neps.IntegerFidelity(int(p.lower), int(p.upper))
        else:
            kind = neps.Integer if isinstance(p, neps.HPOInteger) else neps.Float
            attrs[name] = kind(
                p.lower, p.upper, log=p.log, prior=p.prior, prior_confidence=p.prior_confidence
            )
    return type("HpotextSpace", (neps.PipelineSpace,), attrs)()


def run_neps(ctx: Context) -> None:
    import neps

    from hpotext.optimizers._convert import from_neps

    logging.getLogger("neps").setLevel(logging.WARNING)
    random.seed(ctx.seed)
    np.random.seed(ctx.seed)
    torch.manual_seed(ctx.seed)
    fid = ctx.space.fidelity

    def evaluate_pipeline(**config: Any) -> dict[str, float]:
        epochs = int(config[fid.name])
        flat = from_neps(ctx.space, config)
        result = ctx.evaluate(flat, epochs)
        acc = accuracy(result)
        ctx.record(flat, epochs, result.epochs_trained, acc)
        return {"objective_to_minimize": 1.0 if acc is None else 1.0 - acc, "cost": result.cost}

    with tempfile.TemporaryDirectory(prefix="hpotext-neps-") as tmp:
        neps.run(
            evaluate_pipeline,
            pipeline_space=pipeline_space(ctx.space),
            root_directory=Path(tmp) / "neps",  # NePS starts anew only in a new folder
            total_cost_to_spend=ctx.job["budget"],
            optimizer="priorband",
        )


def run_hpotext(job: dict[str, Any]) -> None:
    """One worker of hpotext's search, exactly the function the workflow's search rule calls."""
    from hpotext.search.steps import search

    torch.set_num_threads(1)
    own_tempdir(job)
    cfg = job["config"]
    search(
        str(ROOT / cfg["search"]["space"]),
        subset_files(Path(job["data"])),
        job["store"],
        job["optimizer"],
        int(job["seed"]),
        {"kind": "seconds", "amount": job["budget"]},
        cfg["train"],
        cfg["text"]["max_len"],
        job["worker"],
        job["workers"],
        cfg["search"]["max_consecutive_failures"],
        str(Path(job["store"]) / f"{job['worker']}.done"),
        stopping=cfg["stopping"],
        continuation=True,
        options=hpotext_options(job),
    )


def hpotext_options(job: dict[str, Any]) -> dict[str, Any]:
    """optuna_tpe's options: no prior start for the _noprior ablation; otherwise the portfolio
    of ``--portfolio`` configs from the other datasets (hpotext/space/portfolio.py)."""
    if job["variant"].endswith("_noprior"):
        return {"prior_first": False}
    if not job["portfolio"]:
        return {}
    space = space_mod.load(str(ROOT / job["config"]["search"]["space"]))
    entries = portfolio.read(ROOT / "config" / "portfolio.yaml")
    return {"initial": portfolio.select(entries, space, job["portfolio"], (job["dataset"],))}


def own_tempdir(job: dict[str, Any]) -> None:
    """Temporary files of this process under the job's run folder, which the benchmark's work
    folder removes: run_batch ends a job with SIGTERM, which skips every clean-up in the child."""
    Path(job["tmp"]).mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = job["tmp"]


def run_peer(job: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.WARNING)
    own_tempdir(job)
    ctx = Context(job)
    {"optuna": run_optuna, "dehb": run_dehb, "neps": run_neps}[job["variant"]](ctx)


# --- scheduling ---------------------------------------------------------------------------------
def started(job: dict[str, Any]) -> float | None:
    """When a job's clock started: its event log's first line, or its trial store's meta."""
    if job["variant"].startswith("hpotext"):
        return TrialStore(job["store"]).started_at() if Path(job["store"]).exists() else None
    path = Path(job["events"])
    if not path.exists() or not path.read_text().strip():
        return None
    return float(json.loads(path.read_text().splitlines()[0])["start"])


def processes(job: dict[str, Any]) -> list[Any]:
    """Fresh interpreters (spawn): no torch state inherited from this process."""
    ctx = mp.get_context("spawn")
    if not job["variant"].startswith("hpotext"):
        return [ctx.Process(target=run_peer, args=(job,))]
    return [ctx.Process(target=run_hpotext, args=({**job, "worker": w},)) for w in job["workers"]]


def run_batch(jobs: list[dict[str, Any]], grace: float = 1.0) -> None:
    """Start the jobs together; kill each one ``grace`` seconds after its budget ran out."""
    running = [(job, processes(job)) for job in jobs]
    for _, procs in running:
        for p in procs:
            p.start()
    while any(p.is_alive() for _, procs in running for p in procs):
        time.sleep(0.5)
        for job, procs in running:
            t0 = started(job)
            if t0 is not None and time.time() > t0 + job["budget"] + grace:
                for p in procs:
                    if p.is_alive():
                        p.terminate()
    for _, procs in running:
        for p in procs:
            p.join()


def batches(jobs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Two single-process jobs at a time; a two-worker job alone."""
    single = [j for j in jobs if len(j.get("workers", ["w0"])) == 1]
    double = [[j] for j in jobs if len(j.get("workers", ["w0"])) == 2]
    return [single[i : i + 2] for i in range(0, len(single), 2)] + double


# --- evaluations, retraining, measures -----------------------------------------------------------
def evaluations(job: dict[str, Any]) -> pd.DataFrame:
    """One row per evaluation that ended within the budget: t, config, epochs, val_accuracy."""
    cols = ["t", "config", "epochs", "trained", "val_accuracy"]
    if job["variant"].startswith("hpotext"):
        store = TrialStore(job["store"])
        t0, trials = store.started_at() or 0.0, store.trials()
        rows = []
        for t in trials.values():
            config = canonical_json(t.config)
            if t.reports:  # every epoch, as it trained (a trial cut by the budget too)
                rows += [[at - t0, config, epoch, 1, 1.0 - objective]
                         for epoch, objective, at in t.reports]  # fmt: skip
                continue
            if t.finished_at is None:
                continue
            start = trials[t.parent].fidelity if t.parent in trials else 0
            reached = t.fidelity if t.status == "completed" else start + t.epochs_trained
            acc = t.metrics.get("accuracy") if t.status in ("completed", "stopped") else None
            rows.append([t.finished_at - t0, config, reached, t.epochs_trained, acc])
        frame = pd.DataFrame(rows, columns=cols)
    else:
        lines = Path(job["events"]).read_text().splitlines()[1:]
        frame = pd.DataFrame([json.loads(line) for line in lines], columns=cols)
    frame = frame[frame["t"] <= job["budget"]].sort_values("t", kind="stable")
    return frame.assign(dataset=job["dataset"], variant=job["variant"], seed=job["seed"])


def retrain(job: dict[str, Any]) -> float:
    """Test accuracy of ``job``'s config trained once for its epochs on the search subset."""
    torch.set_num_threads(1)
    cfg, d = job["config"], Path(job["data"])
    space = space_mod.load(ROOT / cfg["search"]["space"])
    max_len = cfg["text"]["max_len"]
    data = load_train_data(subset_files(d), max_len)
    classes = DatasetInfo.from_json(d / "dataset.json").classes
    ids, y = encode_split(str(d / "test.parquet"), Vocab.load(d / "vocab.json"), classes, max_len)
    runner = TrialRunner(space, data, cfg["train"], 10_000 + int(job["seed"]), torch.device("cpu"))
    with tempfile.TemporaryDirectory(prefix="hpotext-retrain-") as tmp:
        result = runner(Suggestion(0, json.loads(job["best"]), int(job["epochs"])), None, Path(tmp))
        ckpts = sorted(Path(tmp).glob("epoch*.pt"))
        if not (result.ok and ckpts):
            return math.nan
        model, _ = load_model(ckpts[-1], data.vocab_size, data.num_classes, data.max_len)
        return float(predict(model, ids, y, 256, torch.device("cpu")).accuracy)


def best_so_far(run: pd.DataFrame, t: float) -> float:
    ok = run[(run["t"] <= t) & run["val_accuracy"].notna()]
    return float(ok["val_accuracy"].max()) if len(ok) else math.nan


def time_to(run: pd.DataFrame, target: float) -> float | None:
    ok = run.dropna(subset=["val_accuracy"])
    hit = ok[ok["val_accuracy"].cummax() >= target - 1e-12]
    return float(hit["t"].iloc[0]) if len(hit) else None


def top10(evals: pd.DataFrame) -> pd.DataFrame:
    """The 10 best (run, config) pairs by their best validation accuracy over every run (the
    ablations' runs left out)."""
    best = (
        evals[~evals.variant.isin(ABLATIONS)]
        .dropna(subset=["val_accuracy"])
        .groupby(["variant", "seed", "config"], as_index=False)["val_accuracy"]
        .max()
    )
    return best.sort_values(
        ["val_accuracy", "variant", "seed"], ascending=[False, True, True]
    ).head(10)


def seed_top10(evals: pd.DataFrame) -> pd.DataFrame:
    """The joint top 10 of each seed's runs (the variants that ran with that seed, head to
    head), stacked: a pooled top 10 over all seeds is set by the single luckiest run."""
    parts = [top10(run) for _, run in evals.groupby("seed")]
    return pd.concat(parts, ignore_index=True) if parts else top10(evals)


def mean_sd(values: list[float], digits: int = 4) -> str:
    v = [x for x in values if not math.isnan(x)]
    if not v:
        return "-"
    sd = f" ± {np.std(v, ddof=1):.{digits}f}" if len(v) > 1 else ""
    return f"{np.mean(v):.{digits}f}{sd}"


def summary(evals: pd.DataFrame, tests: pd.DataFrame, budget: float) -> pd.DataFrame:
    """One row per variant of one dataset."""
    top, per_seed = top10(evals), seed_top10(evals)
    rows = []
    for variant in VARIANTS:
        part = evals[evals.variant == variant]
        runs = [run for _, run in part.groupby("seed")]
        if not runs:
            continue
        row: dict[str, Any] = {"variant": variant}
        for frac in FRACTIONS:
            row[f"best_{100 * frac:.0f}"] = [best_so_far(r, frac * budget) for r in runs]
        row["test"] = tests[tests.variant == variant]["test_accuracy"].tolist()
        row["evaluations"] = len(part) / len(runs)
        row["configs"] = float(np.mean([r["config"].nunique() for r in runs]))
        row["epochs"] = float(part["trained"].sum()) / len(runs)
        row["top10"] = int((top["variant"] == variant).sum())
        row["top10_seed"] = int((per_seed["variant"] == variant).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def times(evals: pd.DataFrame, budget: float) -> pd.DataFrame:
    """Per peer and seed: its time to its final best, and each hpotext variant's time to it."""
    rows = []
    for (peer, seed), run in evals[evals.variant.isin(PEERS)].groupby(["variant", "seed"]):
        target = best_so_far(run, budget)
        if math.isnan(target):
            continue
        row = {"peer": peer, "seed": seed, "target": target, "peer_t": time_to(run, target)}
        for mine in (m for m in MINE if m in set(evals.variant)):
            own = evals[(evals.variant == mine) & (evals.seed == seed)]
            row[mine] = time_to(own, target) if len(own) else None
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else ["peer", "seed", "target", "peer_t"])


# --- output -------------------------------------------------------------------------------------
def ratio(t_mine: float | None, t_peer: float | None, budget: float) -> float:
    """hpotext's time over the peer's (the budget when hpotext never got there)."""
    if t_peer is None or not t_peer > 0:
        return math.nan
    never = t_mine is None or math.isnan(t_mine)
    return (budget if never else t_mine) / t_peer


def dataset_lines(
    name: str, table: pd.DataFrame, tt: pd.DataFrame, budget: float
) -> tuple[list[str], dict[str, Any]]:
    lines = [
        f"## {name}",
        "",
        "| variant | best val @25 % | @50 % | @100 % | test acc (retrained) "
        "| evaluations/run | configs/run | epochs/run | joint top-10 | per-seed top-10 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        ablation = r.variant in ABLATIONS
        lines.append(
            f"| {r.variant} | {mean_sd(r.best_25)} | {mean_sd(r.best_50)} | "
            f"{mean_sd(r.best_100)} | {mean_sd(r.test)} | {r.evaluations:.1f} | {r.configs:.1f} | "
            f"{r.epochs:.0f} | {'n/a' if ablation else r.top10} "
            f"| {'n/a' if ablation else r.top10_seed} |"
        )
    lines += [
        "",
        "Time to each peer's final best validation accuracy (same seed; median over "
        "seeds; hpotext's time over the peer's, the budget when it never got there):",
        "",
        "| peer | peer's final best | peer's time s | "
        + " | ".join(f"{mine} time s (reached) | ratio" for mine in MINE)
        + " |",
        "|---|---|---" + "|---|---" * len(MINE) + "|",
    ]
    ratios: dict[str, float] = {}
    for peer, part in tt.groupby("peer", sort=False):
        cells = [peer, mean_sd(part["target"].tolist()), f"{part['peer_t'].median():.0f}"]
        for mine in MINE:
            if mine not in part:
                cells += ["-", "-"]
                continue
            reached = part[mine].notna().sum()
            med = part[mine].dropna().median() if reached else math.nan
            rs = [ratio(m, p, budget) for m, p in zip(part[mine], part["peer_t"], strict=True)]
            ratios[f"{peer}/{mine}"] = float(np.nanmedian(rs)) if rs else math.nan
            shown = "-" if math.isnan(med) else f"{med:.0f}"
            cells += [f"{shown} ({reached}/{len(part)})", f"{ratios[f'{peer}/{mine}']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    best_peer = best_peer_of(table)
    if best_peer is None or "hpotext_2w" not in set(table["variant"]):
        line = "Targets not evaluated: they need hpotext_2w and at least one peer in --variants."
        verdict = {"line": line, "ratio": math.nan, "fast": False, "top": False, "best_peer": None}
    else:
        verdict = targets(table, ratios, best_peer)
    return lines + ["", verdict["line"], ""], verdict


def seed_lines(
    evals: pd.DataFrame, tests: pd.DataFrame, tt: pd.DataFrame, budget: float, peer: str | None
) -> list[str]:
    """One row per seed and variant of one dataset: best val at 25/50/100 % of the budget,
    test accuracy, evaluations, configs and the time to ``peer``'s final best of that seed
    (hpotext's over the peer's)."""
    if peer is None:
        return []
    lines = [
        f"Per seed (time to {peer}'s final best of the same seed; - where never reached):",
        "",
        "| seed | variant | best val @25 % | @50 % | @100 % | test acc | evaluations | configs "
        f"| time s to {peer}'s best | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    goal = tt[tt.peer == peer].set_index("seed")
    runs = dict(iter(evals.groupby(["seed", "variant"])))
    order = sorted((int(s), VARIANTS.index(v)) for s, v in runs if s in goal.index)
    for seed, variant, run in ((s, VARIANTS[i], runs[(s, VARIANTS[i])]) for s, i in order):
        peer_t = goal.loc[seed, "peer_t"]
        t = peer_t if variant == peer else goal.loc[seed].get(variant)
        t = None if t is None or (isinstance(t, float) and math.isnan(t)) else float(t)
        best = [best_so_far(run, f * budget) for f in FRACTIONS]
        test = tests[(tests.seed == seed) & (tests.variant == variant)]["test_accuracy"]
        cells = [str(seed), variant, *("-" if math.isnan(b) else f"{b:.4f}" for b in best),
                 f"{test.iloc[0]:.4f}" if len(test) else "-", str(len(run)),
                 str(run["config"].nunique()), "-" if t is None else f"{t:.0f}",
                 "-" if variant == peer else f"{ratio(t, peer_t, budget):.2f}"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def best_peer_of(table: pd.DataFrame) -> str | None:
    """The peer with the best mean final validation accuracy among those that ran, or None."""
    t = table.set_index("variant")
    ran = [p for p in PEERS if p in t.index]
    return max(ran, key=lambda p: np.nanmean(t.loc[p, "best_100"])) if ran else None


def targets(table: pd.DataFrame, ratios: dict[str, float], best_peer: str) -> dict[str, Any]:
    """Issue 19's targets for hpotext_2w (as make run runs it) against the best peer."""
    t = table.set_index("variant")
    r = ratios[f"{best_peer}/hpotext_2w"]
    mine_test, peer_test = (
        np.nanmean(t.loc["hpotext_2w", "test"]),
        np.nanmean(t.loc[best_peer, "test"]),
    )
    fast = r <= 0.5 and mine_test >= peer_test
    share = {}
    for key in ("top10_seed", "top10"):
        mine_top, peer_top = int(t.loc["hpotext_2w", key]), int(t.loc[best_peer, key])
        more = 100 * (mine_top / peer_top - 1) if peer_top else math.inf
        share[key] = (more >= 50, f"{mine_top} vs {peer_top} ({more:+.0f} %)")
    top_ok = share["top10_seed"][0]
    line = (
        f"Best peer (final best validation accuracy): {best_peer}. hpotext_2w reaches its final "
        f"best in {100 * r:.0f} % of its time (median; target <= 50 %), test accuracy "
        f"{mine_test:.4f} vs {peer_test:.4f}: {'met' if fast else 'missed'}; top-10 trials "
        f"(target >= +50 %), per seed (each seed's runs head to head, summed over seeds) "
        f"{share['top10_seed'][1]}: {'met' if top_ok else 'missed'}; pooled over all seeds' "
        f"runs {share['top10'][1]}: {'met' if share['top10'][0] else 'missed'} (the pooled "
        "reading counts the luckiest run's neighbours; the verdict uses the per-seed one)."
    )
    return {"line": line, "ratio": r, "fast": fast, "top": top_ok,
            "top_pooled": share["top10"][0], "best_peer": best_peer}  # fmt: skip


def limits(evals: pd.DataFrame, budget: float) -> str:
    """What holds hpotext back here, from the runs themselves."""
    per_run = evals.groupby(["dataset", "variant", "seed"])
    last = per_run["t"].max().groupby("variant").median()
    epochs = per_run["trained"].sum().groupby("variant").median()
    told = per_run.size().groupby("variant").median()

    def each(values: pd.Series, fmt: str) -> str:
        return ", ".join(f"{v} {values[v]:{fmt}}" for v in VARIANTS if v in values)

    return (
        "What limits it: (1) every variant trains with the same trainer, so none is faster per "
        "epoch, and hpotext's two workers are its only throughput gain (median epochs trained "
        f"and counted per run: {each(epochs, '.0f')}); (2) every variant now records a value "
        "after every epoch (median evaluations per run: "
        f"{each(told, '.0f')}; median time of each run's last counted evaluation, s: "
        f"{each(last, '.0f')}), so what is left is the search itself: the best peer finds its "
        "final best early in the budget (its median time in the tables above), and halving "
        "that time needs a config as good within the first few epochs of the search. The "
        "default study's space (with the pretrained encoder) and budget (480 s) need a GPU to "
        "compare at this many seeds."
    )


def wall(total: float, args: argparse.Namespace) -> str:
    return (
        f"Table rewritten from {args.reuse}" if args.reuse else f"Total wall {total / 60:.1f} min"
    )


def portfolio_note(args: argparse.Namespace) -> str:
    n = getattr(args, "portfolio", 0)
    if not n:
        return ""
    return (
        f" and then {n} portfolio configs (config/portfolio.yaml: the families benchmark's tuned "
        "configs of the other datasets, each dataset's best first; the ablation without either)"
    )


def write(evals: pd.DataFrame, tests: pd.DataFrame, args: argparse.Namespace, total: float) -> None:
    stem = Path(args.out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    evals.to_parquet(stem.with_suffix(".parquet"))
    tests.to_parquet(stem.with_name(stem.name + "_tests.parquet"))
    lines = [
        "# Head to head: hpotext against Optuna, DEHB and NePS at the same budget",
        "",
        f"Machine: {machine()}. Date: {dt.date.today().isoformat()}. "
        + command("peers", args, ["datasets", "seeds", "budget", "variants", "portfolio"],
                  {"variants": list(VARIANTS), "portfolio": 0})  # fmt: skip
        + ": the from-scratch space (config/spaces/scratch.yaml, 1-9 "
        f"epochs), {args.budget:g} wall seconds per search, seeds 0..{args.seeds - 1}; hpotext "
        f"with `{args.optimizer}` (what the default study's selection picks here: the proxy "
        "cannot tell the candidates apart and proxy.fallback starts with it; the proxy stage "
        f"itself is not counted), starting at the space's prior config{portfolio_note(args)}, "
        "continuation and both stoppers on. Single-process variants ran "
        "two at a time, one torch thread each; hpotext_2w alone, two workers with one thread "
        f"each. {wall(total, args)}. Best val: the best validation accuracy recorded "
        "by then, every epoch for Optuna and hpotext (mean ± sd over seeds); test acc: each "
        "run's best evaluation (config and epochs) retrained once on the search subset, "
        "scored on the test split; joint top-10: of the 10 best (run, config) pairs over all "
        "runs of the dataset (the ablation's left out); per-seed top-10: of the 10 best of each "
        "seed's runs, summed over the seeds.",
        "",
    ]
    verdicts = []
    for name in args.datasets:
        part, tp = evals[evals.dataset == name], tests[tests.dataset == name]
        tt = times(part, args.budget)
        block, verdict = dataset_lines(name, summary(part, tp, args.budget), tt, args.budget)
        lines += block + seed_lines(part, tp, tt, args.budget, verdict["best_peer"])
        verdicts.append(verdict)
    met = all(v["fast"] and v["top"] for v in verdicts)
    lines += [
        f"**Targets** (issue 19, hpotext_2w against the best peer that ran, on every dataset): "
        f"{'met' if met else 'not met'}.",
        "",
    ]
    if not met:
        lines += ["**" + limits(evals, args.budget) + "**", ""]
    stem.with_suffix(".md").write_text("\n".join(lines))
    plot_anytime(evals, "t", args.datasets, args.budget, stem, list(VARIANTS))
    print("\n".join(lines))


def main() -> None:
    fixed_hash_seed()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=dataset_names(), default=["vader", "trec"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=90.0, help="wall seconds per search")
    parser.add_argument("--optimizer", default="optuna_tpe", help="hpotext's search optimizer")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument(
        "--portfolio",
        type=int,
        default=0,
        help="hpotext starts with this many configs of config/portfolio.yaml's other datasets",
    )
    parser.add_argument("--out", default=str(OUT), help="output stem (.md, .parquet, .png)")
    parser.add_argument("--cache", default=str(ROOT / "resources"), help="data and wheels")
    parser.add_argument("--keep", help="keep the work files here instead of a temporary folder")
    parser.add_argument(
        "--reuse",
        help="rewrite the table from this stem's .parquet and "
        "_tests.parquet (an earlier run's) without running anything",
    )
    args = parser.parse_args()
    if args.reuse:
        stem = Path(args.reuse)
        evals = pd.read_parquet(stem.with_suffix(".parquet"))
        tests = pd.read_parquet(stem.with_name(stem.name + "_tests.parquet"))
        write(evals, tests, args, math.nan)
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hpotext-peers-") as tmp:
        work = Path(args.keep or tmp)
        configs = {name: prepare(name, Path(args.cache), work / name) for name in args.datasets}
        jobs = []
        for name in args.datasets:
            for seed in range(args.seeds):
                for v in args.variants:
                    run = work / name / "runs" / f"{v}_seed{seed}"
                    run.mkdir(parents=True, exist_ok=True)
                    jobs.append(
                        {
                            "dataset": name,
                            "variant": v,
                            "seed": seed,
                            "config": configs[name],
                            "data": str(work / name / "data"),
                            "budget": args.budget,
                            "optimizer": args.optimizer,
                            "portfolio": args.portfolio,
                            "events": str(run / "events.jsonl"),
                            "store": str(run / "store"),
                            "tmp": str(run / "tmp"),
                            "workers": ["w0", "w1"] if v == "hpotext_2w" else ["w0"],
                        }
                    )
        for batch in batches(jobs):
            run_batch(batch)
            log.info(
                "done: %s", ", ".join(f"{j['dataset']} {j['variant']} {j['seed']}" for j in batch)
            )
        evals = pd.concat([evaluations(j) for j in jobs], ignore_index=True)
        best = (
            evals.dropna(subset=["val_accuracy"])
            .sort_values(["val_accuracy", "t"], ascending=[False, True])
            .groupby(["dataset", "variant", "seed"], as_index=False)
            .first()
        )
        todo = [
            {
                "config": configs[r.dataset],
                "data": str(work / r.dataset / "data"),
                "seed": r.seed,
                "best": r.config,
                "epochs": r.epochs,
            }
            for r in best.itertuples()
        ]
        with ProcessPoolExecutor(max_workers=2) as pool:
            accs = list(pool.map(retrain, todo))
        tests = best[["dataset", "variant", "seed", "config", "epochs"]].assign(test_accuracy=accs)
    write(evals, tests, args, time.perf_counter() - start)


if __name__ == "__main__":
    main()
