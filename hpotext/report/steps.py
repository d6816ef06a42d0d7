"""The report stage's steps: hyperparameter importance, the figures, and the study's summary
(results/<exp>/summary.json and summary.md: what the study found, for tools and for people)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hpotext import space as space_mod
from hpotext.data.info import DatasetInfo
from hpotext.io import read_json, write_json, write_text
from hpotext.report.boundary import MARGIN, boundary_positions, near_edges, positions
from hpotext.report.importance import (
    ALL,
    Settings,
    analyse_observations,
    choose_fidelity,
    to_frame,
)
from hpotext.report.marginals import Marginal, marginals
from hpotext.report.render import to_html, to_markdown
from hpotext.report.stats import (
    METRICS,
    best_epoch_warnings,
    compare,
    data_warnings,
    jobs_of,
    proxy_share,
    proxy_wall_share,
    search_stats,
    seed_stats,
    stage_seconds,
    subset_warnings,
)
from hpotext.schema import checked
from hpotext.selection.rule import optimizer_choice

log = logging.getLogger(__name__)


TOP_MARGINALS = 3


def importance(
    trials_path: str,
    space_path: str,
    settings: dict[str, Any],
    table_out: str,
    json_out: str,
    bars_out: str,
    marginals_out: str,
) -> dict[str, Any]:
    """importance.parquet (every value), importance.json (summary), bars and marginals."""
    from hpotext.report.plots.importance import importance_bars, marginal_plots

    trials = pd.read_parquet(trials_path)
    space = space_mod.load(space_path)
    config = Settings(**checked("importance", settings))
    fidelity, obs, notes = choose_fidelity(trials, space, config.min_trials)
    records, info = analyse_observations(obs, fidelity, notes, space, config)
    for warning in info["warnings"]:
        log.warning("%s", warning)
    frame = to_frame(records)
    frame.to_parquet(table_out, index=False)
    importance_bars(frame, bars_out)
    top = [row["param"] for row in info.get("top", [])[:TOP_MARGINALS]]
    items: list[Marginal] = []
    if top:
        items = marginals(obs, space, info["scopes"][ALL], top, seed=config.seed)
    title = f"marginals of the top hyperparameters at {info['fidelity']} epochs"
    marginal_plots(items, marginals_out, title=title)
    info["backend"] = config.backend
    info["interactions"] = [
        {"params": list(r.params), "importance": r.importance, "backend": r.backend}
        for r in sorted(records, key=lambda r: -r.importance)
        if r.scope == ALL and len(r.params) == 2
    ]
    write_json(info, json_out)
    return info


def search_plots(
    trials_path: str,
    space_path: str,
    incumbent_path: str,
    trace_out: str,
    curves_out: str,
    boundary_out: str,
) -> None:
    """Search progress, every trial's learning curve, and the boundary check."""
    from hpotext.report.plots.search import boundary, search_trace, trial_curves

    trials = pd.read_parquet(trials_path)
    space = space_mod.load(space_path)
    best = read_json(incumbent_path)["config"]
    search_trace(trials, trace_out, title="search: every trial and the incumbent")
    trial_curves(trials, curves_out, title="learning curves of every search trial")
    where = positions(space, best)
    flagged = near_edges(space, best)
    at_edge = ", ".join(e.param for e in flagged) + " at an edge" if flagged else ""
    title = "boundary check: " + (at_edge or "no best value at an edge")
    boundary(boundary_positions(trials, space), where, MARGIN, boundary_out, title=title)


def plots(
    curve_paths: list[str],
    metric_paths: list[str],
    curves_out: str,
    confusion_out: str,
    label: str = "default config",
) -> None:
    """Learning curves of every seed; the confusion matrix summed over seeds."""
    from hpotext.report.plots.final import confusion, learning_curves

    curves = pd.concat([pd.read_parquet(p) for p in curve_paths], ignore_index=True)
    learning_curves(curves, curves_out, title=f"{label}: learning curves per seed")
    runs = [read_json(p) for p in metric_paths]
    total = np.sum([np.asarray(r["confusion"]) for r in runs], axis=0)
    confusion(
        total,
        runs[0]["classes"],
        confusion_out,
        title=f"{label}: test confusion, summed over {len(runs)} seeds",
    )


def summary(
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
    ensemble_paths: Sequence[str] = (),
    choice_path: str | None = None,
    min_per_class: int = 0,
) -> dict[str, Any]:
    info = DatasetInfo.from_json(info_path)
    subset = pd.read_parquet(subset_path)
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
            "search_subset_rows": len(subset),
            "dropped_rows": info.dropped.rows_in - info.dropped.rows_out,
        },
        "selected_optimizer": optimizer_choice(optimizer, selection_path),
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
            *subset_warnings(subset, min_per_class),
            *best_epoch_warnings([c for c in curve_files if "/tuned/" in c], "tuned"),
            *best_epoch_warnings([c for c in curve_files if "/default/" in c], "default"),
        ],
        "stage_seconds": stage_seconds(jobs),
    }
    for path in ensemble_paths:
        found = read_json(path)
        if found["variant"] == "ensemble":
            summary["top_k_ensemble"] = {k: found[k] for k in ("weights", "rounds", "val", "test")}
        else:
            summary.setdefault("seed_ensemble", {})[found["variant"]] = found["test"]
    if choice_path:
        summary["bundle"] = read_json(choice_path)
    summary["proxy_share"] = proxy_share(summary["stage_seconds"])
    summary["proxy_wall_share"] = proxy_wall_share(jobs)
    if selection_path:
        warning = read_json(selection_path).get("warning")
        summary["warnings"] += [f"optimizer selection: {warning}"] if warning else []
    if validation_path:
        check = read_json(validation_path)
        keys = ("spearman", "spearman_ci95", "selected", "live_best", "selected_live_rank",
                "selected_live_place", "selected_in_live_top2", "seeds",
                "live_split_half")  # fmt: skip
        summary["proxy_validation"] = {k: check.get(k) for k in keys}
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
        from hpotext.report.plots.summary import stage_compute

        per_stage = {k: v for k, v in summary["stage_seconds"].items() if k != "total"}
        stage_compute(per_stage, compute_out, title="compute per stage (wall seconds of its jobs)")
    return summary
