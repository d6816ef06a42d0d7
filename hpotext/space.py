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
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from hpotext import hparams
from hpotext.errors import ConfigError
from hpotext.hparams import TrainConfig

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

    def active(self, config: dict[str, Any]) -> list[Hyperparameter]:
        """Hyperparameters active in ``config`` (shared ones plus the chosen family's)."""
        family = config.get(MODEL, self.fixed.get(MODEL))
        return [hp for hp in self.hyperparameters if hp.family in (None, family)]

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A uniformly random valid config: only the active hyperparameters are set."""
        config: dict[str, Any] = {}
        for hp in self.hyperparameters:  # shared (incl. model) come before family children
            if hp.family is None or hp.family == config.get(MODEL, self.fixed.get(MODEL)):
                config[hp.key] = hp.sample(rng)
        return config

    def default(self) -> dict[str, Any]:
        """The prior config: every active hyperparameter at its prior value."""
        config: dict[str, Any] = {}
        for hp in self.hyperparameters:
            if hp.family is None or hp.family == config.get(MODEL, self.fixed.get(MODEL)):
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


# --- parsing ------------------------------------------------------------------------------------
def _num(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{where}: '{key}' must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{where}: '{key}' must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ConfigError(f"{where}: '{key}' is {value!r}; write a finite number")
    return number


def _mapping(where: str, what: str, value: Any) -> dict[Any, Any]:
    """``value`` as a dict (None: empty); anything else is a ConfigError naming ``what``."""
    if value is not None and not isinstance(value, dict):
        raise ConfigError(f"{where}: {what} is {value!r}; write it as a mapping (key: value)")
    return dict(value or {})


def _parse_hp(where: str, name: str, raw: Any, family: str | None) -> Hyperparameter:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: hyperparameter '{name}' must be a mapping with a 'type'")
    known = ("type", "low", "high", "log", "choices", "prior", "confidence")
    extra = sorted(map(str, set(raw) - set(known)))
    if extra:
        raise ConfigError(f"{where}: '{name}' has unknown keys {extra}; use {', '.join(known)}")
    kind = raw.get("type")
    if kind not in TYPES:
        raise ConfigError(f"{where}: '{name}' needs type one of {TYPES}, got {kind!r}; pick one")
    confidence = raw.get("confidence", "medium")
    if confidence not in CONFIDENCES:
        raise ConfigError(f"{where}: '{name}' confidence must be one of {CONFIDENCES}")
    if kind == "categorical":
        choices = raw.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            raise ConfigError(
                f"{where}: categorical '{name}' needs a list of >= 2 'choices', got {choices!r}; "
                "list two or more values, or move it to 'fixed'"
            )
        choices_t = tuple(tuple(c) if isinstance(c, list) else c for c in choices)
        if twice := [c for i, c in enumerate(choices_t) if c in choices_t[:i]]:
            raise ConfigError(f"{where}: '{name}' lists {twice[0]!r} twice; list it once")
        prior = raw.get("prior", choices_t[0])
        prior = tuple(prior) if isinstance(prior, list) else prior
        if prior not in choices_t:
            raise ConfigError(
                f"{where}: prior {prior!r} of '{name}' is not among its choices {list(choices)}"
            )
        return Hyperparameter(
            name, kind, choices=choices_t, prior=prior, confidence=confidence, family=family
        )
    if "low" not in raw or "high" not in raw:
        raise ConfigError(f"{where}: {kind} '{name}' needs 'low' and 'high'")
    low, high = _num(where, "low", raw["low"]), _num(where, "high", raw["high"])
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{where}: 'log' of '{name}' is {log!r}; write true or false")
    if low >= high:
        raise ConfigError(f"{where}: '{name}' has low {low:g} >= high {high:g}; make low < high")
    if log and low <= 0:
        raise ConfigError(
            f"{where}: '{name}' is log-scaled, so low must be > 0 (got {low:g}); raise low or "
            "set log: false"
        )
    if kind == "int" and (low != int(low) or high != int(high)):
        raise ConfigError(f"{where}: int '{name}' needs whole-number bounds")
    if "prior" in raw:
        prior = _num(where, "prior", raw["prior"])
    else:  # the centre of the range (geometric when log)
        prior = math.sqrt(low * high) if log else (low + high) / 2
    if not low <= prior <= high:
        raise ConfigError(
            f"{where}: prior {prior:g} of '{name}' is outside [{low:g}, {high:g}]; "
            "move the prior inside the bounds"
        )
    if kind == "int":
        return Hyperparameter(
            name,
            kind,
            int(low),
            int(high),
            log,
            prior=int(round(prior)),
            confidence=confidence,
            family=family,
        )
    return Hyperparameter(
        name, kind, low, high, log, prior=prior, confidence=confidence, family=family
    )


def _check_name(where: str, name: str, family: str | None, families: tuple[str, ...]) -> None:
    if name == "epochs":
        raise ConfigError(f"{where}: 'epochs' is the fidelity; set it under 'fidelity'")
    if family is not None:
        if name not in hparams.hyperparameters(family):
            raise ConfigError(
                f"{where}: model family '{family}' has no hyperparameter '{name}'; valid ones: "
                f"{', '.join(hparams.hyperparameters(family))}"
            )
        return
    if name == MODEL or name in TRAIN_KEYS:
        return
    missing = [f for f in families if name not in hparams.hyperparameters(f)]
    if missing:
        raise ConfigError(
            f"{where}: shared hyperparameter '{name}' is neither a training setting "
            f"({', '.join(TRAIN_KEYS)}) nor a hyperparameter of every family (not of "
            f"{', '.join(missing)}); move it under 'families'"
        )


def _check_fixed(where: str, key: Any) -> None:
    """A fixed key: a training setting, ``model`` or a family's (``<family>__``) hyperparameter."""
    owner, _, name = str(key).rpartition(SEP)
    if name == "epochs":
        raise ConfigError(f"{where}: 'epochs' is the fidelity; set it under 'fidelity'")
    families = [owner] if owner in hparams.CONFIGS else [] if owner else list(hparams.CONFIGS)
    known = (not owner and name in (MODEL, *TRAIN_KEYS)) or any(
        name in hparams.hyperparameters(f) for f in families
    )
    if not known:
        raise ConfigError(
            f"{where}: fixed setting '{key}' is neither a training setting "
            f"({', '.join(TRAIN_KEYS)}) nor a hyperparameter of a model family; fix its name"
        )


def _who(owner: str) -> str:
    return "training" if owner == "train" else f"model family '{owner}'"


def _owners(name: str, family: str | None, families: tuple[str, ...]) -> list[str]:
    """Who takes setting ``name`` (as ``to_training`` routes it): 'train', or the families."""
    if name in TRAIN_KEYS:
        return ["train"]
    if family is not None:
        return [family]
    return [f for f in families if name in hparams.hyperparameters(f)]


def _allows(owner: str, name: str, value: Any) -> bool:
    if name in AUTO and value == AUTO[name]:
        return True
    try:
        hparams.limit_of(owner, name).parse(value)
    except ValueError:
        return False
    return True


def _check_limits(where: str, space: Space) -> None:
    """Every range, choice and fixed value within what training and the models accept
    (hparams.TRAIN_LIMITS, MODEL_LIMITS): a bad one fails here, not in every trial."""
    for hp in space.hyperparameters:
        if hp.key == MODEL:
            continue
        for owner in _owners(hp.name, hp.family, space.families):
            limit, who = hparams.limit_of(owner, hp.name), _who(owner)
            must = f"{hp.name} must be {limit} for {who}"
            if hp.type == "categorical":
                bad = [c for c in hp.choices if not _allows(owner, hp.name, c)]
                if bad:
                    raise ConfigError(
                        f"{where}: '{hp.key}' lists the choice {bad[0]!r}, but {must}; remove "
                        "or fix that choice"
                    )
            elif limit.choices:
                raise ConfigError(
                    f"{where}: '{hp.key}' is a range of type {hp.type}, but {must}; make it a "
                    "categorical over those"
                )
            elif limit.whole and hp.type == "float":
                raise ConfigError(
                    f"{where}: '{hp.key}' is a float range, but {must}; make it type int"
                )
            else:
                for end, value in (("low", hp.low), ("high", hp.high)):
                    if not _allows(owner, hp.name, value):
                        raise ConfigError(
                            f"{where}: '{hp.key}' has {end} {value:g}, but {must}; keep low and "
                            "high within that range"
                        )
    for key, value in space.fixed.items():
        family, _, name = str(key).rpartition(SEP)
        if name == MODEL:
            continue
        for owner in _owners(name, family or None, space.families):
            if not _allows(owner, name, value):
                limit = hparams.limit_of(owner, name)
                raise ConfigError(
                    f"{where}: fixed '{key}' is {value!r}, but {name} must be {limit} for "
                    f"{_who(owner)}; fix the value"
                )


def from_dict(raw: Any, where: str = "search space") -> Space:
    """Parse and validate a space mapping; every problem is one ConfigError sentence."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping with 'fidelity' and 'hyperparameters'")
    extra = sorted(set(raw) - {"fidelity", "hyperparameters", "families", "fixed"})
    if extra:
        raise ConfigError(f"{where}: unknown section(s) {extra}")
    fid_raw = _mapping(where, "'fidelity'", raw.get("fidelity"))
    try:
        fidelity = Fidelity(**{k: v for k, v in fid_raw.items()})
    except TypeError:
        raise ConfigError(f"{where}: fidelity takes name, min, max, eta; got {fid_raw}") from None
    if fidelity.name != "epochs":
        raise ConfigError(f"{where}: the only supported fidelity is 'epochs'")
    values = (fidelity.min, fidelity.max, fidelity.eta)
    whole = all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values)
    if not (whole and 1 <= fidelity.min <= fidelity.max and fidelity.eta >= 2):
        raise ConfigError(
            f"{where}: fidelity needs whole numbers 1 <= min <= max and eta >= 2 (got {fid_raw})"
        )
    fixed = _mapping(where, "'fixed'", raw.get("fixed"))
    shared_raw = _mapping(where, "'hyperparameters'", raw.get("hyperparameters"))
    families_raw = _mapping(where, "'families'", raw.get("families"))
    shared = [_parse_hp(where, n, r, None) for n, r in shared_raw.items()]
    model_hp = next((hp for hp in shared if hp.name == MODEL), None)
    if model_hp is not None:
        if model_hp.type != "categorical":
            raise ConfigError(f"{where}: 'model' must be categorical over model families")
        families = tuple(model_hp.choices)
    elif MODEL in fixed:
        families = (fixed[MODEL],)
    else:
        raise ConfigError(f"{where}: set 'model' as a categorical hyperparameter or under 'fixed'")
    for fam in families:
        if fam not in hparams.CONFIGS:
            raise ConfigError(
                f"{where}: unknown model family {fam!r}; choose from {', '.join(hparams.CONFIGS)}"
            )
    for fam in families_raw:
        if fam not in families:
            raise ConfigError(
                f"{where}: family '{fam}' is not among the model choices {families}; add it to "
                "the choices of 'model' or remove its block"
            )
    for hp in shared:
        _check_name(where, hp.name, None, families)
    for key in fixed:
        _check_fixed(where, key)
    children = []
    for fam, hps in families_raw.items():
        for name, hp_raw in _mapping(where, f"family '{fam}'", hps).items():
            _check_name(where, name, fam, families)
            children.append(_parse_hp(where, name, hp_raw, fam))
    # A canonical order (model first so conditions resolve in one pass, then by name): the
    # order of keys in the file means nothing, so it changes neither sampling nor the space's
    # identity (meaning), and reordering a file reruns nothing.
    shared = sorted(shared, key=lambda hp: (hp is not model_hp, hp.name))
    children = sorted(children, key=lambda hp: (str(hp.family), hp.name))
    hps = tuple(shared + children)
    keys = [hp.key for hp in hps]
    clash = sorted({k for k in keys if keys.count(k) > 1} | (set(keys) & set(fixed)))
    if clash:
        raise ConfigError(f"{where}: {clash} defined twice (searched and fixed, or repeated)")
    if not hps:
        raise ConfigError(f"{where}: no hyperparameters to search")
    space = Space(hps, fidelity, fixed)
    _check_limits(where, space)
    return space


def yaml_problem(err: yaml.YAMLError) -> str:
    """A YAML error in one line, with its place: str(err) spans lines."""
    mark, problem = getattr(err, "problem_mark", None), getattr(err, "problem", None)
    at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    return f"({at}{problem})" if problem else "(unreadable)"


def read_yaml(path: Path, what: str, fix: str) -> Any:
    """The YAML in file ``path``; a missing, unreadable or malformed one is one ConfigError
    sentence naming ``what`` (e.g. 'search space file') and ``fix`` for a wrong path."""
    if not path.is_file():
        problem = "is a directory" if path.is_dir() else "does not exist"
        raise ConfigError(f"{what} {path} {problem}; {fix}")
    try:
        return yaml.safe_load(path.read_text())
    except OSError as err:
        raise ConfigError(f"cannot read {what} {path} ({err.strerror}); make it readable") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not utf-8 text; save it as utf-8 YAML") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{what} {path} is not valid YAML {yaml_problem(err)}; fix it") from None


def load(path: str | Path) -> Space:
    """Read a space YAML file."""
    path = Path(path)
    raw = read_yaml(path, "search space file", "set search.space to a file")
    return from_dict(raw, where=str(path))


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
