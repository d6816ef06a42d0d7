"""A search space's priors (the prior value and its confidence): sampling around them, and
deriving them from an earlier search's top configs.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hpotext import space as space_mod
from hpotext.errors import ConfigError
from hpotext.space.core import MODEL, Space

# Standard deviation, in unit-scaled coordinates, of a prior of each confidence.
PRIOR_STD = {"low": 0.25, "medium": 0.15, "high": 0.05}


def sample_around_prior(space: Space, rng: np.random.Generator) -> dict[str, Any]:
    """A perturbation of the prior config, narrower for more confident priors: numeric values
    are Gaussian around the prior in unit-scaled (log where log) coordinates, categoricals keep
    the prior with probability 1 - 2 std and are uniform otherwise."""
    from hpotext.space.encode import from_unit, to_unit

    config: dict[str, Any] = {}
    family_default = space.fixed.get(MODEL)
    for hp in space.hyperparameters:
        if hp.key != MODEL and not hp.active_for(config.get(MODEL, family_default)):
            continue
        std = PRIOR_STD[hp.confidence]
        if hp.type == "categorical":
            keep = rng.random() < 1.0 - 2.0 * std
            config[hp.key] = hp.prior if keep else hp.choices[int(rng.integers(len(hp.choices)))]
        else:
            config[hp.key] = from_unit(hp, to_unit(hp, hp.prior) + rng.normal(0.0, std))
    return config


# --- priors derived from an earlier search -------------------------------------------------------
def _confidence_of(spread: float) -> str:
    """The confidence whose sampling std (PRIOR_STD) is nearest to the observed spread."""
    return min(PRIOR_STD, key=lambda name: abs(PRIOR_STD[name] - spread))


def _share_confidence(share: float) -> str:
    """A categorical prior's confidence from the share of the top configs that chose it."""
    return "high" if share >= 0.75 else "medium" if share >= 0.5 else "low"


def derive_priors(
    trials: pd.DataFrame, space: Space, top_k: int = 10, source: str = ""
) -> dict[str, Any]:
    """Priors for ``space`` from a finished search's trial table (seed 002's architecture and
    expert priors, taken from the top configs of an earlier search).

    The top ``top_k`` distinct configs by validation error at the highest rung that at least
    ``top_k`` configs reached (else the rung most configs reached) decide: a categorical (the
    model family included) takes its most frequent value there, with a confidence from that
    value's share (>= 75 % high, >= 50 % medium, else low); a numeric hyperparameter is centred
    on the median of the top configs in unit (log where log) coordinates, with the confidence
    whose sampling spread is nearest to theirs. A hyperparameter fewer than two top configs
    used (a family the top configs avoided) keeps the space's prior.
    """
    from hpotext.report.importance import choose_fidelity
    from hpotext.space.encode import from_unit, to_unit

    if top_k < 2:
        raise ConfigError(f"priors.top_k is {top_k}; use at least 2")
    fidelity, obs, _ = choose_fidelity(trials, space, top_k)
    if len(obs) < 2:
        raise ConfigError(
            f"the search behind {source or 'these trials'} finished fewer than two configs; "
            "derive priors from a search that ran longer"
        )
    top = obs.nsmallest(top_k, "value")
    priors: dict[str, dict[str, Any]] = {}
    for hp in space.hyperparameters:
        values = [v for v in top.get(hp.key, pd.Series(dtype=object)).tolist() if _present(v)]
        if len(values) < 2:
            continue
        if hp.type == "categorical":
            counts: dict[Any, int] = {}
            for v in values:
                counts[v] = counts.get(v, 0) + 1
            best = max(counts, key=lambda v: (counts[v], -hp.choices.index(v)))
            prior = hp.choices[hp.choices.index(best)]  # the choice itself: 64, not 64.0
            confidence = _share_confidence(counts[best] / len(values))
        else:
            units = np.array([to_unit(hp, v) for v in values])
            prior = from_unit(hp, float(np.median(units)))
            confidence = _confidence_of(float(np.std(units)))
        priors[hp.key] = {"prior": prior, "confidence": confidence, "configs": len(values)}
    return {"source": source, "fidelity": int(fidelity), "top_k": len(top), "priors": priors}


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def apply_priors(space: Space, priors: dict[str, Any], where: str = "priors file") -> Space:
    """``space`` with the priors (and confidences) of a priors file in place of its own."""
    entries = priors.get("priors") if isinstance(priors, dict) else None
    if not isinstance(entries, dict):
        raise ConfigError(f"{where} has no 'priors:' mapping of hyperparameter -> prior; "
                          "write one, or derive it with the derive_priors rule")  # fmt: skip
    by_key = space.by_key()
    replaced = dict.fromkeys(space.hyperparameters)
    for key, entry in entries.items():
        if key not in by_key:
            raise ConfigError(f"{where}: {key!r} is not a hyperparameter of the search space "
                              f"({', '.join(by_key)}); remove it or fix its name")  # fmt: skip
        if not isinstance(entry, dict) or "prior" not in entry:
            raise ConfigError(f"{where}: {key!r} needs a 'prior:' (and optionally "
                              "'confidence:'); add it")  # fmt: skip
        hp = by_key[key]
        value: Any = entry["prior"]
        value = tuple(value) if isinstance(value, list) else value
        confidence = entry.get("confidence", hp.confidence)
        if confidence not in PRIOR_STD:
            raise ConfigError(f"{where}: confidence of {key!r} is {confidence!r}; use one of "
                              f"{', '.join(PRIOR_STD)}")  # fmt: skip
        if not hp.contains(value):
            raise ConfigError(f"{where}: prior {value!r} of {key!r} is outside the space's "
                              "range or choices; move it inside or widen the space")  # fmt: skip
        if hp.type == "int":
            value = int(value)
        elif hp.type == "categorical":
            value = hp.choices[hp.choices.index(value)]  # 64.0 in a file is the choice 64
        replaced[hp] = dataclasses.replace(hp, prior=value, confidence=confidence)
    updated = [replaced[hp] or hp for hp in space.hyperparameters]
    return dataclasses.replace(space, hyperparameters=tuple(updated))


def load_priors(path: str | Path) -> dict[str, Any]:
    """A priors file (YAML); a missing or unreadable one is a ConfigError naming it."""
    fix = (
        "set search.priors to the priors/derived.yaml of an earlier study (run it first) or to "
        "a file of your own"
    )
    return space_mod.read_yaml(Path(path), "priors file", fix) or {}
