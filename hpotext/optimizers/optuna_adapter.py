"""Optuna TPE with a Hyperband pruner behind the ask/tell ``Optimizer`` Protocol.

One in-memory study: ``TPESampler(seed=seed)`` samples define-by-run (``model`` first, then only
the chosen family's children, so the conditional structure is kept) and a
``HyperbandPruner(min_resource=fidelity.min, max_resource=fidelity.max, reduction_factor=eta)``
decides at every rung of ``space.fidelity.rungs()`` whether a trial goes on.

Optuna trials are long-lived while each ``Suggestion`` trains one rung, so one Optuna trial maps
to several suggestions (the adapter's own trial ids, distinct from Optuna trial numbers):

* a new Optuna trial is asked at the first rung;
* ``tell`` reports the objective at step = fidelity; if the pruner prunes, the Optuna trial
  ends PRUNED, otherwise it is queued and a later ``ask`` returns the SAME config at the next
  rung with ``parent`` = the previous suggestion's trial id (queued continuations come first,
  in the order they were told);
* at the last rung ``tell`` completes the Optuna trial; failed results end it as FAIL.

Determinism: the sampler draws from its own seeded RandomState, all sampling happens inside
``ask``, and the Hyperband bracket of a trial is a hash of the (fixed) study name and trial
number, so the same ask/tell interleaving gives the same suggestions; ``replay`` re-asks and
checks that.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import Trial, TrialState

from hpotext.errors import ConfigError
from hpotext.optimizers._convert import decode_choice, encode_choices, encode_config
from hpotext.optimizers.base import check_replay
from hpotext.optimizers.records import Result, Suggestion
from hpotext.space.core import MODEL, Space


@dataclass
class _Run:
    """A suggestion being trained (or told and waiting to continue) and its Optuna trial."""

    trial: Trial
    config: dict[str, Any]
    rung: int  # index into space.fidelity.rungs()


class OptunaTPE:
    """Optuna's TPE sampler with Hyperband pruning over rung-wise continued trials.

    ``options`` go to ``optuna.samplers.TPESampler`` (e.g. ``n_startup_trials``,
    ``multivariate``); the seed is set here. ``prior_first`` (default true): the first trial is
    the space's prior config, enqueued as Optuna's ``enqueue_trial`` does (as SMAC's initial
    design starts with the default configuration), so the search sees the default config at
    once and TPE's startup trials sample the rest. ``initial``: configs of the space enqueued
    next, in order (a portfolio initial design, hpotext/space/portfolio.py), each a trial like
    any other (pruned at a rung when the pruner says so).
    """

    name = "optuna_tpe"

    def __init__(
        self,
        space: Space,
        seed: int,
        prior_first: bool = True,
        initial: list[dict[str, Any]] | None = None,
        **options: Any,
    ) -> None:
        optuna.logging.set_verbosity(logging.WARNING)
        fid = space.fidelity
        self.space = space
        self.seed = int(seed)
        self._rungs = fid.rungs()
        self._study = optuna.create_study(
            study_name=f"hpotext-optuna-tpe-{self.seed}",  # fixes Hyperband's bracket hashing
            direction="minimize",
            sampler=optuna.samplers.TPESampler(seed=self.seed, **options),
            pruner=optuna.pruners.HyperbandPruner(
                min_resource=fid.min, max_resource=fid.max, reduction_factor=fid.eta
            ),
        )
        if prior_first:
            self._study.enqueue_trial(encode_config(space, space.default()))
        for i, config in enumerate(initial or []):
            try:
                space.validate(config)
            except ConfigError as err:
                raise ConfigError(f"optuna_tpe's initial config {i}: {err}") from None
            self._study.enqueue_trial(encode_config(space, config))
        self._pending: dict[int, _Run] = {}  # asked, not yet told
        self._queue: deque[tuple[int, _Run]] = deque()  # told, not pruned: continue next rung
        self._asks = 0

    # --- Protocol --------------------------------------------------------------------------------
    def ask(self) -> Suggestion:
        """A queued continuation at its next rung, else a new TPE config at the first rung."""
        if self._queue:
            parent, previous = self._queue.popleft()
            run = _Run(previous.trial, previous.config, previous.rung + 1)
        else:
            trial = self._study.ask()
            run, parent = _Run(trial, suggest(trial, self.space), 0), None
        suggestion = Suggestion(
            trial_id=self._asks,
            config=dict(run.config),
            fidelity=self._rungs[run.rung],
            parent=parent,
            info={"optuna_trial": run.trial.number, "rung": run.rung},
        )
        self._pending[self._asks] = run
        self._asks += 1
        return suggestion

    def replay(self, suggestion: Suggestion) -> None:
        """Re-ask and check that the study suggests exactly ``suggestion`` again."""
        check_replay(self.name, suggestion, self.ask())

    def tell(self, suggestion: Suggestion, result: Result) -> None:
        """Report at step = fidelity; prune, queue the next rung, or complete the trial.

        A second tell for the same trial is ignored (as the trial store does).
        """
        run = self._pending.pop(suggestion.trial_id, None)
        if run is None:
            if 0 <= suggestion.trial_id < self._asks:
                return  # already told
            raise ValueError(
                f"optimizer 'optuna_tpe' never suggested trial {suggestion.trial_id} "
                f"(it has suggested trials 0..{self._asks - 1})"
            )
        if not (result.ok and math.isfinite(result.objective)):
            self._study.tell(run.trial, state=TrialState.FAIL)
            return
        value = float(result.objective)
        run.trial.report(value, step=self._rungs[run.rung])
        if run.rung == len(self._rungs) - 1:
            self._study.tell(run.trial, value)
        elif run.trial.should_prune():
            self._study.tell(run.trial, state=TrialState.PRUNED)
        else:
            self._queue.append((suggestion.trial_id, run))


def suggest(trial: Trial, space: Space) -> dict[str, Any]:
    """Define-by-run: shared hyperparameters (model first), then the family's children."""
    config: dict[str, Any] = {}
    for hp in space.hyperparameters:
        family = config.get(MODEL, space.fixed.get(MODEL))
        if hp.key != MODEL and not hp.active_for(family):
            continue
        if hp.type == "categorical":
            value = trial.suggest_categorical(hp.key, encode_choices(hp))
            config[hp.key] = decode_choice(hp, value)
            continue
        assert hp.low is not None and hp.high is not None
        if hp.type == "int":
            config[hp.key] = trial.suggest_int(hp.key, int(hp.low), int(hp.high), log=hp.log)
        else:
            config[hp.key] = trial.suggest_float(hp.key, hp.low, hp.high, log=hp.log)
    space.validate(config)
    return config
