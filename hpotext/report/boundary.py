"""The boundary check: where the best config sits in each range, and which values are at an edge."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from hpotext import space as space_mod
from hpotext.report import boundary
from hpotext.space.core import Hyperparameter, Space


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


MARGIN = 0.05  # of the (log-)range at each end


@dataclass(frozen=True)
class Edge:
    param: str
    value: float
    low: float
    high: float
    position: float  # 0 at low, 1 at high (on the log scale for log hyperparameters)
    side: str  # "lower" | "upper"

    def warning(self) -> str:
        return (
            f"best {self.param} = {self.value:.4g} lies at the {self.side} edge of its range "
            f"[{self.low:g}, {self.high:g}]; widen the range unless that edge is a natural limit"
        )


def position(hp: Hyperparameter, value: float) -> float:
    """Where ``value`` lies in ``hp``'s range: 0 at low, 1 at high (log scale when log)."""
    lo, hi = float(hp.low or 0.0), float(hp.high or 0.0)
    if hi == lo:
        return 0.5
    if hp.log:
        return (math.log(value) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return (value - lo) / (hi - lo)


def ranged(hp: Hyperparameter) -> bool:
    """A numeric hyperparameter with a range to be at the edge of."""
    return hp.type != "categorical" and hp.low != hp.high


def positions(space: Space, config: dict[str, Any]) -> dict[str, float]:
    """Where each ranged hyperparameter of ``config`` lies in its range (see ``position``)."""
    return {
        hp.key: position(hp, float(config[hp.key]))
        for hp in space.active(config)
        if ranged(hp) and hp.key in config
    }


def near_edges(space: Space, config: dict[str, Any], margin: float = MARGIN) -> list[Edge]:
    """The numeric hyperparameters of ``config`` within ``margin`` of an edge of their range."""
    by_key, out = space.by_key(), []
    for key, p in positions(space, config).items():
        if p <= margin or p >= 1 - margin:
            hp = by_key[key]
            side = "lower" if p <= margin else "upper"
            out.append(Edge(key, float(config[key]), float(hp.low or 0.0), float(hp.high or 0.0),
                            p, side))  # fmt: skip
    return out
