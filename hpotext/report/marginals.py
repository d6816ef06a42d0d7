"""Marginal curves of the top hyperparameters: predicted validation error over each one's range."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hpotext.report.importance import N_TREES, cast
from hpotext.space.core import Space

log = logging.getLogger(__name__)


# --- marginals ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Marginal:
    """Predicted validation error over one hyperparameter's range, the others averaged out."""

    param: str
    grid: list[Any]  # values (numbers, or the choices of a categorical)
    mean: list[float]
    std: list[float]  # spread over the forest's trees
    observed: list[Any]  # the configs' values, for a rug
    values: list[float]  # and their validation errors
    categorical: bool = False
    log: bool = False


def _encode(
    obs: pd.DataFrame, space: Space, keys: list[str]
) -> tuple[np.ndarray, dict[str, list[int]]]:
    """Numeric columns (log scale where the space says log); categoricals one-hot."""
    by_key = space.by_key()
    columns: list[list[float]] = []
    where: dict[str, list[int]] = {}
    for key in keys:
        hp = by_key[key]
        start = len(columns)
        if hp.type == "categorical":
            for choice in hp.choices:
                columns.append([float(cast(v, hp) == choice) for v in obs[key]])
        else:
            values = obs[key].astype(float).to_numpy()
            columns.append(list(np.log(values) if hp.log else values))
        where[key] = list(range(start, len(columns)))
    return np.array(columns, dtype=float).T, where


def marginals(
    obs: pd.DataFrame, space: Space, keys: list[str], params: list[str], seed: int = 0
) -> list[Marginal]:
    """Partial dependence of a random forest fitted to the configs, for each of ``params``."""
    from sklearn.ensemble import RandomForestRegressor

    x, where = _encode(obs, space, keys)
    y = obs["value"].to_numpy(float)
    forest = RandomForestRegressor(n_estimators=N_TREES, min_samples_leaf=2, random_state=seed)
    forest.fit(x, y)
    by_key, out = space.by_key(), []
    for key in params:
        hp = by_key[key]
        if hp.type == "categorical":
            grid: list[Any] = list(hp.choices)
            codes = [[float(c == g) for c in hp.choices] for g in grid]
        else:
            lo, hi = float(hp.low or 0.0), float(hp.high or 0.0)
            grid = list(np.geomspace(lo, hi, 25) if hp.log else np.linspace(lo, hi, 25))
            codes = [[math.log(g) if hp.log else g] for g in grid]
        means, stds = [], []
        for code in codes:
            probe = x.copy()
            probe[:, where[key]] = code
            per_tree = np.array([t.predict(probe).mean() for t in forest.estimators_])
            means.append(float(per_tree.mean()))
            stds.append(float(per_tree.std()))
        observed = [cast(v, hp) for v in obs[key]]
        out.append(Marginal(key, grid, means, stds, observed, list(y), hp.type == "categorical",
                            hp.log))  # fmt: skip
    return out
