"""Reading a search space from YAML, with one-sentence errors checked against the limits tables.

A space file (see config/spaces/default.yaml) has four sections: fidelity, hyperparameters
(with ``model``, a categorical over families), families and fixed; see hpotext.space.core.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from hpotext.errors import ConfigError
from hpotext.limits import Limit
from hpotext.models.configs import CONFIGS, hyperparameters, limits_of
from hpotext.space.core import (
    AUTO,
    CONFIDENCES,
    MODEL,
    SEP,
    TRAIN_KEYS,
    TYPES,
    Fidelity,
    Hyperparameter,
    Space,
)
from hpotext.train.config import TRAIN_LIMITS


def limit_of(owner: str, name: str) -> Limit:
    """The limit of setting ``name`` of ``owner``: a model family, or 'train' for training."""
    if owner == "train":
        return TRAIN_LIMITS[name]
    return limits_of(owner)[name]


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
        if name not in hyperparameters(family) and name not in TRAIN_KEYS:
            raise ConfigError(
                f"{where}: model family '{family}' has no hyperparameter '{name}'; valid ones: "
                f"{', '.join(hyperparameters(family))}, or a training setting "
                f"({', '.join(TRAIN_KEYS)})"
            )
        return
    if name == MODEL or name in TRAIN_KEYS:
        return
    if not any(name in hyperparameters(f) for f in families):
        raise ConfigError(
            f"{where}: shared hyperparameter '{name}' is neither a training setting "
            f"({', '.join(TRAIN_KEYS)}) nor a hyperparameter of any of the families "
            f"({', '.join(families)}); fix its name or move it under 'families'"
        )


def _shared_families(
    hp: Hyperparameter, families: tuple[str, ...], children: list[Hyperparameter]
) -> tuple[str, ...]:
    """The families a shared hyperparameter is active for: those that take it and have no
    entry of their own of that name."""
    own = {child.family for child in children if child.name == hp.name}
    return tuple(
        f
        for f in families
        if f not in own and (hp.name in TRAIN_KEYS or hp.name in hyperparameters(f))
    )


def _check_fixed(where: str, key: Any) -> None:
    """A fixed key: a training setting, ``model`` or a family's (``<family>__``) hyperparameter."""
    owner, _, name = str(key).rpartition(SEP)
    if name == "epochs":
        raise ConfigError(f"{where}: 'epochs' is the fidelity; set it under 'fidelity'")
    families = [owner] if owner in CONFIGS else [] if owner else list(CONFIGS)
    known = (name in TRAIN_KEYS and (not owner or owner in CONFIGS)) or (
        (not owner and name == MODEL) or any(name in hyperparameters(f) for f in families)
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
    return [f for f in families if name in hyperparameters(f)]


def _allows(owner: str, name: str, value: Any) -> bool:
    if name in AUTO and value == AUTO[name]:
        return True
    try:
        limit_of(owner, name).parse(value)
    except ValueError:
        return False
    return True


def _check_limits(where: str, space: Space) -> None:
    """Every range, choice and fixed value within what training and the models accept
    (TRAIN_LIMITS, MODEL_LIMITS): a bad one fails here, not in every trial."""
    for hp in space.hyperparameters:
        if hp.key == MODEL:
            continue
        for owner in _owners(hp.name, hp.family, space.families):
            limit, who = limit_of(owner, hp.name), _who(owner)
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
                limit = limit_of(owner, name)
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
        if fam not in CONFIGS:
            raise ConfigError(
                f"{where}: unknown model family {fam!r}; choose from {', '.join(CONFIGS)}"
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
    resolved = []
    for hp in shared:
        takes = families if hp is model_hp else _shared_families(hp, families, children)
        if not takes:
            raise ConfigError(
                f"{where}: shared hyperparameter '{hp.name}' is active for no family (each one "
                "that takes it has its own entry of that name); remove the shared one"
            )
        resolved.append(replace(hp, families=() if len(takes) == len(families) else takes))
    shared = resolved
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
