"""Random search, and the small base class the built-in optimizers share.

``AskTellBase`` holds what every built-in optimizer needs for the journal contract of
``base.Optimizer``: a seeded generator, trial ids counted from 0 in ask order, ``replay`` that
re-asks and checks the journal, and a ``tell`` that ignores duplicate results (the trial store
ignores them too) and rejects results for trials this optimizer never handed out.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hpotext.errors import ConfigError
from hpotext.optimizers.base import check_replay
from hpotext.optimizers.records import Result, Suggestion
from hpotext.space.core import Space


class AskTellBase:
    """Seed, trial ids, replay and tell bookkeeping shared by the built-in optimizers.

    Subclasses implement ``_next()`` (the next suggestion or None; it must not change any state
    when it returns None) and ``_record(trial_id, objective)`` (a result arrived, first time
    only). The fidelity range and ``eta`` live in the search space; the one option is
    ``prior_fraction``: the share of new configs drawn around the space's priors instead of
    uniformly (ASHA-Prior and friends of the priors paper, seed 002; 0 by default);
    ``initial``: configs of the space that are the first new configs, in order (a portfolio
    initial design, hpotext/space/portfolio.py). Any other option is a mistake and raises
    ConfigError.
    """

    name = "base"
    option_names: tuple[str, ...] = ("prior_fraction", "initial")

    def __init__(
        self,
        space: Space,
        seed: int,
        prior_fraction: float = 0.0,
        initial: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
        **options: Any,
    ) -> None:
        if options:
            raise ConfigError(
                f"optimizer '{self.name}' takes only the options {', '.join(self.option_names)}, "
                f"got {sorted(options)}; set the fidelity range and eta in the search space "
                "instead"
            )
        try:
            fraction = float(prior_fraction)  # --config may hand it over as a string
        except (TypeError, ValueError):
            fraction = math.nan
        if not 0.0 <= fraction <= 1.0:
            raise ConfigError(
                f"optimizer option prior_fraction must lie in [0, 1], got {prior_fraction!r}"
            )
        prior_fraction = fraction
        self.prior_fraction = float(prior_fraction)
        for i, config in enumerate(initial):
            try:
                space.validate(config)
            except ConfigError as err:
                raise ConfigError(f"optimizer '{self.name}': initial config {i}: {err}") from None
        self._initial = [dict(c) for c in initial]
        self.space = space
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self._next_id = 0
        self._told: set[int] = set()

    # --- the Optimizer protocol ----------------------------------------------------------------
    def ask(self) -> Suggestion | None:
        """The next trial to run, or None if it must wait for a pending trial's result."""
        return self._next()

    def replay(self, suggestion: Suggestion) -> None:
        """Re-ask and check the journal's recorded ``suggestion`` is what this optimizer asks."""
        check_replay(self.name, suggestion, self.ask(), info_keys=None)

    def tell(self, suggestion: Suggestion, result: Result) -> None:
        """Record ``result`` for ``suggestion`` (matched by trial id; a second tell is ignored)."""
        trial_id = suggestion.trial_id
        if not 0 <= trial_id < self._next_id:
            raise ValueError(
                f"optimizer '{self.name}' never suggested trial {trial_id} "
                f"(it has suggested trials 0..{self._next_id - 1})"
            )
        if trial_id in self._told:
            return
        self._told.add(trial_id)
        objective = float(result.objective)
        if objective != objective:  # NaN should never arrive; rank it as a failure
            objective = float("inf")
        self._record(trial_id, objective)

    # --- for subclasses ------------------------------------------------------------------------
    def _new_config(self) -> dict[str, Any]:
        """A fresh config: around the priors with probability ``prior_fraction``, else uniform.

        With ``prior_fraction`` 0 the generator is used exactly as before the option existed, so
        older journals replay unchanged. The ``initial`` configs come first, without drawing.
        """
        if self._initial:
            return self._initial.pop(0)
        if self.prior_fraction > 0.0 and self.rng.random() < self.prior_fraction:
            from hpotext.space.priors import sample_around_prior

            return sample_around_prior(self.space, self.rng)
        return self.space.sample(self.rng)

    def _suggest(
        self, config: dict[str, Any], fidelity: int, parent: int | None, info: dict[str, Any]
    ) -> Suggestion:
        """Hand out the next trial id for ``config`` at ``fidelity``."""
        suggestion = Suggestion(self._next_id, dict(config), int(fidelity), parent, info)
        self._next_id += 1
        return suggestion

    def _next(self) -> Suggestion | None:
        raise NotImplementedError

    def _record(self, trial_id: int, objective: float) -> None:
        """A first result for ``trial_id`` (objective: finite, or inf for a failure)."""


class RandomSearch(AskTellBase):
    """Uniformly random configs, each trained at the maximum fidelity from scratch."""

    name = "random"

    def _next(self) -> Suggestion:
        return self._suggest(self._new_config(), self.space.fidelity.max, None, {})

    def ask(self) -> Suggestion:
        """A fresh random config at full fidelity (never None)."""
        return self._next()
