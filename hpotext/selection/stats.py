"""Comparing HPO optimizers replayed over many seeds: anytime regret, its area, ranks per seed,
the Friedman test and the Nemenyi critical difference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from hpotext.errors import ConfigError

COLUMNS = ("optimizer", "seed", "cost", "incumbent_true")
# Nemenyi critical values q_alpha (studentized range / sqrt 2), Demšar (2006), Table 5.
Q_NEMENYI: dict[float, dict[int, float]] = {
    0.05: {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102,
           10: 3.164},
    0.10: {2: 1.645, 3: 2.052, 4: 2.291, 5: 2.459, 6: 2.589, 7: 2.693, 8: 2.780, 9: 2.855,
           10: 2.920},
}  # fmt: skip


def check(traj: pd.DataFrame, budget: float) -> pd.DataFrame:
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
    traj = check(traj, budget)
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
    traj = check(traj, budget)
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


def metric_blocks(metrics: pd.DataFrame, column: str) -> pd.DataFrame:
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
    table = metric_blocks(metrics, column)
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
    traj = check(traj, budget)
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
    table = metric_blocks(metrics, column)
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


def mean_std(values: pd.Series) -> dict[str, float]:
    std = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
    return {"mean": float(values.mean()), "std": std}
