"""PriorBand (NePS 0.17) behind the ask/tell ``Optimizer`` Protocol, without ``neps.run``.

NePS optimizers are stateless functions of the trial history: ``optimizer(trials, budget_info)``
returns the next ``SampledConfig`` (NePS id ``"<config>_rung_<rung>"``, config incl. the
fidelity, and for a promotion the id of the trial it continues). This adapter keeps that history
in memory as ``neps.state.Trial`` objects (exactly what ``neps.AskAndTell`` does) and calls the
PriorBand ``BracketOptimizer`` directly; nothing is written to disk.

Determinism: PriorBand draws from numpy's and torch's *global* generators. Every ask seeds both
from ``(seed, number of asks so far)`` and restores their previous state afterwards, so the
n-th ask depends only on the seed and the history. ``replay`` therefore only records the
suggestion in the history (no sampling) and counts the ask. NePS iterates no hash-ordered sets
on this path, but run it with ``PYTHONHASHSEED=0`` anyway, as the project does.

NePS has no conditional hyperparameters: every family child is a dimension of the NePS space
(see ``hpotext.optimizers._convert.to_neps``), and the children of families other than the chosen
``model`` are dropped from the suggested config. The full NePS config (with the inactive
children and the fidelity) travels in ``Suggestion.info["neps_config"]`` so a replay can rebuild
the history NePS sees.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from hpotext.errors import ReplayError
from hpotext.io import plain
from hpotext.optimizers._convert import from_neps, same_config, to_neps
from hpotext.optimizers.records import Result, Suggestion
from hpotext.space.core import Space

WORKER = "hpotext"


@contextmanager
def seeded(seed: int, step: int) -> Iterator[None]:
    """Seed numpy's and torch's global generators from (seed, step); restore them on exit."""
    import torch

    derived = int(np.random.SeedSequence([seed, step]).generate_state(1)[0])
    state = np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        np.random.seed(derived)
        torch.manual_seed(derived)
        try:
            yield
        finally:
            np.random.set_state(state)


class PriorBandOptimizer:
    """NePS PriorBand (Hyperband brackets by default) over a ``Space`` with epochs as fidelity.

    ``options`` go to ``neps.algorithms.priorband`` (e.g. ``sample_prior_first``, ``base``);
    ``eta`` is the space's fidelity eta.
    """

    name = "priorband"

    def __init__(self, space: Space, seed: int, **options: Any) -> None:
        import neps

        # NePS logs its bracket layout at INFO on every construction: keep workers' logs readable
        logging.getLogger("neps").setLevel(logging.WARNING)
        self.space = space
        self.seed = int(seed)
        self._neps = neps.algorithms.priorband(to_neps(space), eta=space.fidelity.eta, **options)
        self._trials: dict[str, Any] = {}  # NePS id -> neps.state.Trial, the history NePS sees
        self._trial_ids: dict[str, int] = {}  # NePS id -> our trial id
        self._neps_ids: dict[int, str] = {}  # our trial id -> NePS id
        self._ok: set[int] = set()  # trial ids told with a usable result
        self._asks = 0

    # --- Protocol --------------------------------------------------------------------------------
    def ask(self) -> Suggestion:
        """Sample from PriorBand given the full history; promotions continue their parent."""
        with seeded(self.seed, self._asks):
            sampled = self._neps(self._trials, None)
        if isinstance(sampled, list):  # only with n=...; kept for the type checker
            sampled = sampled[0]
        previous = sampled.previous_config_id
        parent = self._trial_ids.get(previous) if previous is not None else None
        suggestion = Suggestion(
            trial_id=self._asks,
            config=from_neps(self.space, sampled.config),
            fidelity=int(round(float(sampled.config[self.space.fidelity.name]))),
            parent=parent if parent in self._ok else None,  # a failed parent has no checkpoint
            info={
                "neps_id": sampled.id,
                "neps_previous": previous,
                "neps_config": plain(dict(sampled.config)),
            },
        )
        self._record(suggestion)
        return suggestion

    def replay(self, suggestion: Suggestion) -> None:
        """Record ``suggestion`` as asked without sampling (the next ask reseeds by count)."""
        if suggestion.trial_id != self._asks:
            raise ReplayError(
                f"priorband replay out of order: expected trial {self._asks}, got "
                f"{suggestion.trial_id}; replay every ask of the journal in its order"
            )
        missing = {"neps_id", "neps_config"} - set(suggestion.info)
        if missing:
            raise ReplayError(
                f"priorband cannot replay trial {suggestion.trial_id}: its info lacks "
                f"{sorted(missing)}; was the journal written by another optimizer?"
            )
        recorded = suggestion.info["neps_config"]
        fidelity = recorded.get(self.space.fidelity.name)
        if fidelity != suggestion.fidelity or not same_config(
            suggestion.config, from_neps(self.space, recorded)
        ):
            raise ReplayError(
                f"priorband replay diverged at trial {suggestion.trial_id}: the journal's "
                f"{suggestion.config} at {suggestion.fidelity} epochs is not the NePS config it "
                f"records, {recorded}"
            )
        self._record(suggestion)

    def tell(self, suggestion: Suggestion, result: Result) -> None:
        """Complete the trial in the history. A failure is reported 'crashed' (NePS ranks it
        as inf, so it is promoted only when nothing better is left; it is then no parent).

        A second tell for the same trial is ignored (as the trial store does).
        """
        neps_id = self._neps_ids.get(suggestion.trial_id)
        if neps_id is None:
            raise ValueError(
                f"optimizer 'priorband' never suggested trial {suggestion.trial_id} "
                f"(it has suggested trials 0..{self._asks - 1})"
            )
        trial = self._trials[neps_id]
        if trial.report is not None:
            return
        usable = result.ok and math.isfinite(result.objective)
        trial.report = trial.set_complete(
            report_as="success" if usable else "crashed",
            time_end=0.0,
            objective_to_minimize=float(result.objective) if usable else None,
            cost=float(result.cost),
            learning_curve=None,
            err=None if usable else RuntimeError(result.stop_reason or result.status),
            tb=None,
            extra=None,
            evaluation_duration=float(result.cost),
        )
        if usable:
            self._ok.add(suggestion.trial_id)

    # --- internals -----------------------------------------------------------------------------
    def _record(self, suggestion: Suggestion) -> None:
        from neps.state import Trial

        neps_id = str(suggestion.info["neps_id"])
        if neps_id in self._trials:
            raise ReplayError(
                f"priorband: NePS id {neps_id} was asked twice; the journal is not this search's"
            )
        config: Mapping[str, Any] = dict(suggestion.info["neps_config"])
        previous = suggestion.info.get("neps_previous")
        trial = Trial.new(
            trial_id=neps_id,
            config=config,
            location="",
            previous_trial=previous,
            previous_trial_location="" if previous else None,
            time_sampled=0.0,
            worker_id=WORKER,
        )
        trial.set_evaluating(time_started=0.0, worker_id=WORKER)
        self._trials[neps_id] = trial
        self._trial_ids[neps_id] = suggestion.trial_id
        self._neps_ids[suggestion.trial_id] = neps_id
        self._asks += 1
