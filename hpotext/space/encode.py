"""Hyperparameter values on the unit interval (and back), and a config as a feature vector."""

from __future__ import annotations

import json
import math
from typing import Any

from hpotext.errors import ConfigError
from hpotext.io import plain
from hpotext.space.core import Hyperparameter, Space


def _bounds(hp: Hyperparameter) -> tuple[float, float]:
    """The numeric range mapped onto [0, 1]; an int's range is widened by 0.5 on each side so
    every integer gets an equal share of the unit interval (on the log scale when ``log``)."""
    assert hp.low is not None and hp.high is not None
    pad = 0.5 if hp.type == "int" else 0.0
    low, high = float(hp.low) - pad, float(hp.high) + pad
    if hp.log:
        return math.log(max(low, 1e-12)), math.log(high)
    return low, high


def choice_index(hp: Hyperparameter, value: Any) -> int:
    """Position of ``value`` among a categorical's choices (lists match tuples, as in JSON)."""
    text = json.dumps(plain(value))
    for i, choice in enumerate(hp.choices):
        if json.dumps(plain(choice)) == text:
            return i
    raise ConfigError(
        f"value {value!r} of '{hp.key}' is not among its choices {list(hp.choices)}; "
        "build the table and the surrogate from the same search space"
    )


def to_unit(hp: Hyperparameter, value: Any) -> float:
    """``value`` of a numeric hyperparameter in [0, 1] (a categorical: its slot's centre)."""
    if hp.type == "categorical":
        return (choice_index(hp, value) + 0.5) / len(hp.choices)
    low, high = _bounds(hp)
    x = math.log(max(float(value), 1e-12)) if hp.log else float(value)
    return min(1.0, max(0.0, (x - low) / (high - low)))


def from_unit(hp: Hyperparameter, u: float) -> Any:
    """The value at ``u`` in [0, 1]: inverse of ``to_unit``, always inside the hyperparameter."""
    u = min(1.0, max(0.0, float(u)))
    if hp.type == "categorical":
        return hp.choices[min(len(hp.choices) - 1, int(u * len(hp.choices)))]
    assert hp.low is not None and hp.high is not None
    low, high = _bounds(hp)
    x = low + u * (high - low)
    value = math.exp(x) if hp.log else x
    if hp.type == "int":
        return int(min(hp.high, max(hp.low, round(value))))
    return float(min(hp.high, max(hp.low, value)))


def features(space: Space, config: dict[str, Any]) -> list[float]:
    """The feature vector of ``config`` (without the epoch); inactive entries are -1."""
    row: list[float] = []
    for hp in space.hyperparameters:
        present = hp.key in config and config[hp.key] is not None
        if hp.type == "categorical":
            onehot = [-1.0] * len(hp.choices)
            if present:
                onehot = [0.0] * len(hp.choices)
                onehot[choice_index(hp, config[hp.key])] = 1.0
            row.extend(onehot)
        else:
            row.append(to_unit(hp, config[hp.key]) if present else -1.0)
    return row
