"""Successive halving, Hyperband and ASHA over the space's fidelity rungs.

The rungs are ``space.fidelity.rungs()`` (e.g. epochs 1, 3, 9 for min 1, max 9, eta 3) and the
reduction factor is ``space.fidelity.eta``. A promotion is a Suggestion with the same config at
the next rung's fidelity whose ``parent`` is the promoted trial, so the trainer continues that
trial's checkpoint. Objectives are minimised; failed trials (objective inf) are never promoted,
as they left no checkpoint worth continuing. Ties are broken by the lower trial id, so every
decision is a deterministic function of the seed and the sequence of asks and tells.
"""

from __future__ import annotations

import math
from typing import Any

from hpotext.optimizers.random_search import AskTellBase
from hpotext.optimizers.records import Suggestion
from hpotext.space.core import Space


def bracket_sizes(smax: int, s: int, eta: int) -> list[int]:
    """Hyperband bracket ``s`` (Li et al. 2018): configs per stage, the first at rung smax - s.

    ``n = ceil((smax + 1) / (s + 1) * eta**s)`` configs start, and stage ``i`` keeps
    ``floor(n / eta**i)`` of them; ``s = smax`` is the full successive-halving bracket.
    """
    n = -(-(smax + 1) * eta**s // (s + 1))
    return [n // eta**i for i in range(s + 1)]


def hyperband_s(smax: int, bracket: int) -> int:
    """The ``s`` of Hyperband's bracket number ``bracket``: smax, smax - 1, ..., 0, cycled."""
    return smax - bracket % (smax + 1)


class SuccessiveHalving(AskTellBase):
    """Synchronous successive halving, one bracket after another (it never runs dry).

    A bracket samples ``eta**(len(rungs) - 1)`` configs at the lowest rung; once every trial of a
    rung is told, the best ``1/eta`` are promoted to the next rung. ``ask`` returns None while a
    rung waits for results. ``info`` is ``{"bracket": b, "rung": r}`` (r indexes the rungs).
    """

    name = "successive_halving"

    def __init__(self, space: Space, seed: int, **options: Any) -> None:
        super().__init__(space, seed, **options)
        self.rungs = space.fidelity.rungs()
        self.eta = space.fidelity.eta
        self.smax = len(self.rungs) - 1
        self._objective: dict[int, float] = {}
        self._configs: dict[int, dict[str, Any]] = {}
        self._bracket = -1  # no bracket started yet
        self._sizes: list[int] = []  # trials per stage of the current bracket
        self._start = 0  # rung index of the current bracket's first stage
        self._stage = 0
        self._members: list[int] = []  # trial ids asked in the current stage
        self._todo: list[int | None] = []  # still to ask this stage: None = new, id = promote

    def bracket_s(self, bracket: int) -> int:
        """The Hyperband ``s`` of bracket number ``bracket``: always the full bracket here."""
        return self.smax

    def _next(self) -> Suggestion | None:
        while not self._todo:
            if any(t not in self._objective for t in self._members):
                return None  # the rung waits for its last results
            self._advance()
        item = self._todo.pop(0)
        config = self._new_config() if item is None else self._configs[item]
        rung = self._start + self._stage
        info = {"bracket": self._bracket, "rung": rung}
        suggestion = self._suggest(config, self.rungs[rung], item, info)
        self._configs[suggestion.trial_id] = dict(suggestion.config)
        self._members.append(suggestion.trial_id)
        return suggestion

    def _advance(self) -> None:
        """The current stage is complete: promote its best, or start the next bracket."""
        if self._stage + 1 < len(self._sizes):
            rung = self._start + self._stage
            survivors = self._survivors(
                self._ranked(self._members), self._sizes[self._stage + 1], rung
            )
            if survivors:
                self._stage += 1
                self._members = []
                self._todo = list(survivors)
                return
        self._bracket += 1
        s = self.bracket_s(self._bracket)
        self._sizes = bracket_sizes(self.smax, s, self.eta)
        self._start = self.smax - s
        self._stage = 0
        self._members = []
        self._todo = [None] * self._sizes[0]

    def _ranked(self, members: list[int]) -> list[tuple[float, int]]:
        """(objective, trial id) of the told ``members`` with a finite objective, best first."""
        return sorted((self._objective[t], t) for t in members if math.isfinite(self._objective[t]))

    def _survivors(self, ranked: list[tuple[float, int]], quota: int, rung: int) -> list[int]:
        """The trials of a complete stage at rung index ``rung`` to promote: the best ``quota``
        of ``ranked`` (finite (objective, trial id) pairs, best first)."""
        return [t for _, t in ranked[:quota]]

    def _record(self, trial_id: int, objective: float) -> None:
        self._objective[trial_id] = objective


class Hyperband(SuccessiveHalving):
    """Hyperband: synchronous successive-halving brackets ``s = smax, smax-1, ..., 0``, cycled.

    Bracket ``s`` starts ``ceil((smax+1)/(s+1) * eta**s)`` new configs at rung ``smax - s``; with
    rungs 1, 3, 9 that is 9 configs at 1 epoch, then 5 at 3 epochs, then 3 at 9 epochs.
    """

    name = "hyperband"

    def bracket_s(self, bracket: int) -> int:
        return hyperband_s(self.smax, bracket)


class ASHA(AskTellBase):
    """Asynchronous successive halving (Li et al. 2020); ``ask`` never returns None.

    Each ask promotes, from the highest rung where one qualifies, the best not-yet-promoted trial
    that ranks in the top ``floor(n / eta)`` of the ``n`` results told at its rung; when none
    qualifies it samples a new config at the lowest rung. ``info`` is ``{"rung": r}``.
    """

    name = "asha"

    def __init__(self, space: Space, seed: int, **options: Any) -> None:
        super().__init__(space, seed, **options)
        self.rungs = space.fidelity.rungs()
        self.eta = space.fidelity.eta
        self._results: list[list[tuple[float, int]]] = [[] for _ in self.rungs]
        self._rung_of: dict[int, int] = {}
        self._configs: dict[int, dict[str, Any]] = {}
        self._promoted: set[int] = set()

    def _promotable(self) -> tuple[int, int] | None:
        """(rung, trial id) of the promotion to make now, if any."""
        for rung in range(len(self.rungs) - 2, -1, -1):
            told = self._results[rung]
            top = sorted(told)[: len(told) // self.eta]
            for objective, trial_id in top:
                if trial_id not in self._promoted and math.isfinite(objective):
                    return rung, trial_id
        return None

    def _next(self) -> Suggestion:
        pick = self._promotable()
        if pick is None:
            rung, parent, config = 0, None, self._new_config()
        else:
            rung, parent = pick[0] + 1, pick[1]
            config = self._configs[parent]
            self._promoted.add(parent)
        suggestion = self._suggest(config, self.rungs[rung], parent, {"rung": rung})
        self._configs[suggestion.trial_id] = dict(suggestion.config)
        self._rung_of[suggestion.trial_id] = rung
        return suggestion

    def ask(self) -> Suggestion:
        """A promotion if one qualifies, else a new config at the lowest rung (never None)."""
        return self._next()

    def _record(self, trial_id: int, objective: float) -> None:
        self._results[self._rung_of[trial_id]].append((objective, trial_id))
