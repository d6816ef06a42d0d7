"""Sampling around a search space's priors (the prior value and its confidence)."""

from __future__ import annotations

from typing import Any

import numpy as np

from hpotext.space import MODEL, Space
from hpotext.surrogate import from_unit, to_unit

# Standard deviation, in unit-scaled coordinates, of a prior of each confidence.
PRIOR_STD = {"low": 0.25, "medium": 0.15, "high": 0.05}


def sample_around_prior(space: Space, rng: np.random.Generator) -> dict[str, Any]:
    """A perturbation of the prior config, narrower for more confident priors: numeric values
    are Gaussian around the prior in unit-scaled (log where log) coordinates, categoricals keep
    the prior with probability 1 - 2 std and are uniform otherwise."""
    config: dict[str, Any] = {}
    family_default = space.fixed.get(MODEL)
    for hp in space.hyperparameters:
        if hp.family is not None and hp.family != config.get(MODEL, family_default):
            continue
        std = PRIOR_STD[hp.confidence]
        if hp.type == "categorical":
            keep = rng.random() < 1.0 - 2.0 * std
            config[hp.key] = hp.prior if keep else hp.choices[int(rng.integers(len(hp.choices)))]
        else:
            config[hp.key] = from_unit(hp, to_unit(hp, hp.prior) + rng.normal(0.0, std))
    return config
