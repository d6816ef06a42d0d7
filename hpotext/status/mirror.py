"""An Optuna journal that mirrors a study's trial store, for optuna-dashboard (read-only).

The trial store is only read (its journal without the lock); the mirror is a separate Optuna
``JournalFileBackend`` file that this module alone writes, so a dashboard opened on it can
neither change nor lock the search. Each finished hpotext trial becomes one Optuna trial:

* params: its config (categorical values as the space's plain choices), with distributions from
  the search space, so only the family's own hyperparameters appear (conditional spaces stay
  conditional);
* value: the validation error (``1 - accuracy``) for completed trials; intermediate values: its
  per-epoch validation error (the curve);
* state: completed -> COMPLETE, stopped early -> PRUNED, failed or diverged -> FAIL;
* user attributes: hpotext trial id, worker, fidelity, parent, status and stop reason.

Pending trials appear once they finish; ``sync`` adds only trials not mirrored yet.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.trial import TrialState

from hpotext import space as space_mod
from hpotext.optimizers._convert import encode_choices, encode_config
from hpotext.optimizers.records import Trial
from hpotext.search.store import TrialStore
from hpotext.space.core import Hyperparameter, Space

STATES = {"completed": TrialState.COMPLETE, "stopped": TrialState.PRUNED,
          "failed": TrialState.FAIL, "diverged": TrialState.FAIL}  # fmt: skip
ID = "hpotext_trial"


def distribution(hp: Hyperparameter) -> BaseDistribution:
    if hp.type == "categorical":
        return CategoricalDistribution(encode_choices(hp))
    assert hp.low is not None and hp.high is not None
    if hp.type == "int":
        return IntDistribution(int(hp.low), int(hp.high), log=hp.log)
    return FloatDistribution(float(hp.low), float(hp.high), log=hp.log)


def frozen(trial: Trial, space: Space) -> optuna.trial.FrozenTrial:
    """The Optuna trial that stands for a finished hpotext trial."""
    by_key = space.by_key()
    params = encode_config(space, trial.config)  # fixed settings are not searched: left out
    dists: dict[str, BaseDistribution] = {k: distribution(by_key[k]) for k in params}
    state = STATES[trial.status]
    ok = trial.objective is not None and math.isfinite(trial.objective)
    attrs = {ID: trial.trial_id, "worker": trial.worker, "fidelity": trial.fidelity,
             "parent": trial.parent, "status": trial.status,
             "stop_reason": trial.stop_reason}  # fmt: skip
    out = optuna.trial.create_trial(
        state=state,
        value=float(trial.objective) if state == TrialState.COMPLETE and ok else None,  # type: ignore[arg-type]
        params=params,
        distributions=dists,
        user_attrs={k: v for k, v in attrs.items() if v is not None},
        intermediate_values={
            i + 1: float(e) for i, e in enumerate(trial.curve) if math.isfinite(e)
        },
    )
    # the search's own times, so the dashboard's timeline and datetime axes are the search's
    out.datetime_start = datetime.fromtimestamp(trial.asked_at)
    if trial.finished_at is not None:
        out.datetime_complete = datetime.fromtimestamp(trial.finished_at)
    return out


def mirror_storage(path: str | Path) -> JournalStorage:
    """The Optuna journal storage in the file ``path`` (its folder created when missing)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(path)))


def open_mirror(storage: JournalStorage | str | Path, name: str) -> optuna.Study:
    """The mirror study ``name`` in ``storage`` (or a journal file path), created when missing."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if not isinstance(storage, JournalStorage):
        storage = mirror_storage(storage)
    return optuna.create_study(study_name=name, storage=storage, direction="minimize",
                               load_if_exists=True)  # fmt: skip


def sync(store_dir: str | Path, study: optuna.Study) -> int:
    """Add the store's finished trials not in ``study`` yet; returns how many were added."""
    store = TrialStore(store_dir)
    space = space_mod.from_dict(store.meta()["space"])
    seen = {t.user_attrs.get(ID) for t in study.get_trials(deepcopy=False)}
    new = [t for t in store.trials().values() if t.status in STATES and t.trial_id not in seen]
    for t in sorted(new, key=lambda t: t.trial_id):
        study.add_trial(frozen(t, space))
    return len(new)
