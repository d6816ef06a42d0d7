"""Optimizer runs simulated on the proxy's surrogate: a benchmark that answers a config at a
fidelity with the surrogate's prediction, and the replay of one optimizer over one seed.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from hpotext.errors import ConfigError
from hpotext.io import canonical_json
from hpotext.optimizers import make_optimizer
from hpotext.optimizers.records import Result, Suggestion
from hpotext.proxy.surrogate import Surrogate, check_table
from hpotext.proxy.trajectory import TRAJECTORY, Incumbent, better_incumbent
from hpotext.space.core import Space

# Columns of a run_optimizer trajectory, in order (hpotext.selection.stats reads these).


# --- the simulated benchmark ---------------------------------------------------------------------
COST_UNITS = ("epochs", "seconds")


class SurrogateBenchmark:
    """Evaluates suggestions on a surrogate with noise fixed per (seed, config, epoch).

    ``noise=False`` observes the forest's mean instead (a noise-free ablation). ``cost`` is what
    a trial costs: ``epochs`` trained (the unit of an epochs or evaluations budget; a function of
    the table's errors only) or predicted ``seconds`` (from the table's measured epoch times,
    which differ from one build of the table to the next).
    """

    def __init__(
        self,
        surrogate: Surrogate,
        space: Space,
        seed: int,
        noise: bool = True,
        cost: str = "epochs",
    ) -> None:
        if cost not in COST_UNITS:
            raise ConfigError(
                f"replay cost {cost!r} is unknown; use one of {', '.join(COST_UNITS)}"
            )
        if space.fidelity.max > surrogate.max_epoch:
            raise ConfigError(
                f"the space's fidelity goes to {space.fidelity.max} epochs but the surrogate "
                f"only knows epochs up to {surrogate.max_epoch}; simulate on the proxy space "
                "(hpotext.proxy.settings.proxy_space) the table was built with"
            )
        self.surrogate, self.space, self.seed = surrogate, space, int(seed)
        self.noise, self.cost = noise, cost

    def _rng(self, config: dict[str, Any], epoch: int) -> np.random.Generator:
        text = json.dumps([self.seed, canonical_json(config), int(epoch)])
        return np.random.default_rng(int(hashlib.sha256(text.encode()).hexdigest()[:16], 16))

    def observed(self, config: dict[str, Any], epoch: int) -> float:
        """The (noisy, but repeatable) validation error of ``config`` after ``epoch`` epochs."""
        if not self.noise:
            return self.surrogate.predict(config, epoch)[0]
        return self.surrogate.error(config, epoch, self._rng(config, epoch))

    def evaluate(self, suggestion: Suggestion, start_epoch: int) -> Result:
        """Train ``suggestion`` from ``start_epoch`` (0: from scratch) to its fidelity."""
        fidelity = int(suggestion.fidelity)
        start = min(max(0, int(start_epoch)), fidelity)
        config = suggestion.config
        curve = tuple(self.observed(config, e) for e in range(1, fidelity + 1))
        per_epoch = self.surrogate.epoch_seconds(config) if self.cost == "seconds" else 1.0
        return Result(
            objective=curve[-1],
            cost=per_epoch * (fidelity - start),
            epochs_trained=fidelity - start,
            curve=curve,
            metrics={"accuracy": 1.0 - curve[-1]},
        )

    def true_error(self, config: dict[str, Any]) -> float:
        """Noise-free predicted error at the proxy's maximum fidelity."""
        return self.surrogate.true_error(config)


def run_optimizer(
    name: str,
    space: Space,
    surrogate: Surrogate,
    seed: int,
    budget: float,
    max_trials: int = 100_000,
    noise: bool = True,
    cost: str = "epochs",
    options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Simulate optimizer ``name`` (one worker, built with ``options``) until it has spent
    ``budget`` (in ``cost`` units: simulated epochs or seconds, as ``SurrogateBenchmark`` counts
    them).

    A suggestion continues its parent, or else the highest-fidelity earlier trial of the same
    config below its fidelity, and pays only the missing epochs. One row per trial, in order:
    optimizer, seed, trial, fidelity, epochs_trained, cost (cumulative), objective,
    incumbent_trial, incumbent_true (the noise-free error of the trial with the best observed
    objective at the highest fidelity reached so far; it can rise when a noisy observation or a
    new, higher fidelity changes the incumbent), config (JSON). ``noise`` as in
    ``SurrogateBenchmark``; ``max_trials`` guards against optimizers that never spend.
    """
    if not budget > 0:
        raise ConfigError(f"the replay budget is {budget!r}; give a positive number")
    bench = SurrogateBenchmark(surrogate, space, seed, noise, cost)
    optimizer = make_optimizer(name, space, seed, **(options or {}))
    fidelity_of: dict[int, int] = {}
    seen: dict[str, list[int]] = {}  # canonical config -> fidelities tried
    best: Incumbent | None = None
    config_of: dict[int, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    spent = 0.0
    while spent < budget and len(rows) < max_trials:
        s = optimizer.ask()
        if s is None:  # one worker: nothing is pending, so nothing will ever come
            break
        key = canonical_json(s.config)
        if s.parent is not None and s.parent in fidelity_of:
            start = fidelity_of[s.parent]
        else:
            start = max((f for f in seen.get(key, []) if f < s.fidelity), default=0)
        result = bench.evaluate(s, start)
        optimizer.tell(s, result)
        spent += result.cost
        fidelity_of[s.trial_id] = s.fidelity
        seen.setdefault(key, []).append(s.fidelity)
        config_of[s.trial_id] = s.config
        if result.ok and math.isfinite(result.objective):
            best = better_incumbent(best, (s.fidelity, result.objective, s.trial_id))
        rows.append(
            {
                "optimizer": name,
                "seed": int(seed),
                "trial": s.trial_id,
                "fidelity": s.fidelity,
                "epochs_trained": result.epochs_trained,
                "cost": spent,
                "objective": result.objective,
                "incumbent_trial": best[2] if best else -1,
                "incumbent_true": bench.true_error(config_of[best[2]]) if best else math.nan,
                "config": key,
            }
        )
    return pd.DataFrame(rows, columns=list(TRAJECTORY))


def best_true(surrogate: Surrogate, table: pd.DataFrame) -> float:
    """The lowest noise-free error over the table's configs: the reference for regret."""
    configs = pd.unique(check_table(table).config)
    return min(surrogate.true_error(json.loads(c)) for c in configs)
