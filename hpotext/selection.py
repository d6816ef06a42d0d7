"""Stage functions of the proxy and selection rules: surrogate, optimizer replays, selection.

Heavy libraries (torch, scikit-learn, the optimizers') are imported by the functions that need
them: the selection and the summary (through ``chosen_optimizer``) run without them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from hpotext import space as space_mod
from hpotext.errors import ConfigError
from hpotext.io import read_json, write_json, write_parquet
from hpotext.settings import check_optimizer

log = logging.getLogger("hpotext.selection")

POOR_SPEARMAN = 0.5  # below this rank correlation the surrogate's ordering is not trusted


def proxy_budget(table: pd.DataFrame, evaluations: float) -> float:
    """Simulated seconds worth ``evaluations`` full-fidelity proxy evaluations (median config)."""
    per_config = table.groupby("config_id")["epoch_seconds"].sum(min_count=1).dropna()
    if per_config.empty:
        raise ConfigError("the proxy table has no timed epoch; check the proxy_table log")
    return float(evaluations * per_config.median())


def fit_surrogate(
    table_path: str,
    space_path: str,
    settings: dict[str, Any],
    budget_evaluations: float,
    model_out: str,
    quality_out: str,
    cost: str = "epochs",
) -> dict[str, Any]:
    """Fit the surrogate on the proxy table; write it and its quality on held-out configs.

    ``cost`` is the unit the replays count (``hpotext.surrogate.SurrogateBenchmark``): epochs
    for a search budget in epochs or evaluations, seconds for one in seconds; the budget is
    ``budget_evaluations`` full-fidelity proxy evaluations in that unit.
    """
    from hpotext.proxy import ProxySettings, proxy_space  # torch: only the proxy's steps
    from hpotext.surrogate import Surrogate, best_true

    opts = ProxySettings.from_dict(settings)
    space = proxy_space(space_mod.load(space_path), opts)
    table = pd.read_parquet(table_path)
    surrogate = Surrogate.fit(table, space, seed=opts.seed)
    quality: dict[str, Any] = dict(surrogate.quality(seed=opts.seed))
    quality["best_true"] = best_true(surrogate, table)
    quality["cost_unit"] = cost
    quality["budget"] = (
        proxy_budget(table, budget_evaluations)
        if cost == "seconds"
        else float(budget_evaluations * space.fidelity.max)
    )
    quality["budget_evaluations"] = float(budget_evaluations)
    quality["poor"] = bool(quality["spearman"] < POOR_SPEARMAN)
    quality["warning"] = (
        f"the surrogate ranks held-out proxy configs poorly (Spearman {quality['spearman']:.2f} "
        f"< {POOR_SPEARMAN}); treat the selection with care or raise proxy.configs"
        if quality["poor"]
        else None
    )
    if quality["warning"]:
        log.warning(quality["warning"])
    surrogate.save(model_out)
    write_json(quality, quality_out)
    log.info("surrogate: Spearman %.3f, R2 %.3f", quality["spearman"], quality["r2"])
    return quality


def proxy_run(
    surrogate_path: str, quality_path: str, optimizers: list[str], seeds: list[int], out: str
) -> None:
    """Replay each optimizer on the surrogate once per seed, for the shared simulated budget.

    One job replays several optimizers: its cost is mostly the imports (torch, sklearn and
    every optimizer's library), paid once per job.
    """
    from hpotext.surrogate import Surrogate, run_optimizer  # every optimizer's library

    surrogate = Surrogate.load(surrogate_path)
    quality = read_json(quality_path)
    budget, cost = float(quality["budget"]), str(quality["cost_unit"])
    runs = []
    for optimizer in optimizers:
        for seed in seeds:
            traj = run_optimizer(optimizer, surrogate.space, surrogate, seed, budget, cost=cost)
            log.info(
                "%s seed %d: %d trials, final incumbent error %.4f",
                optimizer,
                seed,
                len(traj),
                traj["incumbent_true"].iloc[-1] if len(traj) else float("nan"),
            )
            runs.append(traj)
    write_parquet(pd.concat(runs, ignore_index=True), out)


def select_optimizer(
    run_paths: list[str],
    quality_path: str,
    out_json: str,
    out_md: str,
    curves_png: str,
    cd_png: str,
    stores: list[str] | None = None,
    on_change: str = "stop",
) -> str:
    """Compare every replay and write the selection (optimizer.json, a table, two figures).

    ``stores`` are the search folders that take this selection: one that holds a search with
    another optimizer stops the selection (``hpotext.settings.check_optimizer``) before any
    of its outputs is left behind."""
    from hpotext import compare, plots_compare  # scipy/matplotlib: only this stage needs them

    quality = read_json(quality_path)
    traj = pd.concat([pd.read_parquet(p) for p in run_paths], ignore_index=True)
    ref, budget, unit = float(quality["best_true"]), float(quality["budget"]), quality["cost_unit"]
    # the same runs in any file layout or order give the same selection, byte for byte
    traj = traj.sort_values(["optimizer", "seed", "trial"], kind="stable", ignore_index=True)
    chosen = compare.selection_report(traj, ref, budget, out_json, out_md, unit=unit)
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
    curves = compare.anytime_curves(traj, ref, budget)
    plots_compare.anytime_plot(
        curves, curves_png, title="regret on the proxy benchmark", xlabel=f"simulated {unit}"
    )
    plots_compare.cd_diagram(
        chosen.mean_ranks, chosen.cd, cd_png, title="mean rank of normalized regret AUC"
    )
    log.info("selected %s: %s", chosen.name, chosen.reason)
    return chosen.name


def chosen_optimizer(configured: str, selection_path: str | None) -> tuple[str, str]:
    """(name, reason): the configured optimizer, or the selection stage's when it is 'auto'."""
    if configured != "auto":
        return configured, "named by search.optimizer in the config (no proxy selection)"
    if not selection_path:
        raise ConfigError("search.optimizer is auto but no selection file was given")
    picked = read_json(selection_path)
    return str(picked["name"]), str(picked["reason"])
