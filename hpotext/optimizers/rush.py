"""RUSH: successive halving or Hyperband warm-started by earlier tasks' incumbents (seed 003).

Zappella, Salinas and Archambeau, "A resource-efficient method for repeated HPO and NAS
problems": when a model is tuned again on a related task, the best configurations of the earlier
tasks (the *hurdles*) are evaluated first, and a new configuration is promoted at a rung only if
it is at least as good as the best hurdle there. Configurations that cannot beat what already
worked stop at the lowest rungs, so fewer of them reach the expensive ones.

Here the hurdle phase comes first: every hurdle at the lowest rung, then the best surviving one
continued rung by rung to the top (the paper promotes the best-ranked hurdle only), which gives
the threshold of every rung and leaves the hurdle's full-fidelity result among the trials (an
old incumbent can win again). Then the base optimizer runs its brackets; a stage promotes its
best ``1/eta`` as usual, minus every config worse than the threshold of its rung. A stage whose
configs are all worse promotes none and ends its bracket. Without hurdles (the first task of a
sequence) RUSH is its base optimizer, trial for trial.
"""

from __future__ import annotations

import math
from typing import Any

from hpotext.errors import ConfigError
from hpotext.io import canonical_json
from hpotext.optimizers.halving import SuccessiveHalving, hyperband_s
from hpotext.optimizers.records import Suggestion
from hpotext.space.core import Space

BASES = ("hyperband", "successive_halving")


class RUSH(SuccessiveHalving):
    """RUSH over Hyperband (``base: hyperband``, the default) or successive halving.

    Options: ``hurdles``, a list of configs of this space (earlier tasks' incumbents, duplicates
    dropped, order kept); ``base``; ``prior_fraction`` as for the other built-ins. ``info`` is
    ``{"bracket": b, "rung": r}`` as for the base, and ``{"bracket": -1, "rung": r, "hurdle":
    i}`` for the hurdle phase (i indexes ``hurdles``).
    """

    name = "rush"
    option_names = ("hurdles", "base", "prior_fraction", "initial")

    def __init__(
        self,
        space: Space,
        seed: int,
        hurdles: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
        base: str = "hyperband",
        **options: Any,
    ) -> None:
        super().__init__(space, seed, **options)
        if base not in BASES:
            raise ConfigError(
                f"optimizer rush: option base must be one of {', '.join(BASES)}, got {base!r}"
            )
        self.base = base
        if not isinstance(hurdles, list | tuple):
            raise ConfigError(
                f"optimizer rush: option hurdles must be a list of configs, got {hurdles!r}"
            )
        unique: dict[str, dict[str, Any]] = {}
        for i, config in enumerate(hurdles):
            if not isinstance(config, dict):
                raise ConfigError(
                    f"optimizer rush: hurdles[{i}] must be a config (a mapping), got {config!r}"
                )
            try:
                space.validate(config)
            except ConfigError as err:
                raise ConfigError(
                    f"optimizer rush: hurdles[{i}] is not a config of this search space ({err}); "
                    "earlier tasks must search the same space"
                ) from None
            unique.setdefault(canonical_json(config), dict(config))
        self.hurdles = list(unique.values())
        self.thresholds: dict[int, float] = {}  # rung index -> the best hurdle's objective
        self._hurdle_rung = 0
        self._hurdle_members: list[int] = []
        # still to ask in the hurdle phase: an index into self.hurdles (new) or a trial id
        # to continue, tagged so that the two cannot be confused
        self._hurdle_todo: list[tuple[str, int]] = [("new", i) for i in range(len(self.hurdles))]
        self._hurdle_of: dict[int, int] = {}  # trial id -> hurdle index
        self._hurdles_done = not self.hurdles

    def bracket_s(self, bracket: int) -> int:
        if self.base == "hyperband":
            return hyperband_s(self.smax, bracket)
        return super().bracket_s(bracket)

    def _next(self) -> Suggestion | None:
        if not self._hurdles_done:
            suggestion = self._next_hurdle()
            if suggestion is not None or not self._hurdles_done:
                return suggestion
        return super()._next()

    def _next_hurdle(self) -> Suggestion | None:
        """The next hurdle trial, None while a hurdle result is pending (or the phase ended)."""
        while not self._hurdle_todo:
            if any(t not in self._objective for t in self._hurdle_members):
                return None
            ranked = self._ranked(self._hurdle_members)
            if ranked:
                self.thresholds[self._hurdle_rung] = ranked[0][0]
            if not ranked or self._hurdle_rung + 1 == len(self.rungs):
                self._hurdles_done = True
                return None
            self._hurdle_rung += 1
            self._hurdle_members = []
            self._hurdle_todo = [("continue", ranked[0][1])]
        kind, which = self._hurdle_todo.pop(0)
        if kind == "new":
            index, parent, config = which, None, self.hurdles[which]
        else:
            index, parent, config = self._hurdle_of[which], which, self._configs[which]
        info = {"bracket": -1, "rung": self._hurdle_rung, "hurdle": index}
        suggestion = self._suggest(config, self.rungs[self._hurdle_rung], parent, info)
        self._configs[suggestion.trial_id] = dict(suggestion.config)
        self._hurdle_of[suggestion.trial_id] = index
        self._hurdle_members.append(suggestion.trial_id)
        return suggestion

    def _survivors(self, ranked: list[tuple[float, int]], quota: int, rung: int) -> list[int]:
        """The base's best ``quota``, minus the configs worse than the best hurdle at ``rung``."""
        hurdle = self.thresholds.get(rung, math.inf)
        return [t for objective, t in ranked[:quota] if objective <= hurdle]
