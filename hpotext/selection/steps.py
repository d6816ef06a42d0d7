"""The selection stage's steps: select the optimizer from the replays, and the live check of the
proxy's ordering (one validate_run per optimizer and seed, then validate_proxy).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from hpotext.errors import ConfigError, NoResultError
from hpotext.io import read_json, write_json, write_parquet, write_text
from hpotext.search.settings import check_optimizer
from hpotext.search.store import TrialStore
from hpotext.selection.validate import agreement, live_trajectory, to_markdown

log = logging.getLogger(__name__)


def select_optimizer(
    run_paths: list[str],
    quality_path: str,
    out_json: str,
    out_md: str,
    curves_png: str,
    cd_png: str,
    stores: list[str] | None = None,
    on_change: str = "stop",
    fallback: list[str] | None = None,
) -> str:
    """Compare every replay and write the selection (optimizer.json, a table, two figures);
    ``fallback`` decides among the candidates the proxy cannot tell apart
    (``hpotext.selection.rule.select``).

    ``stores`` are the search folders that take this selection: one that holds a search with
    another optimizer stops the selection (``hpotext.search.settings.check_optimizer``) before any
    of its outputs is left behind."""
    from hpotext.report.plots import selection as plots_compare
    from hpotext.selection.rule import selection_report
    from hpotext.selection.stats import anytime_curves

    quality = read_json(quality_path)
    traj = pd.concat([pd.read_parquet(p) for p in run_paths], ignore_index=True)
    ref, budget, unit = float(quality["best_true"]), float(quality["budget"]), quality["cost_unit"]
    # the same runs in any file layout or order give the same selection, byte for byte
    traj = traj.sort_values(["optimizer", "seed", "trial"], kind="stable", ignore_index=True)
    chosen = selection_report(
        traj, ref, budget, out_json, out_md, unit=unit, quality=quality, fallback=fallback or ()
    )
    try:
        check_optimizer(list(stores or []), chosen.name, on_change)
    except ConfigError:
        for path in (out_json, out_md):
            Path(path).unlink(missing_ok=True)
        raise
    report = read_json(out_json)
    report["surrogate_quality"] = {k: v for k, v in quality.items() if k != "warning"}
    report["warning"] = quality.get("warning")
    write_json(report, out_json)
    if quality.get("warning"):
        with open(out_md, "a") as fh:
            fh.write(f"\n**Warning:** {quality['warning']}.\n")
    curves = anytime_curves(traj, ref, budget)
    plots_compare.anytime_plot(
        curves, curves_png, title="regret on the proxy benchmark", xlabel=f"simulated {unit}"
    )
    plots_compare.cd_diagram(
        chosen.mean_ranks, chosen.cd, cd_png, title="mean rank of normalized regret AUC"
    )
    log.info("selected %s: %s", chosen.name, chosen.reason)
    return chosen.name


def validate_run(out: str, **search: Any) -> None:
    """One live search (``hpotext.search.steps.search`` keyword arguments), then its trajectory.

    The run's store survives a killed job, so a rerun continues the search instead of
    restarting it.
    """
    from hpotext.search.steps import search as search_worker

    store_dir = search["store_dir"]
    search_worker(**search, done_out=str(Path(store_dir) / "done.json"))
    optimizer, seed = search["optimizer"], int(search["seed"])
    traj = live_trajectory(TrialStore(store_dir).trials(), optimizer, seed)
    if traj["incumbent_true"].isna().all():
        raise NoResultError(
            f"no live trial of {optimizer} (seed {seed}) succeeded; see the validate_run log "
            "or raise proxy.validate_budget"
        )
    write_parquet(traj, out)


def validate_proxy(
    selection_path: str, run_paths: list[str], budget: float, out_json: str, out_md: str
) -> dict[str, Any]:
    """Write validation.json and validation.md from the selection and the live runs."""
    proxy = read_json(selection_path)
    traj = pd.concat([pd.read_parquet(p) for p in run_paths], ignore_index=True)
    report = agreement(proxy, traj, budget)
    if report["warning"]:
        log.warning(report["warning"])
    write_json(report, out_json)
    write_text(out_md, to_markdown(report))
    return report
