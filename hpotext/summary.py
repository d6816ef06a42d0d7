"""results/<exp>/summary.json and summary.md: what the study found, for tools and for people."""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hpotext.data import DatasetInfo
from hpotext.pipeline import write_json

METRICS = ("accuracy", "macro_f1")


def seed_stats(metric_files: Sequence[str], seeds: Sequence[int]) -> dict[str, Any]:
    """Mean, standard deviation (over seeds) and per-seed values of each test metric."""
    runs = [json.loads(Path(p).read_text()) for p in metric_files]
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


def stage_seconds(benchmark_files: Sequence[str]) -> dict[str, float]:
    """Wall seconds per stage, summed over the rule's jobs, from Snakemake ``benchmark:`` files."""
    totals: dict[str, float] = {}
    for path in benchmark_files:
        stage = re.sub(r"_seed\d+$", "", Path(path).stem)
        seconds = float(pd.read_csv(path, sep="\t")["s"].sum())
        totals[stage] = round(totals.get(stage, 0.0) + seconds, 2)
    totals["total"] = round(sum(totals.values()), 2)
    return totals


def summarize(
    experiment: str,
    info_path: str,
    subset_path: str,
    default_metrics: Sequence[str],
    seeds: Sequence[int],
    tfidf_path: str,
    benchmarks: Sequence[str],
    default_config: dict[str, Any],
    json_out: str,
    md_out: str,
) -> dict[str, Any]:
    info = DatasetInfo.from_json(info_path)
    tfidf = json.loads(Path(tfidf_path).read_text())
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
        "default_config": default_config,
        "default_config_test": seed_stats(default_metrics, seeds),
        "tfidf_baseline_test": tfidf["test"],
        "stage_seconds": stage_seconds(benchmarks),
    }
    write_json(summary, json_out)
    Path(md_out).write_text(to_markdown(summary))
    return summary


def _pm(stats: dict[str, Any], metric: str) -> str:
    return f"{stats[metric]['mean']:.4f} ± {stats[metric]['std']:.4f}"


def to_markdown(summary: dict[str, Any]) -> str:
    ds, test, ref = (
        summary["dataset"],
        summary["default_config_test"],
        summary["tfidf_baseline_test"],
    )
    n = len(test["seeds"])
    beats = test["accuracy"]["mean"] > ref["accuracy"]
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
        "| model | accuracy | macro-F1 |",
        "| --- | --- | --- |",
        f"| default config (mean ± std over {n} seeds) | {_pm(test, 'accuracy')} "
        f"| {_pm(test, 'macro_f1')} |",
        f"| TF-IDF + logistic regression | {ref['accuracy']:.4f} | {ref['macro_f1']:.4f} |",
        "",
        f"The default config {'beats' if beats else 'does not beat'} the TF-IDF reference "
        "on mean test accuracy.",
        "",
        "## Default config",
        "",
        "```json",
        json.dumps(summary["default_config"], indent=2),
        "```",
        "",
        "## Compute per stage (wall seconds)",
        "",
        "| stage | seconds |",
        "| --- | --- |",
        *[f"| {k} | {v:.1f} |" for k, v in summary["stage_seconds"].items()],
        "",
    ]
    return "\n".join(lines)
