"""Convert a ``Space`` to the search-space objects of ConfigSpace (DEHB) and NePS, and back.

ConfigSpace keeps the conditional structure: every family child is active only when ``model``
is its family (an ``EqualsCondition``). NePS 0.17's classic ``SearchSpace`` (the one PriorBand
runs on) has no conditional hyperparameters, so ``to_neps`` makes every family child an
always-present dimension and ``from_neps`` drops the children of families not chosen.

Categorical choices that NePS or Optuna cannot store directly (tuples, booleans, None) are
encoded as their ``repr`` strings; ``encode_choices``/``decode_choice`` do the mapping, so the
converted-back configs hold the original Python values. Every ``from_*`` function returns a flat
config with only the active keys, ints as ``int``, floats clipped into their bounds, that
passes ``Space.validate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ConfigSpace as CS
import numpy as np

from hpotext.errors import ConfigError
from hpotext.io import canonical_json
from hpotext.space.core import MODEL, Hyperparameter, Space

if TYPE_CHECKING:
    from neps.space import SearchSpace


Primitive = str | int | float


def _is_plain(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def encode_choices(hp: Hyperparameter) -> list[Primitive]:
    """The categorical choices as str/int/float values (repr strings if any is not plain)."""
    if all(_is_plain(c) for c in hp.choices):
        return list(hp.choices)
    return [repr(c) for c in hp.choices]


def encode_choice(hp: Hyperparameter, value: Any) -> Primitive:
    """The encoded form (as in ``encode_choices``) of ``value``, one of ``hp``'s choices."""
    return encode_choices(hp)[list(hp.choices).index(value)]


def encode_config(space: Space, config: Mapping[str, Any]) -> dict[str, Any]:
    """``config``'s searched hyperparameters as Optuna stores them (categoricals encoded as in
    ``encode_choices``); keys the space does not search (fixed settings) are left out."""
    by_key = space.by_key()
    return {
        k: encode_choice(by_key[k], v) if by_key[k].type == "categorical" else v
        for k, v in config.items()
        if k in by_key
    }


def decode_choice(hp: Hyperparameter, value: Any) -> Any:
    """The original choice of ``hp`` that the (possibly encoded, possibly numpy) ``value`` is."""
    for choice, encoded in zip(hp.choices, encode_choices(hp), strict=True):
        if _equal(value, choice) or _equal(value, encoded):
            return choice
    raise ConfigError(f"value {value!r} is not a choice of '{hp.key}' {list(hp.choices)}")


def _equal(value: Any, choice: Any) -> bool:
    """Equality where booleans only match booleans (``True == 1`` otherwise)."""
    if isinstance(choice, bool) or isinstance(value, bool | np.bool_):
        return isinstance(value, bool | np.bool_) and isinstance(choice, bool) and value == choice
    return bool(value == choice)


def _numeric(hp: Hyperparameter, value: Any) -> int | float:
    assert hp.low is not None and hp.high is not None
    if hp.type == "int":
        return int(min(hp.high, max(hp.low, round(float(value)))))
    return float(min(hp.high, max(hp.low, float(value))))


def _from_flat(space: Space, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A valid flat config from a mapping holding (at least) every active key."""
    by_key = space.by_key()
    config: dict[str, Any] = {}
    if MODEL in by_key:
        config[MODEL] = decode_choice(by_key[MODEL], raw[MODEL])
    for hp in space.active(config):
        if hp.key == MODEL:
            continue
        if hp.key not in raw:
            raise ConfigError(f"converted config lacks active hyperparameter '{hp.key}'")
        value = raw[hp.key]
        config[hp.key] = (
            decode_choice(hp, value) if hp.type == "categorical" else _numeric(hp, value)
        )
    ordered = {hp.key: config[hp.key] for hp in space.hyperparameters if hp.key in config}
    space.validate(ordered)
    return ordered


def same_config(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two configs are equal once stored (tuples and lists compare equal, as in JSON)."""
    return canonical_json(dict(a)) == canonical_json(dict(b))


# --- ConfigSpace (DEHB) -------------------------------------------------------------------------
def to_configspace(space: Space, seed: int) -> CS.ConfigurationSpace:
    """A seeded ConfigurationSpace: log flags, priors as defaults, children conditioned on model."""
    cs = CS.ConfigurationSpace(seed=seed)
    made: dict[str, Any] = {}
    for hp in space.hyperparameters:
        if hp.type == "categorical":
            made[hp.key] = CS.Categorical(hp.key, list(hp.choices), default=hp.prior)
        elif hp.type == "int":
            assert hp.low is not None and hp.high is not None
            made[hp.key] = CS.Integer(
                hp.key, (int(hp.low), int(hp.high)), log=hp.log, default=int(hp.prior)
            )
        else:
            assert hp.low is not None and hp.high is not None
            made[hp.key] = CS.Float(
                hp.key, (float(hp.low), float(hp.high)), log=hp.log, default=float(hp.prior)
            )
    cs.add(list(made.values()))
    conditions: list[Any] = []
    if MODEL in made:
        for hp in space.hyperparameters:
            if hp.family is not None:
                conditions.append(CS.EqualsCondition(made[hp.key], made[MODEL], hp.family))
            elif hp.families:  # a shared one some families do not take
                conditions.append(CS.InCondition(made[hp.key], made[MODEL], list(hp.families)))
    if conditions:
        cs.add(conditions)
    return cs


def from_configspace(space: Space, cs_config: Mapping[str, Any]) -> dict[str, Any]:
    """A flat, valid config of ``space`` from a ConfigSpace Configuration (or its dict)."""
    return _from_flat(space, dict(cs_config))


# --- NePS (PriorBand) ---------------------------------------------------------------------------
def to_neps(space: Space) -> SearchSpace:
    """NePS 0.17's classic SearchSpace with priors and ``epochs`` as the (integer) fidelity.

    Family children are always present (NePS has no conditions); ``from_neps`` drops the
    inactive ones. NePS needs ``fidelity.min < fidelity.max``.
    """
    from neps.space import HPOCategorical, HPOFloat, HPOInteger, SearchSpace

    elements: dict[str, Any] = {}
    for hp in space.hyperparameters:
        if hp.type == "categorical":
            elements[hp.key] = HPOCategorical(
                choices=encode_choices(hp),
                prior=encode_choice(hp, hp.prior),
                prior_confidence=hp.confidence,  # type: ignore[arg-type]
            )
        elif hp.type == "int":
            assert hp.low is not None and hp.high is not None
            elements[hp.key] = HPOInteger(
                lower=int(hp.low), upper=int(hp.high), log=hp.log, prior=int(hp.prior),
                prior_confidence=hp.confidence,  # type: ignore[arg-type]
            )  # fmt: skip
        else:
            assert hp.low is not None and hp.high is not None
            elements[hp.key] = HPOFloat(
                lower=float(hp.low), upper=float(hp.high), log=hp.log, prior=float(hp.prior),
                prior_confidence=hp.confidence,  # type: ignore[arg-type]
            )  # fmt: skip
    fid = space.fidelity
    if fid.name in elements:
        raise ConfigError(f"fidelity name '{fid.name}' clashes with a hyperparameter")
    if fid.min >= fid.max:
        raise ConfigError(f"NePS needs fidelity min < max, got {fid.min} and {fid.max}")
    elements[fid.name] = HPOInteger(lower=fid.min, upper=fid.max, is_fidelity=True)
    return SearchSpace(elements)


def from_neps(space: Space, neps_config: Mapping[str, Any]) -> dict[str, Any]:
    """A flat, valid config of ``space`` from a NePS config (fidelity and inactive keys dropped)."""
    return _from_flat(space, {k: v for k, v in neps_config.items() if k != space.fidelity.name})
