"""Compare HPO optimizers replayed on a proxy benchmark over many seeds, and select one.

Input is a trajectory table, one row per finished trial of one optimizer run (a run is one
``(optimizer, seed)`` pair): ``optimizer``, ``seed``, ``cost`` (cumulative simulated epochs or
seconds after the trial) and ``incumbent_true`` (true error of the run's incumbent after the trial).
Definitions used throughout:

* **Regret** at cost ``t`` is ``incumbent_true`` of the last trial with ``cost <= t`` minus
  ``best_true``, clipped at 0 (a step function, right-continuous). Rows whose
  ``incumbent_true`` is NaN (no incumbent yet) leave the regret unchanged. Trials at equal cost
  are applied in row order. Incumbents need not improve monotonically.
* **Initial regret** (the value before a run's first trial finishes) is the same for every run:
  the worst ``incumbent_true`` any run had after its first trial, minus ``best_true``. A shared
  constant keeps "nothing found yet" equally bad for all optimizers and never better than
  anything an optimizer actually found first.
* **Normalized AUC** is the exact area under the regret step function over ``[0, budget]``
  divided by ``budget * scale``; ``scale`` is the initial regret, or the largest regret any run
  reached within the budget if an incumbent got truly worse than that, so AUC is in [0, 1]
  (lower is better). The scale is common to all runs, so ranks and tests do not depend on it.
* **Target** for time-to-target defaults to the median over all runs of the final regret (the
  regret at ``budget``), so about half of the runs reach it; runs that never reach it get
  ``time_to_target = budget`` and ``reached = False`` (regret <= target allows 1e-12 relative
  float noise).
* **Ranks** treat seeds as blocks: within a seed, optimizers are ranked by a metric (lower is
  rank 1, ties get average ranks); seeds missing any optimizer are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from hpotext.errors import ConfigError
from hpotext.io import write_json, write_text

COLUMNS = ("optimizer", "seed", "cost", "incumbent_true")

# Nemenyi critical values q_alpha (studentized range / sqrt 2), Demšar (2006), Table 5.
Q_NEMENYI: dict[float, dict[int, float]] = {
    0.05: {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102,
           10: 3.164},
    0.10: {2: 1.645, 3: 2.052, 4: 2.291, 5: 2.459, 6: 2.589, 7: 2.693, 8: 2.780, 9: 2.855,
           10: 2.920},
}  # fmt: skip


@dataclass
class Selection:
    """The chosen optimizer, why, and the statistics behind the choice."""

    name: str
    reason: str
    mean_ranks: dict[str, float]
    mean_auc: dict[str, float]
    friedman: dict[str, Any]
    cd: float
    tied_with: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- regret curves and metrics


def _check(traj: pd.DataFrame, budget: float) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in traj.columns]
    if missing:
        raise ConfigError(
            f"trajectory table lacks column(s) {', '.join(missing)}; "
            f"give it columns {', '.join(COLUMNS)}"
        )
    if traj.empty:
        raise ConfigError("trajectory table has no rows; replay at least one optimizer run")
    if not (math.isfinite(budget) and budget > 0):
        raise ConfigError(f"budget {budget!r} is not a positive cost; fix it")
    if traj["cost"].isna().any():
        raise ConfigError("trajectory column cost has missing values; give every trial a cost")
    return traj.dropna(subset=["incumbent_true"])


def _runs(traj: pd.DataFrame) -> list[tuple[str, int, pd.DataFrame]]:
    """One cost-sorted frame per (optimizer, seed), in sorted order."""
    out = []
    for (opt, seed), run in traj.groupby(["optimizer", "seed"], sort=True):
        out.append((str(opt), int(seed), run.sort_values("cost", kind="stable")))
    return out


def initial_regret(traj: pd.DataFrame, best_true: float) -> float:
    """Worst ``incumbent_true`` of any run after its first trial, minus ``best_true`` (>= 0)."""
    firsts = [float(run["incumbent_true"].iloc[0]) for _, _, run in _runs(traj) if len(run)]
    if not firsts:
        raise ConfigError("trajectory table has no incumbent_true values; replay the runs again")
    return max(max(firsts) - best_true, 0.0)


def _steps(run_df: pd.DataFrame, best_true: float) -> tuple[np.ndarray, np.ndarray]:
    run = run_df.dropna(subset=["incumbent_true"]).sort_values("cost", kind="stable")
    costs = run["cost"].to_numpy(float)
    regrets = np.maximum(run["incumbent_true"].to_numpy(float) - best_true, 0.0)
    return costs, regrets


def regret_curve(
    run_df: pd.DataFrame, grid: np.ndarray, best_true: float, initial: float
) -> np.ndarray:
    """Regret of one run at each cost in ``grid`` (step function; ``initial`` before trial 1)."""
    costs, regrets = _steps(run_df, best_true)
    idx = np.searchsorted(costs, np.asarray(grid, float), side="right") - 1
    values = np.concatenate([[max(initial, 0.0)], regrets])
    return values[idx + 1]


def _area(costs: np.ndarray, regrets: np.ndarray, budget: float, initial: float) -> float:
    """Exact integral of the regret step function over [0, budget]."""
    keep = costs <= budget
    edges = np.concatenate([[0.0], np.maximum(costs[keep], 0.0), [budget]])
    values = np.concatenate([[initial], regrets[keep]])
    return float(np.sum(values * np.diff(edges)))


def anytime_curves(
    traj: pd.DataFrame, best_true: float, budget: float, points: int = 100
) -> pd.DataFrame:
    """Mean regret over seeds on ``points`` equally spaced costs in [0, budget], with a 95 %
    t-interval over seeds (``low``/``high`` are NaN with a single seed)."""
    traj = _check(traj, budget)
    initial = initial_regret(traj, best_true)
    grid = np.linspace(0.0, budget, max(int(points), 2))
    curves: dict[str, list[np.ndarray]] = {}
    for opt, _, run in _runs(traj):
        curves.setdefault(opt, []).append(regret_curve(run, grid, best_true, initial))
    frames = []
    for opt, rows in curves.items():
        values, n = np.vstack(rows), len(rows)
        mean, half = values.mean(axis=0), np.full(len(grid), np.nan)
        if n > 1:
            half = stats.t.ppf(0.975, n - 1) * values.std(axis=0, ddof=1) / math.sqrt(n)
        frame = {"optimizer": opt, "cost": grid, "mean": mean, "low": mean - half,
                 "high": mean + half, "n_seeds": n}  # fmt: skip
        frames.append(pd.DataFrame(frame))
    return pd.concat(frames, ignore_index=True)


def run_metrics(
    traj: pd.DataFrame, best_true: float, budget: float, target: float | None = None
) -> pd.DataFrame:
    """One row per (optimizer, seed): auc, final_regret, time_to_target, reached, target."""
    traj = _check(traj, budget)
    initial = initial_regret(traj, best_true)
    runs = [(opt, seed, *_steps(run, best_true)) for opt, seed, run in _runs(traj)]
    within = [r[c <= budget] for *_, c, r in runs]
    scale = max([initial] + [float(r.max()) for r in within if len(r)])
    finals = [_regret_at(c, r, budget, initial) for *_, c, r in runs]
    target = float(np.median(finals)) if target is None else float(target)
    rows = []
    for (opt, seed, costs, regrets), final in zip(runs, finals, strict=True):
        area = _area(costs, regrets, budget, initial)
        hit = _time_to_target(costs, regrets, budget, initial, target)
        rows.append({"optimizer": opt, "seed": seed, "final_regret": final,
                     "auc": area / (budget * scale) if scale > 0 else 0.0,
                     "time_to_target": budget if hit is None else hit,
                     "reached": hit is not None, "target": target})  # fmt: skip
    out = pd.DataFrame(rows)
    return out[["optimizer", "seed", "auc", "final_regret", "time_to_target", "reached", "target"]]


def _regret_at(costs: np.ndarray, regrets: np.ndarray, t: float, initial: float) -> float:
    """Regret at cost ``t`` from a run's sorted trial costs and per-trial regrets."""
    i = int(np.searchsorted(costs, t, side="right")) - 1
    return float(initial if i < 0 else regrets[i])


def _time_to_target(
    costs: np.ndarray, regrets: np.ndarray, budget: float, initial: float, target: float
) -> float | None:
    target += 1e-12 * max(1.0, abs(target))  # float noise, e.g. a median of two regrets
    if initial <= target:
        return 0.0
    hit = np.flatnonzero((regrets <= target) & (costs <= budget))
    return float(max(costs[hit[0]], 0.0)) if len(hit) else None


# ---------------------------------------------------------------- ranks and tests


def _blocks(metrics: pd.DataFrame, column: str) -> pd.DataFrame:
    """Seeds x optimizers table of ``column``, keeping only seeds that have every optimizer."""
    if column not in metrics.columns:
        raise ConfigError(f"metrics table lacks column {column!r}; use one of its columns")
    table = metrics.pivot_table(index="seed", columns="optimizer", values=column, aggfunc="mean")
    table = table.dropna(axis=0, how="any").sort_index(axis=1)
    if table.empty:
        raise ConfigError(
            f"no seed has a {column} value for every optimizer; replay all optimizers on a "
            "common set of seeds"
        )
    return table


def ranks(metrics: pd.DataFrame, column: str) -> pd.DataFrame:
    """Average rank per optimizer over seeds (rank 1 = lowest ``column``, ties averaged).

    Columns: optimizer, mean_rank, n_blocks; sorted best first (then by name)."""
    table = _blocks(metrics, column)
    mean = table.rank(axis=1, method="average").mean(axis=0)
    out = pd.DataFrame(
        {"optimizer": mean.index.astype(str), "mean_rank": mean.to_numpy(float),
         "n_blocks": len(table)}
    )  # fmt: skip
    return out.sort_values(["mean_rank", "optimizer"], kind="stable").reset_index(drop=True)


def ranks_at_budgets(
    traj: pd.DataFrame,
    best_true: float,
    budget: float,
    fractions: Sequence[float] = (0.25, 0.5, 1.0),
) -> pd.DataFrame:
    """Average rank of the regret at ``fraction * budget``: optimizer, fraction, cost,
    mean_rank, n_blocks."""
    traj = _check(traj, budget)
    initial = initial_regret(traj, best_true)
    runs = [(opt, seed, *_steps(run, best_true)) for opt, seed, run in _runs(traj)]
    frames = []
    for frac in fractions:
        cost = float(frac) * budget
        regret = [
            {"optimizer": o, "seed": s, "regret": _regret_at(c, r, cost, initial)}
            for o, s, c, r in runs
        ]
        ranked = ranks(pd.DataFrame(regret), "regret")
        ranked.insert(1, "fraction", float(frac))
        ranked.insert(2, "cost", cost)
        frames.append(ranked)
    return pd.concat(frames, ignore_index=True)


def friedman(metrics: pd.DataFrame, column: str = "auc") -> dict[str, Any]:
    """Friedman test over seeds (blocks) and optimizers (treatments).

    Returns statistic, p_value, n_blocks, k and reason (None when the test ran). With fewer
    than 3 optimizers or 2 complete seeds p_value is None; if every seed ties all optimizers
    the statistic is 0 and p_value 1 (scipy would divide by zero)."""
    table = _blocks(metrics, column)
    n, k = table.shape
    out: dict[str, Any] = {"statistic": None, "p_value": None, "n_blocks": n, "k": k}
    if k < 3:
        return {**out, "reason": f"the Friedman test needs at least 3 optimizers, got {k}"}
    if n < 2:
        return {**out, "reason": f"the Friedman test needs at least 2 complete seeds, got {n}"}
    values = table.to_numpy(float)
    if np.all(values == values[:, :1]):
        return {**out, "statistic": 0.0, "p_value": 1.0,
                "reason": "all optimizers tie on every seed"}  # fmt: skip
    res = stats.friedmanchisquare(*values.T)
    return {**out, "statistic": float(res.statistic), "p_value": float(res.pvalue), "reason": None}


def critical_difference(k: int, n: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of mean ranks: q_alpha * sqrt(k (k + 1) / (6 n))."""
    table = Q_NEMENYI.get(alpha)
    if table is None:
        raise ConfigError(f"Nemenyi alpha {alpha} has no table; use 0.05 or 0.10")
    if k not in table:
        raise ConfigError(f"Nemenyi table covers 2 to 10 optimizers, got {k}; compare 2 to 10")
    if n < 1:
        raise ConfigError(f"critical difference needs at least one seed, got {n}; add seeds")
    return table[k] * math.sqrt(k * (k + 1) / (6.0 * n))


# ---------------------------------------------------------------- selection and report


def select(metrics: pd.DataFrame) -> Selection:
    """Pick the optimizer with the best mean rank on normalized AUC (ties: lower mean AUC, then
    name) and say whether it is significantly better than the runner-up (Nemenyi + Friedman)."""
    table = _blocks(metrics, "auc")
    n, k = table.shape
    rank = ranks(metrics, "auc").set_index("optimizer")["mean_rank"]
    auc = table.mean(axis=0)
    order = sorted(auc.index.astype(str), key=lambda o: (rank[o], auc[o], o))
    mean_ranks = {o: float(rank[o]) for o in order}
    mean_auc = {o: float(auc[o]) for o in order}
    test = friedman(metrics, "auc")
    win = order[0]
    head = (
        f"{win} has the best mean rank on normalized AUC ({mean_ranks[win]:.2f} of {k}, "
        f"mean AUC {mean_auc[win]:.3f}, {n} seed{'s' * (n != 1)})"
    )
    if k == 1:
        return Selection(win, f"{head} and was the only optimizer compared.", mean_ranks,
                         mean_auc, test, float("nan"), [])  # fmt: skip
    cd = critical_difference(k, n)
    tied = [o for o in order[1:] if mean_ranks[o] - mean_ranks[win] <= cd]
    second = order[1]
    if mean_ranks[second] == mean_ranks[win] and mean_auc[second] != mean_auc[win]:
        head += f", tied on rank with {second} but lower in mean AUC"
    elif mean_ranks[second] == mean_ranks[win]:
        head += f", tied with {second} on rank and mean AUC and first by name"
    gap = mean_ranks[second] - mean_ranks[win]
    p = test["p_value"]
    p_text = f"Friedman p = {p:.3g}" if p is not None else f"no Friedman test as {test['reason']}"
    if p is not None and p < 0.05 and gap > cd:
        tail = (
            f"significantly better than the runner-up {second} (mean rank "
            f"{mean_ranks[second]:.2f}, difference {gap:.2f} > CD {cd:.2f}, {p_text})"
        )
    else:
        others = tied if p is not None and p < 0.05 else order[1:]
        if gap <= cd:
            why = f"rank difference to {second} {gap:.2f} <= CD {cd:.2f}"
        else:
            why = f"rank difference to {second} {gap:.2f} > CD {cd:.2f} but Friedman not < 0.05"
        tail = f"not significantly different from {', '.join(others)} ({why}; {p_text})"
    return Selection(win, f"{head}; it is {tail}.", mean_ranks, mean_auc, test, cd, tied)


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _stat(values: pd.Series) -> dict[str, float]:
    std = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
    return {"mean": float(values.mean()), "std": std}


def selection_report(
    traj: pd.DataFrame,
    best_true: float,
    budget: float,
    out_json: str | Path,
    out_md: str | Path,
    unit: str = "epochs",
) -> Selection:
    """Compute every statistic, select an optimizer, write ``out_json`` and ``out_md``
    (``unit``: what ``cost`` and ``budget`` count, simulated epochs or seconds)."""
    metrics = run_metrics(traj, best_true, budget)
    chosen = select(metrics)
    at_budgets = ranks_at_budgets(traj, best_true, budget)
    per_opt: dict[str, Any] = {}
    for opt, part in metrics.groupby("optimizer", sort=True):
        per_opt[str(opt)] = {
            "n_seeds": len(part),
            "auc": _stat(part["auc"]),
            "final_regret": _stat(part["final_regret"]),
            "time_to_target": _stat(part["time_to_target"]),
            "reached_fraction": float(part["reached"].mean()),
        }
    budgets = {
        f"{frac:g}": dict(zip(part["optimizer"], part["mean_rank"].astype(float), strict=True))
        for frac, part in at_budgets.groupby("fraction", sort=True)
    }
    report = {
        **asdict(chosen),
        "budget": float(budget),
        "cost_unit": unit,
        "best_true": float(best_true),
        "initial_regret": initial_regret(_check(traj, budget), best_true),
        "target": float(metrics["target"].iloc[0]),
        "optimizers": per_opt,
        "ranks_at_budgets": budgets,
        "definitions": {
            "regret": "incumbent_true at the last trial with cost <= t minus best_true, >= 0",
            "initial_regret": "worst incumbent_true of any run after its first trial - best_true",
            "auc": "exact area under the regret step function over [0, budget] / "
            "(budget * initial_regret, or the worst regret reached if larger); lower is better",
            "target": "median over all runs of the final regret; time_to_target = budget if "
            "never reached",
            "ranks": "seeds are blocks, rank 1 = lowest value, ties get average ranks",
            "significance": "rank difference > Nemenyi CD (alpha 0.05) and Friedman p < 0.05",
        },
    }
    Path(out_json).parent.mkdir(parents=True, exist_ok=True)
    write_json(_clean(report), out_json, allow_nan=False)
    Path(out_md).parent.mkdir(parents=True, exist_ok=True)
    write_text(out_md, _markdown(report))
    return chosen


def _pm(stat: dict[str, float], digits: int) -> str:
    std = stat["std"]
    return f"{stat['mean']:.{digits}f}" + ("" if math.isnan(std) else f" ± {std:.{digits}f}")


def _markdown(report: dict[str, Any]) -> str:
    ranks_at, test = report["ranks_at_budgets"], report["friedman"]
    head = ["optimizer", "mean rank (AUC)", "AUC", "final regret", "time to target (s)",
            "reached"] + [f"rank @ {float(f):.0%} budget" for f in ranks_at]  # fmt: skip
    lines = [f"# Optimizer comparison\n\n**Selected: {report['name']}.** {report['reason']}\n",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]  # fmt: skip
    for opt, rank in report["mean_ranks"].items():
        row = report["optimizers"][opt]
        cells = [opt, f"{rank:.2f}", _pm(row["auc"], 3), _pm(row["final_regret"], 4),
                 _pm(row["time_to_target"], 1), f"{row['reached_fraction']:.0%}"]  # fmt: skip
        cells += [f"{at.get(opt, float('nan')):.2f}" for at in ranks_at.values()]
        lines.append("| " + " | ".join(cells) + " |")
    stat = "n/a" if test["statistic"] is None else f"{test['statistic']:.3f}"
    p = "n/a" if test["p_value"] is None else f"{test['p_value']:.3g}"
    note = f"; {test['reason']}" if test["reason"] else ""
    lines += [
        f"\nFriedman chi² = {stat}, p = {p} (k = {test['k']} optimizers, {test['n_blocks']} "
        f"seeds{note}). Nemenyi critical difference (alpha 0.05) = {report['cd']:.3f}.",
        f"Budget {report['budget']:g} simulated {report.get('cost_unit', 'seconds')}; "
        f"initial regret {report['initial_regret']:.4g}; "
        f"time-to-target target regret {report['target']:.4g}.\n",
        "Definitions: " + "; ".join(f"*{k}*: {v}" for k, v in report["definitions"].items()),
        "",
    ]
    return "\n".join(lines)
