"""The priors stage's steps: priors derived from a finished search, and a space with a priors
file's priors in place."""

from __future__ import annotations

import pandas as pd
import yaml

from hpotext import space as space_mod
from hpotext.io import plain, write_text
from hpotext.space import priors


def derive_priors(trials_path: str, space_path: str, top_k: int, out: str) -> None:
    """The derive_priors step: priors from this study's trials, for later studies."""
    space = space_mod.load(space_path)
    derived = priors.derive_priors(pd.read_parquet(trials_path), space, top_k, source=trials_path)
    text = "# Priors derived from the top configs of a finished search (hpotext.priors).\n"
    write_text(out, text + yaml.safe_dump(plain(derived), sort_keys=False))


def prior_space(space_path: str, priors_path: str, out: str) -> None:
    """The prior_space step: the study's space with a priors file's priors in place."""
    space = priors.apply_priors(
        space_mod.load(space_path), priors.load_priors(priors_path), priors_path
    )
    write_text(out, yaml.safe_dump(space_mod.to_dict(space), sort_keys=False))
