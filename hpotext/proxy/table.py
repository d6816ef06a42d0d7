"""A cheap proxy benchmark for choosing the optimizer: a small, fully trained table of configs.

The proxy shrinks the real problem: a stratified slice of ``rows`` rows of the search subset,
sequences cut to ``max_len`` tokens, at most ``max_epochs`` epochs (the fidelity of
``proxy_space``) and layer widths capped at ``width_cap``. Each ``proxy_table_shard`` job
(hpotext.proxy.steps) trains its share of ``configs``
space-filling and prior-centred configs (``sample_configs``) of that proxy space from scratch to
its maximum fidelity and writes one row per (config, epoch). ``hpotext.proxy.surrogate`` fits a
surrogate to the table and hpotext.proxy.replay simulates optimizer runs on it.

A config that fails or diverges keeps its ``status`` and gets ``val_error`` = 1.0 (the worst
possible error) at every epoch, so the surrogate learns that its region is bad; its
``epoch_seconds`` are the seconds measured before it stopped (NaN when none finished), and rows
without a positive ``epoch_seconds`` are left out of the surrogate's timing model.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hpotext.data.info import SplitFiles, load_split
from hpotext.errors import ConfigError
from hpotext.io import canonical_json
from hpotext.proxy.settings import is_number
from hpotext.space.core import MODEL, Hyperparameter, Space
from hpotext.space.encode import from_unit
from hpotext.space.priors import sample_around_prior
from hpotext.train.callbacks import Callback, TrainState

if TYPE_CHECKING:
    from hpotext.train.inputs import TrainInputs

log = logging.getLogger(__name__)


# --- sampling --------------------------------------------------------------------------------
def _from_cube(space: Space, point: np.ndarray) -> dict[str, Any]:
    """The config at ``point`` of the unit cube (one coordinate per hyperparameter key)."""
    config: dict[str, Any] = {}
    family_default = space.fixed.get(MODEL)
    for hp, u in zip(space.hyperparameters, point, strict=True):
        if hp.key == MODEL or hp.active_for(config.get(MODEL, family_default)):
            config[hp.key] = from_unit(hp, float(u))
    return config


def sample_configs(
    space: Space, n: int, prior_fraction: float = 0.25, seed: int = 0
) -> list[dict[str, Any]]:
    """``n`` distinct valid configs: round(n * prior_fraction) around the prior, the rest
    space-filling.

    The prior block comes first: the prior config itself, then Gaussian perturbations of it in
    unit-scaled coordinates (categoricals keep the prior with probability 1 - 2 std). The rest
    are Latin-hypercube points over a unit cube with one dimension per hyperparameter key, each
    coordinate mapped through its hyperparameter (log or linear, a choice's slot for
    categoricals); only the active family's children are kept. Deterministic for ``seed``.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"the number of proxy configs is {n!r}; set proxy.configs to >= 1")
    if not 0.0 <= prior_fraction <= 1.0:
        raise ConfigError(
            f"proxy.prior_fraction is {prior_fraction!r}; set it to a number in [0, 1]"
        )
    from scipy.stats import qmc

    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(config: dict[str, Any]) -> None:
        ordered = {hp.key: config[hp.key] for hp in space.hyperparameters if hp.key in config}
        key = canonical_json(ordered)
        if key not in seen and len(out) < n:
            space.validate(ordered)
            seen.add(key)
            out.append(ordered)

    n_prior = min(n, round(n * prior_fraction))
    if n_prior:
        add(space.default())
    for _ in range(100 * n_prior):
        if len(out) >= n_prior:
            break
        add(sample_around_prior(space, rng))
    for _ in range(50):
        need = n - len(out)
        if need <= 0:
            break
        sampler = qmc.LatinHypercube(d=len(space.hyperparameters), rng=int(rng.integers(2**32)))
        for point in sampler.random(need):
            add(_from_cube(space, point))
    if len(out) < n:
        raise ConfigError(
            f"the proxy search space has fewer than {n} distinct configs (found {len(out)}); "
            "lower proxy.configs"
        )
    return out


# --- the table -------------------------------------------------------------------------------
class EpochSeconds(Callback):
    """Training callback that records the seconds of every finished epoch."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_epoch_end(self, state: TrainState) -> None:
        self.seconds.append(float(state.history[-1].seconds))


def column_value(hp: Hyperparameter, value: Any, kind: str) -> Any:
    if value is None:
        return math.nan if kind == "number" else None
    if kind == "number":
        return float(value)
    return value if kind == "str" else json.dumps(value)


def column_kind(hp: Hyperparameter) -> str:
    """How ``config.<key>`` stores a value: number (float, NaN inactive), str, or json text."""
    if hp.type != "categorical" or all(is_number(c) for c in hp.choices):
        return "number"
    return "str" if all(isinstance(c, str) for c in hp.choices) else "json"


def proxy_data(files: SplitFiles, rows: int, max_len: int, seed: int) -> TrainInputs:
    """The proxy task: a stratified slice of about ``rows`` rows of the search subset, with the
    validation split, as each model family takes them (the encoder family reads the slice's
    rows of the search subset's cached features)."""
    from hpotext.data.split import subset_rows
    from hpotext.train.inputs import TrainInputs

    labels = load_split(files.train)["label"].to_numpy()
    kept = None
    if rows < len(labels):
        kept = [int(i) for i in subset_rows(labels, rows / len(labels), seed)]
    return TrainInputs(files, max_len, train_rows=kept)


def partial_path(out_path: str | Path) -> Path:
    """Where a table shard keeps the configs it has finished, until its table is written: a
    killed shard's rerun trains only the rest (Snakemake deletes the incomplete output, not this).
    """
    out = Path(out_path)
    return out.with_name(out.stem + ".partial.jsonl")


def scratch_path(out_path: str | Path) -> Path:
    """Where a table shard keeps its trials' checkpoints while it trains: beside its output, not
    in the system's temporary folder, so that a shard killed by a signal (which runs no clean-up)
    leaves them where its rerun removes them."""
    out = Path(out_path)
    return out.with_name(out.stem + ".scratch")


def append_partial(
    keep: Any, config_id: int, config: str, rows: list[dict[str, Any]]
) -> None:  # fmt: skip
    keep.write(json.dumps({"config_id": config_id, "config": config, "rows": rows}) + "\n")
    keep.flush()
    os.fsync(keep.fileno())


def read_partial(path: Path, expected: dict[int, str]) -> dict[int, list[dict[str, Any]]]:
    """The finished configs in ``path`` that are still the configs the settings sample (a torn
    last line, or a config from other settings, is trained again)."""
    done: dict[int, list[dict[str, Any]]] = {}
    if not path.exists():
        return done
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if expected.get(entry["config_id"]) == entry["config"]:
            done[entry["config_id"]] = entry["rows"]
    return done
