"""results/<exp>/summary.json and summary.md: what the study found, for tools and for people."""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from hpotext import space as space_mod
from hpotext.boundary import near_edges
from hpotext.data import DatasetInfo
from hpotext.io import read_json, write_json, write_text
from hpotext.selection import chosen_optimizer

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
    return re.sub(r"(_(tuned|default))?(_seed\d+|_w\d+|_shard\d+)$", "", stem)


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


def summarize(
    experiment: str,
    info_path: str,
    subset_path: str,
    tuned_metrics: Sequence[str],
    default_metrics: Sequence[str],
    seeds: Sequence[int],
    tfidf_path: str,
    trials_path: str,
    incumbent_path: str,
    default_config_path: str,
    curve_files: Sequence[str],
    benchmarks: Sequence[str],
    optimizer: str,
    json_out: str,
    md_out: str,
    selection_path: str | None = None,
    validation_path: str | None = None,
    space_path: str | None = None,
    importance_path: str | None = None,
    html_out: str | None = None,
    compute_out: str | None = None,
) -> dict[str, Any]:
    info = DatasetInfo.from_json(info_path)
    jobs = jobs_of(benchmarks)
    tfidf = read_json(tfidf_path)
    tuned, default = seed_stats(tuned_metrics, seeds), seed_stats(default_metrics, seeds)
    summary: dict[str, Any] = {
        "experiment": experiment,
        "dataset": {
            "name": info.name,
            "rows": info.rows,
            "classes": info.classes,
            "splits": info.split_sizes,
            "search_subset_rows": len(pd.read_parquet(subset_path)),
            "dropped_rows": info.dropped.rows_in - info.dropped.rows_out,
        },
        "selected_optimizer": dict(
            zip(("name", "reason"), chosen_optimizer(optimizer, selection_path), strict=True)
        ),
        "best_config": read_json(incumbent_path)["config"],
        "default_config": read_json(default_config_path)["config"],
        "test": tuned,
        "default_config_test": default,
        "tfidf_baseline_test": tfidf["test"],
        "tuned_vs_default": {
            m: compare(list(tuned[m]["per_seed"].values()), list(default[m]["per_seed"].values()))
            for m in METRICS
        },
        "search": search_stats(trials_path, incumbent_path),
        "warnings": [
            *data_warnings(info),
            *best_epoch_warnings([c for c in curve_files if "/tuned/" in c], "tuned"),
            *best_epoch_warnings([c for c in curve_files if "/default/" in c], "default"),
        ],
        "stage_seconds": stage_seconds(jobs),
    }
    summary["proxy_share"] = proxy_share(summary["stage_seconds"])
    summary["proxy_wall_share"] = proxy_wall_share(jobs)
    if selection_path:
        warning = read_json(selection_path).get("warning")
        summary["warnings"] += [f"optimizer selection: {warning}"] if warning else []
    if validation_path:
        check = read_json(validation_path)
        keys = ("spearman", "selected", "live_best", "selected_live_rank", "seeds")
        summary["proxy_validation"] = {k: check[k] for k in keys}
        summary["warnings"] += [f"proxy validation: {check['warning']}"] if check["warning"] else []
    if importance_path:
        found = read_json(importance_path)
        summary["importance"] = {
            k: found.get(k) for k in ("backend", "fidelity", "n_configs", "top", "interactions")
        }
        summary["warnings"] += found["warnings"]
    if space_path:
        edges = near_edges(space_mod.load(space_path), summary["best_config"])
        summary["boundary"] = [e.__dict__ for e in edges]
        summary["warnings"] += [e.warning() for e in edges]
    if not summary["tuned_vs_default"]["accuracy"]["significant"]:
        summary["warnings"].append(
            "the tuned config does not beat the default (prior) config beyond seed noise; "
            "search longer, widen the space or question the priors"
        )
    write_json(summary, json_out)
    markdown = to_markdown(summary)
    write_text(md_out, markdown)
    if html_out:
        write_text(html_out, to_html(markdown, f"hpotext study {experiment}"))
    if compute_out:
        from hpotext.plots import stage_compute

        per_stage = {k: v for k, v in summary["stage_seconds"].items() if k != "total"}
        stage_compute(per_stage, compute_out, title="compute per stage (wall seconds of its jobs)")
    return summary


def to_html(markdown_text: str, title: str) -> str:
    """summary.md as a self-contained HTML page (for the Snakemake report)."""
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code"])
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}"
        "pre{background:#f4f4f4;padding:.6em}"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title>"
        f"<style>{style}</style></head><body>{body}</body></html>"
    )


def _pm(stats: dict[str, Any], metric: str) -> str:
    return f"{stats[metric]['mean']:.4f} ± {stats[metric]['std']:.4f}"


def verdict(summary: dict[str, Any]) -> list[str]:
    """Plain sentences: did the tuned config beat the default and the TF-IDF reference?"""
    tuned, default = summary["test"]["accuracy"]["mean"], summary["default_config_test"]
    ref = summary["tfidf_baseline_test"]["accuracy"]
    cmp = summary["tuned_vs_default"]["accuracy"]
    lines = []
    if tuned > default["accuracy"]["mean"] and tuned > ref:
        lines.append(
            "**Goal reached:** the tuned config beats both the default config and the "
            "TF-IDF reference on mean test accuracy."
        )
    else:
        missed = [
            n
            for n, v in (
                ("the default config", default["accuracy"]["mean"]),
                ("the TF-IDF reference", ref),
            )
            if tuned <= v
        ]
        lines.append(
            f"**Goal not reached:** the tuned config does not beat {' or '.join(missed)} "
            "on mean test accuracy."
        )
    if cmp["ci95"] is not None:
        lines.append(
            f"Tuned minus default: {cmp['mean_difference']:+.4f} accuracy (bootstrap 95 % CI "
            f"[{cmp['ci95'][0]:+.4f}, {cmp['ci95'][1]:+.4f}], one-sided Welch p = "
            f"{cmp['welch_p_one_sided']:.3f}): "
            + ("better beyond seed noise." if cmp["significant"] else "not beyond seed noise.")
        )
    return lines


def to_markdown(summary: dict[str, Any]) -> str:
    ds, test, default = summary["dataset"], summary["test"], summary["default_config_test"]
    ref, search = summary["tfidf_baseline_test"], summary["search"]
    n = len(test["seeds"])
    lines = [
        f"# hpotext study `{summary['experiment']}`",
        "",
        f"Dataset **{ds['name']}**: {ds['rows']} rows, {len(ds['classes'])} classes "
        f"({', '.join(ds['classes'][:10])}{', …' if len(ds['classes']) > 10 else ''}); "
        f"splits {ds['splits']}; search subset {ds['search_subset_rows']} rows; "
        f"{ds['dropped_rows']} rows dropped while cleaning.",
        "",
        "## Test scores",
        "",
        f"Mean ± std over {n} seeds (each retrained on the full train split, best epoch on val).",
        "",
        "| model | accuracy | macro-F1 |",
        "| --- | --- | --- |",
        f"| tuned config | {_pm(test, 'accuracy')} | {_pm(test, 'macro_f1')} |",
        f"| default (prior) config | {_pm(default, 'accuracy')} | {_pm(default, 'macro_f1')} |",
        f"| TF-IDF + logistic regression | {ref['accuracy']:.4f} | {ref['macro_f1']:.4f} |",
        "",
        *verdict(summary),
        "",
        "## Search",
        "",
        f"Optimizer **{summary['selected_optimizer']['name']}**: "
        f"{summary['selected_optimizer']['reason'].rstrip('.')}.",
        "",
        f"{search['trials']} trials "
        f"({search['completed']} completed, {search['stopped_early']} stopped early, "
        f"{search['failed']} failed), {search['epochs_trained']} epochs, "
        f"{search['cost_seconds']:.0f} s of training; best validation accuracy "
        f"{search['best_val']:.4f} (trial {search['best_trial']}, "
        f"{search['best_fidelity']} epochs).",
        "",
        "Best config:",
        "",
        "```json",
        json.dumps(summary["best_config"], indent=2),
        "```",
        "",
        "Default (prior) config:",
        "",
        "```json",
        json.dumps(summary["default_config"], indent=2),
        "```",
        "",
    ]
    lines += importance_lines(summary.get("importance"))
    if summary["warnings"]:
        lines += ["## Warnings", "", *[f"- {w}" for w in summary["warnings"]], ""]
    lines += [
        "## Compute per stage (wall seconds)",
        "",
        "| stage | seconds |",
        "| --- | --- |",
        *[f"| {k} | {v:.1f} |" for k, v in summary["stage_seconds"].items()],
        "",
        f"Choosing the optimizer on the proxy took {100 * summary['proxy_share']:.1f} % of the "
        f"study's compute and {100 * summary['proxy_wall_share']:.1f} % of its wall-clock time.",
        "",
    ]
    check = summary.get("proxy_validation")
    if check:
        rho = "undefined" if check["spearman"] is None else f"{check['spearman']:.2f}"
        lines[lines.index("Best config:") : lines.index("Best config:")] = [
            f"Proxy check (live runs, {len(check['seeds'])} seeds per optimizer): Spearman "
            f"{rho} between the proxy's and the live ranking; live best {check['live_best']}, "
            f"the selected {check['selected']} ranked {check['selected_live_rank']:.2f}.",
            "",
        ]
    return "\n".join(lines)


def importance_lines(found: dict[str, Any] | None) -> list[str]:
    """The "What mattered" section: fANOVA main effects and the strongest interactions."""
    if not found:
        return []
    lines = ["## What mattered", ""]
    if not found.get("top"):
        return [*lines, "Too few trials for an importance analysis.", ""]
    lines += [
        f"fANOVA ({found['backend']}) over {found['n_configs']} configs at "
        f"{found['fidelity']} epochs: the share of the variance in validation error that each "
        "hyperparameter explains on its own.",
        "",
        "| hyperparameter | fraction of variance | spread over trees |",
        "| --- | --- | --- |",
        *[f"| {r['param']} | {r['importance']:.3f} | ± {r['std']:.3f} |" for r in found["top"]],
        "",
    ]
    pairs = [p for p in found.get("interactions") or [] if p["importance"] > 0][:3]
    if pairs:
        lines += [
            "Strongest interactions: "
            + "; ".join(f"{' x '.join(p['params'])} {p['importance']:.3f}" for p in pairs)
            + ".",
            "",
        ]
    return lines
