"""Search spaces in YAML: typed hyperparameters with bounds, log scale, conditions and priors.

A space file (see config/spaces/default.yaml) has four sections::

    fidelity:        {name: epochs, min: 1, max: 9, eta: 3}
    hyperparameters: shared ones, e.g. lr: {type: float, low: 1e-4, high: 1e-2, log: true,
                                            prior: 2e-3, confidence: medium}
                     plus ``model``: a categorical over model families
    families:        {<family>: {<name>: {...}}}  each family's own hyperparameters, active only
                     when ``model`` is that family
    fixed:           {<name>: value}  training/model settings held constant during the search

A config is a flat dict holding only the active hyperparameters: shared names as they are,
family hyperparameters as ``<family>__<name>`` (unique names, as ConfigSpace and NePS need).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpotext.errors import ConfigError
from hpotext.models import configs as hparams
from hpotext.train.config import TrainConfig

TYPES = ("float", "int", "categorical")
CONFIDENCES = ("low", "medium", "high")
SEP = "__"
MODEL = "model"
# Training settings the search may tune; epochs is the fidelity, never a hyperparameter.
TRAIN_KEYS = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.name != "epochs")
# Values a trial resolves before training (as train.batch_size: auto), not limited by hparams.
AUTO = {"batch_size": "auto"}


@dataclass(frozen=True)
class Hyperparameter:
    """One searchable dimension. ``family`` is set for a family's conditional child."""

    name: str
    type: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()
    prior: Any = None
    confidence: str = "medium"
    family: str | None = None
    # a shared one's families when it is not every family's (a family without that setting,
    # or with its own entry of that name, e.g. the encoder's own lr range): () means all
    families: tuple[str, ...] = ()

    def active_for(self, family: Any) -> bool:
        """Whether this hyperparameter is set in a config of model ``family``."""
        if self.family is not None:
            return self.family == family
        return not self.families or family in self.families

    @property
    def key(self) -> str:
        """Name in a flat config: ``<family>__<name>`` for family children."""
        return f"{self.family}{SEP}{self.name}" if self.family else self.name

    def sample(self, rng: np.random.Generator) -> Any:
        """A uniform draw (log-uniform when ``log``)."""
        if self.type == "categorical":
            return self.choices[int(rng.integers(len(self.choices)))]
        assert self.low is not None and self.high is not None
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        if self.type == "int":
            return int(min(self.high, max(self.low, round(value))))
        return float(value)

    def contains(self, value: Any) -> bool:
        if self.type == "categorical":
            return value in self.choices
        assert self.low is not None and self.high is not None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.type == "int" and int(value) != value:
            return False
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Fidelity:
    """Epochs as fidelity: trials train ``min``..``max`` epochs, promoted by factor ``eta``."""

    name: str = "epochs"
    min: int = 1
    max: int = 9
    eta: int = 3

    def rungs(self) -> list[int]:
        """Fidelity levels max, max/eta, ... down to >= min, ascending."""
        levels, value = [], float(self.max)
        while round(value) >= self.min:
            levels.append(int(round(value)))
            value /= self.eta
        return sorted(set(levels))


@dataclass(frozen=True)
class Space:
    hyperparameters: tuple[Hyperparameter, ...]
    fidelity: Fidelity
    fixed: dict[str, Any] = field(default_factory=dict)

    # --- queries -------------------------------------------------------------------------------
    def by_key(self) -> dict[str, Hyperparameter]:
        return {hp.key: hp for hp in self.hyperparameters}

    @property
    def families(self) -> tuple[str, ...]:
        """Model families the search chooses between (the ``model`` choices or the fixed one)."""
        hp = self.by_key().get(MODEL)
        if hp is not None:
            return tuple(hp.choices)
        return (str(self.fixed[MODEL]),)

    def values(self, family: str, name: str, most: int = 16) -> tuple[Any, ...] | None:
        """The values ``family``'s setting ``name`` takes in this space: its choices, every
        whole number of an int range, the fixed value or the family's default; None for a float
        range or more than ``most`` values."""
        hp = self.by_key().get(f"{family}{SEP}{name}") or self.by_key().get(name)
        if hp is None:
            for key in (f"{family}{SEP}{name}", name):
                if key in self.fixed:
                    return (self.fixed[key],)
            return (hparams.hyperparameters(family)[name],)
        if hp.type == "categorical":
            found: tuple[Any, ...] = hp.choices
        elif hp.type == "int" and hp.low is not None and hp.high is not None:
            found = tuple(range(int(hp.low), int(hp.high) + 1))
        else:
            return None
        return found if len(found) <= most else None

    def active(self, config: dict[str, Any]) -> list[Hyperparameter]:
        """Hyperparameters active in ``config`` (shared ones plus the chosen family's)."""
        family = config.get(MODEL, self.fixed.get(MODEL))
        return [hp for hp in self.hyperparameters if hp.key == MODEL or hp.active_for(family)]

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A uniformly random valid config: only the active hyperparameters are set."""
        config: dict[str, Any] = {}
        for hp in self.hyperparameters:  # model comes first, so its choice decides the rest
            if hp.key == MODEL or hp.active_for(config.get(MODEL, self.fixed.get(MODEL))):
                config[hp.key] = hp.sample(rng)
        return config

    def default(self) -> dict[str, Any]:
        """The prior config: every active hyperparameter at its prior value."""
        config: dict[str, Any] = {}
        for hp in self.hyperparameters:
            if hp.key == MODEL or hp.active_for(config.get(MODEL, self.fixed.get(MODEL))):
                config[hp.key] = hp.prior
        return config

    def validate(self, config: dict[str, Any]) -> None:
        """Raise ConfigError unless ``config`` sets exactly the active hyperparameters, in range."""
        wanted = {hp.key: hp for hp in self.active(config)}
        if set(config) != set(wanted):
            raise ConfigError(
                f"config {config} does not match the space: expected keys {sorted(wanted)}"
            )
        for key, hp in wanted.items():
            if not hp.contains(config[key]):
                raise ConfigError(f"config value {key}={config[key]!r} is outside the space")

    def to_training(self, config: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(model family, model hyperparameters, train overrides) for one config plus ``fixed``."""
        merged = {**self.fixed, **config}
        family = str(merged.pop(MODEL))
        model_hp, train_hp = {}, {}
        valid = hparams.hyperparameters(family)
        for key, value in merged.items():
            name = key
            if SEP in key:
                owner, name = key.split(SEP, 1)
                if owner != family:
                    continue
            if name in TRAIN_KEYS:
                train_hp[name] = value
            elif name in valid:
                model_hp[name] = list(value) if isinstance(value, tuple) else value
        return family, model_hp, train_hp

    def digest(self) -> str:
        """A stable hash of the space, to tell whether a stored search used the same one."""
        return hashlib.sha256(meaning(self).encode()).hexdigest()[:16]


def meaning(space: Space) -> str:
    """The space as canonical JSON: equal for files that differ only in comments, key order or
    formatting. Rules take it as a param, so only a change of meaning reruns their jobs."""
    return json.dumps(to_dict(space), sort_keys=True, default=str)


def to_dict(space: Space) -> dict[str, Any]:
    """The inverse of ``from_dict`` (normalised)."""
    shared: dict[str, Any] = {}
    families: dict[str, dict[str, Any]] = {}
    for hp in space.hyperparameters:
        entry: dict[str, Any] = {"type": hp.type, "prior": hp.prior, "confidence": hp.confidence}
        if hp.type == "categorical":
            entry["choices"] = [list(c) if isinstance(c, tuple) else c for c in hp.choices]
            if isinstance(hp.prior, tuple):
                entry["prior"] = list(hp.prior)
        else:
            entry.update(low=hp.low, high=hp.high, log=hp.log)
        if hp.family:
            families.setdefault(hp.family, {})[hp.name] = entry
        else:
            shared[hp.name] = entry
    return {
        "fidelity": dataclasses.asdict(space.fidelity),
        "hyperparameters": shared,
        "families": families,
        "fixed": space.fixed,
    }
