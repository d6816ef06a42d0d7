"""Optimizer adapters behind one Protocol (``base.Optimizer``), looked up by name."""

from __future__ import annotations

import importlib
from typing import Any

from hpotext.errors import ConfigError
from hpotext.optimizers.base import Optimizer
from hpotext.optimizers.records import Result, Suggestion, Trial
from hpotext.space.core import Space

__all__ = [
    "OPTIMIZERS",
    "TAKES_INITIAL",
    "Optimizer",
    "Result",
    "Suggestion",
    "Trial",
    "make_optimizer",
]

# name -> "module:Class"; modules are imported on use (dehb, neps and optuna are slow imports).
OPTIMIZERS: dict[str, str] = {
    "random": "hpotext.optimizers.random_search:RandomSearch",
    "successive_halving": "hpotext.optimizers.halving:SuccessiveHalving",
    "hyperband": "hpotext.optimizers.halving:Hyperband",
    "asha": "hpotext.optimizers.halving:ASHA",
    "rush": "hpotext.optimizers.rush:RUSH",
    "dehb": "hpotext.optimizers.dehb_adapter:DEHBOptimizer",
    "priorband": "hpotext.optimizers.neps_adapter:PriorBandOptimizer",
    "optuna_tpe": "hpotext.optimizers.optuna_adapter:OptunaTPE",
}

# Optimizers with an ``initial`` option (configs asked first: the portfolio initial design).
# DEHB and PriorBand sample inside their libraries, which take no list of configs to start from.
TAKES_INITIAL = frozenset(OPTIMIZERS) - {"dehb", "priorband"}


def make_optimizer(name: str, space: Space, seed: int, **options: Any) -> Optimizer:
    """Build the adapter called ``name`` over ``space`` with a seed."""
    if name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    module, cls = OPTIMIZERS[name].split(":")
    factory = getattr(importlib.import_module(module), cls)
    optimizer: Optimizer = factory(space, seed, **options)
    return optimizer
