"""The numbers of a study's summary: per-seed statistics, tuned against default, compute per
stage, warnings.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from hpotext.data.info import DatasetInfo
from hpotext.io import read_json

METRICS = ("accuracy", "macro_f1")


def seed_stats(metric_files: Sequence[str], seeds: Sequence[int]) -> dict[str, Any]:
    """Mean, standard deviation (over seeds) and per-seed values of each test metric."""
    runs = [read_json(p) for p in metric_files]
    out: dict[str, Any] = {"seeds": list(seeds)}
    for metric in METRICS:
        values = [float(r[metric]) for r in runs]
        out[metric] = {
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "per_seed": dict(zip([str(s) for s in seeds], values, strict=True)),
        }
    out["best_epoch"] = dict(zip([str(s) for s in seeds], [r["epoch"] for r in runs], strict=True))
    return out


def stage_of(benchmark_file: str) -> str:
    """The stage a ``benchmark:`` file belongs to: its rule name without job wildcards."""
    stem = re.sub(r"^(proxy_run|validate_run)_.*$", r"\1", Path(benchmark_file).stem)
    return re.sub(r"(_(tuned|default|runner\d+))?(_seed\d+|_w\d+|_shard\d+)$", "", stem)


class Job(NamedTuple):
    """One job of the study, from its ``benchmark:`` file."""

    stage: str
    seconds: float  # wall seconds the job ran
    end: float  # Snakemake writes the file when the job ends: its mtime

    @property
    def start(self) -> float:
        return self.end - self.seconds


def jobs_of(benchmark_files: Sequence[str]) -> list[Job]:
    """Read every benchmark file once: its stage, wall seconds and end time."""
    return [
        Job(stage_of(p), float(pd.read_csv(p, sep="\t")["s"].sum()), Path(p).stat().st_mtime)
        for p in benchmark_files
    ]


def stage_seconds(jobs: Sequence[Job]) -> dict[str, float]:
    """Wall seconds per stage, summed over the rule's jobs."""
    totals: dict[str, float] = {}
    for job in jobs:
        totals[job.stage] = round(totals.get(job.stage, 0.0) + job.seconds, 2)
    totals["total"] = round(sum(totals.values()), 2)
    return totals


PROXY_STAGES = ("proxy_table", "proxy_surrogate", "proxy_run", "select_optimizer")


def proxy_share(seconds: dict[str, float]) -> float:
    """The share of the study's compute (summed job seconds) spent choosing the optimizer."""
    proxy = sum(seconds.get(stage, 0.0) for stage in PROXY_STAGES)
    return round(proxy / seconds["total"], 4) if seconds.get("total") else 0.0


def proxy_wall_share(jobs: Sequence[Job]) -> float:
    """The proxy stage's share of the study's wall-clock time: from its first job's start to
    the selection's end (the search waits for it), over the span of every job of the study
    except fetch (cached across studies). Spans both runs after a partial rerun."""
    study = [j for j in jobs if j.stage != "fetch"]
    proxy = [j for j in study if j.stage in PROXY_STAGES]
    if not proxy:
        return 0.0
    total = max(j.end for j in study) - min(j.start for j in study)
    span = max(j.end for j in proxy) - min(j.start for j in proxy)
    return round(span / total, 4) if total > 0 else 0.0


def welch_p(a: np.ndarray, b: np.ndarray, alternative: str = "two-sided") -> float:
    """Welch's t-test p-value of ``a`` against ``b``; 1 when neither side varies (nothing to
    tell apart), NaN with fewer than two values on a side."""
    if len(a) < 2 or len(b) < 2:
        return math.nan
    if np.ptp(np.concatenate([a, b])) == 0:
        return 1.0
    p = float(stats.ttest_ind(a, b, equal_var=False, alternative=alternative).pvalue)
    return 1.0 if math.isnan(p) else p  # zero variance on both sides


def compare(tuned: Sequence[float], default: Sequence[float], seed: int = 0) -> dict[str, Any]:
    """Does tuned beat default beyond seed noise? Welch's t-test and a bootstrap 95 % CI.

    "Beyond seed noise" means a positive mean difference whose bootstrap CI excludes zero and
    whose one-sided Welch p-value is below 0.05 (both need at least two seeds per side).
    """
    a, b = np.asarray(tuned, float), np.asarray(default, float)
    diff = float(a.mean() - b.mean())
    out: dict[str, Any] = {"mean_difference": diff, "welch_p_one_sided": None, "ci95": None}
    if len(a) < 2 or len(b) < 2:
        out["significant"] = False
        return out
    p = welch_p(a, b, alternative="greater")
    rng = np.random.default_rng(seed)
    boots = rng.choice(a, (5000, len(a))).mean(1) - rng.choice(b, (5000, len(b))).mean(1)
    low, high = (float(v) for v in np.quantile(boots, [0.025, 0.975]))
    out.update(
        welch_p_one_sided=p, ci95=[low, high], significant=bool(diff > 0 and low > 0 and p < 0.05)
    )
    return out


def best_epoch_warnings(curve_files: Sequence[str], label: str) -> list[str]:
    """Tuning-playbook check: a best epoch in the first or last 20 % of training is suspicious."""
    warnings = []
    for path in curve_files:
        curve = pd.read_parquet(path)
        epochs, best = int(curve["epoch"].max()), int(curve.loc[curve["best"], "epoch"].iloc[0])
        seed = int(curve["seed"].iloc[0])
        if epochs >= 5 and best > math.ceil(0.8 * epochs):
            warnings.append(
                f"{label} seed {seed}: best epoch {best} of {epochs} is in the last "
                "20 %; more epochs (a higher max fidelity) would likely help"
            )
        elif epochs >= 5 and best <= math.floor(0.2 * epochs):
            warnings.append(
                f"{label} seed {seed}: best epoch {best} of {epochs} is in the first "
                "20 %; it overfits early (regularise more, lower the learning rate)"
            )
    return warnings


def data_warnings(info: DatasetInfo) -> list[str]:
    """The prepare step's warnings about the data (texts cut, small splits, many <unk> tokens)."""
    return [f"data: {w}" for w in info.warnings]


def subset_warnings(subset: pd.DataFrame, min_per_class: int) -> list[str]:
    """Classes the search subset has fewer than ``min_per_class`` examples of (all their train
    rows, since data.search_min_per_class raises the fraction up to that)."""
    counts = subset["label"].astype(str).value_counts()
    small = counts[counts < min_per_class].sort_values()
    if not len(small):
        return []
    shown = ", ".join(f"'{c}' ({n})" for c, n in list(small.items())[:5])
    return [
        f"the search subset has fewer than {min_per_class} examples of {len(small)} class(es) "
        f"({shown}{', ...' if len(small) > 5 else ''}): configs ranked on so few may not win on "
        "the full data; add examples of those classes"
    ]


def search_stats(trials_path: str, incumbent_path: str) -> dict[str, Any]:
    trials = pd.read_parquet(trials_path)
    best = read_json(incumbent_path)
    status = trials["status"].value_counts().to_dict()
    return {
        "optimizer": best["optimizer"],
        "trials": len(trials),
        "completed": int(status.get("completed", 0)),
        "stopped_early": int(status.get("stopped", 0)),
        "failed": int(status.get("failed", 0) + status.get("diverged", 0)),
        "epochs_trained": int(trials["epochs_trained"].sum()),
        "cost_seconds": round(float(trials["cost_seconds"].sum()), 1),
        "best_val": best["val_accuracy"],
        "best_trial": best["trial_id"],
        "best_fidelity": best["fidelity"],
    }
