"""Steps of the report stage: the importance analysis and the search figures."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from hpotext import boundary
from hpotext import importance as imp
from hpotext import space as space_mod
from hpotext.io import read_json, write_json

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
    from hpotext.plots_importance import importance_bars, marginal_plots

    trials = pd.read_parquet(trials_path)
    space = space_mod.load(space_path)
    config = imp.Settings(**settings)
    fidelity, obs, notes = imp.choose_fidelity(trials, space, config.min_trials)
    records, info = imp.analyse_observations(obs, fidelity, notes, space, config)
    for warning in info["warnings"]:
        log.warning("%s", warning)
    frame = imp.to_frame(records)
    frame.to_parquet(table_out, index=False)
    importance_bars(frame, bars_out)
    top = [row["param"] for row in info.get("top", [])[:TOP_MARGINALS]]
    items: list[imp.Marginal] = []
    if top:
        items = imp.marginals(obs, space, info["scopes"][imp.ALL], top, seed=config.seed)
    title = f"marginals of the top hyperparameters at {info['fidelity']} epochs"
    marginal_plots(items, marginals_out, title=title)
    info["backend"] = config.backend
    info["interactions"] = [
        {"params": list(r.params), "importance": r.importance, "backend": r.backend}
        for r in sorted(records, key=lambda r: -r.importance)
        if r.scope == imp.ALL and len(r.params) == 2
    ]
    write_json(info, json_out)
    return info


def boundary_positions(trials: pd.DataFrame, space: space_mod.Space) -> pd.DataFrame:
    """Position of every finished top-fidelity trial's numeric values in their ranges."""
    ok = trials[trials.status.isin(["completed", "stopped"]) & trials.objective.notna()]
    ok = ok[ok.fidelity == ok.fidelity.max()] if len(ok) else ok
    rows = []
    for hp in space.hyperparameters:
        column = f"config.{hp.key}"
        if not boundary.ranged(hp) or column not in ok:
            continue
        for value, objective in zip(ok[column], ok["objective"], strict=True):
            if pd.notna(value):
                rows.append({"param": hp.key, "position": boundary.position(hp, float(value)),
                             "accuracy": 1.0 - float(objective)})  # fmt: skip
    return pd.DataFrame(rows, columns=["param", "position", "accuracy"])


def search_figures(
    trials_path: str,
    space_path: str,
    incumbent_path: str,
    trace_out: str,
    curves_out: str,
    boundary_out: str,
) -> None:
    """Search progress, every trial's learning curve, and the boundary check."""
    from hpotext import plots

    trials = pd.read_parquet(trials_path)
    space = space_mod.load(space_path)
    best = read_json(incumbent_path)["config"]
    plots.search_trace(trials, trace_out, title="search: every trial and the incumbent")
    plots.trial_curves(trials, curves_out, title="learning curves of every search trial")
    positions = boundary.positions(space, best)
    flagged = boundary.near_edges(space, best)
    at_edge = ", ".join(e.param for e in flagged) + " at an edge" if flagged else ""
    title = "boundary check: " + (at_edge or "no best value at an edge")
    plots.boundary(boundary_positions(trials, space), positions, boundary.MARGIN, boundary_out,
                   title=title)  # fmt: skip
