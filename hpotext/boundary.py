"""The tuning playbook's boundary check: is a best value at the edge of its search range?

A best value near an edge suggests the optimum may lie outside the range searched, so the
range should grow (unless the edge is a natural limit, such as a dropout of 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hpotext.space import Hyperparameter, Space

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
