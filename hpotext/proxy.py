"""A cheap proxy benchmark for choosing the optimizer: a small, fully trained table of configs.

The proxy shrinks the real problem: a stratified slice of ``rows`` rows of the search subset,
sequences cut to ``max_len`` tokens, at most ``max_epochs`` epochs (the fidelity of
``proxy_space``) and layer widths capped at ``width_cap``. ``build_table`` trains ``configs``
space-filling and prior-centred configs (``sample_configs``) of that proxy space from scratch to
its maximum fidelity and writes one row per (config, epoch). ``hpotext.surrogate`` fits a
surrogate to the table and simulates optimizer runs on it; its public names are re-exported here.

A config that fails or diverges keeps its ``status`` and gets ``val_error`` = 1.0 (the worst
possible error) at every epoch, so the surrogate learns that its region is bad; its
``epoch_seconds`` are the seconds measured before it stopped (NaN when none finished), and rows
without a positive ``epoch_seconds`` are left out of the surrogate's timing model.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hpotext import data as data_mod
from hpotext import models
from hpotext import space as space_mod
from hpotext.errors import ConfigError
from hpotext.io import write_parquet
from hpotext.optimizers.records import Suggestion
from hpotext.priors import sample_around_prior
from hpotext.space import MODEL, SEP, Fidelity, Hyperparameter, Space
from hpotext.surrogate import (
    TRAJECTORY,
    Surrogate,
    SurrogateBenchmark,
    best_true,
    canonical,
    from_unit,
    run_optimizer,
)
from hpotext.train import Callback, TrainData, TrainState, default_device

__all__ = [
    "TRAJECTORY",
    "WIDTHS",
    "ProxySettings",
    "Surrogate",
    "SurrogateBenchmark",
    "best_true",
    "build_table",
    "proxy_space",
    "run_optimizer",
    "sample_configs",
]

log = logging.getLogger("hpotext.proxy")

# Hyperparameters (and fixed model settings) that set a layer width, capped on the proxy.
WIDTHS = ("embed_dim", "hidden_dim", "num_filters", "ff_dim")
# Std of the Gaussian (in unit-scaled coordinates) around the prior, by prior confidence.


@dataclass(frozen=True)
class ProxySettings:
    """Size of the proxy problem and of its table (the ``proxy`` config section)."""

    rows: int = 1200  # stratified slice of the search subset
    max_len: int = 32  # tokens per text
    max_epochs: int = 4  # the proxy fidelity's maximum
    width_cap: int = 64  # largest embed_dim / hidden_dim / num_filters / ff_dim
    configs: int = 30  # configs in the table
    prior_fraction: float = 0.25  # share of configs sampled around the prior
    seed: int = 0

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> ProxySettings:
        """Settings from a mapping (missing keys keep their defaults); one ConfigError per fault."""
        raw = dict(raw or {})
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ConfigError(
                f"proxy settings have unknown key(s) {unknown}; valid ones: {', '.join(known)}"
            )
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name == "prior_fraction":
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                if not ok or not 0.0 <= float(value) <= 1.0:
                    raise ConfigError(
                        f"proxy.prior_fraction is {value!r}; set it to a number in [0, 1], "
                        "e.g. 0.25"
                    )
                values[name] = float(value)
                continue
            lowest = 0 if name == "seed" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
                raise ConfigError(
                    f"proxy.{name} is {value!r}; set it to a whole number >= {lowest}"
                )
            values[name] = int(value)
        return cls(**values)


# --- the proxy space -------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cap(hp: Hyperparameter, cap: int) -> Hyperparameter | tuple[Any]:
    """``hp`` with its widths capped, or a 1-tuple holding the only value left."""
    if hp.name not in WIDTHS:
        return hp
    if hp.type == "categorical":
        numbers = [c for c in hp.choices if _is_number(c)]
        if not numbers or max(numbers) <= cap:
            return hp
        smallest = min(numbers)
        keep = tuple(c for c in hp.choices if not _is_number(c) or c <= cap or c == smallest)
        if len(keep) == 1:
            return (keep[0],)
        kept_numbers = [c for c in keep if _is_number(c)]
        prior = hp.prior if hp.prior in keep else max(kept_numbers)
        return dataclasses.replace(hp, choices=keep, prior=prior)
    assert hp.low is not None and hp.high is not None
    high = min(hp.high, cap)
    low = min(hp.low, high)
    if low == high:
        return (int(low) if hp.type == "int" else float(low),)
    prior = min(high, max(low, hp.prior))
    if hp.type == "int":
        low, high, prior = int(low), int(high), int(prior)
    return dataclasses.replace(hp, low=low, high=high, prior=prior)


def proxy_space(space: Space, settings: ProxySettings) -> Space:
    """``space`` with fidelity max min(max, settings.max_epochs) and widths capped.

    Width hyperparameters (``WIDTHS``) get ``high`` = min(high, width_cap) (categoricals lose
    the numeric choices above the cap, keeping at least the smallest); one left with a single
    value moves to ``fixed`` (a categorical whose choices all exceed the cap keeps its smallest
    one). Fixed widths above the cap are lowered to it, and so is every
    family's model default width that is neither searched nor fixed (as ``<family>__<name>``).
    """
    cap = settings.width_cap
    fixed = {
        key: cap if key.split(SEP)[-1] in WIDTHS and _is_number(value) and value > cap else value
        for key, value in space.fixed.items()
    }
    hps: list[Hyperparameter] = []
    for hp in space.hyperparameters:
        capped = _cap(hp, cap)
        if isinstance(capped, Hyperparameter):
            hps.append(capped)
        else:
            fixed[hp.key] = capped[0]
    searched = {hp.key for hp in hps} | {hp.name for hp in hps if hp.family is None}
    for family in space.families:
        for name, default in models.hyperparameters(family).items():
            key = f"{family}{SEP}{name}"
            taken = name in searched or key in searched or name in fixed or key in fixed
            wide = isinstance(default, int | float) and _is_number(default) and default > cap
            if name in WIDTHS and wide and not taken:
                fixed[key] = cap
    fid = space.fidelity
    top = max(1, min(fid.max, settings.max_epochs))
    fidelity = Fidelity(fid.name, min(fid.min, top), top, fid.eta)
    proxy = Space(tuple(hps), fidelity, fixed)
    return space_mod.from_dict(space_mod.to_dict(proxy), where="proxy search space")


# --- sampling --------------------------------------------------------------------------------
def _from_cube(space: Space, point: np.ndarray) -> dict[str, Any]:
    """The config at ``point`` of the unit cube (one coordinate per hyperparameter key)."""
    config: dict[str, Any] = {}
    family_default = space.fixed.get(MODEL)
    for hp, u in zip(space.hyperparameters, point, strict=True):
        if hp.family is None or hp.family == config.get(MODEL, family_default):
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
        key = canonical(ordered)
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
class _EpochSeconds(Callback):
    """Training callback that records the seconds of every finished epoch."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_epoch_end(self, state: TrainState) -> None:
        self.seconds.append(float(state.history[-1].seconds))


def _column_value(hp: Hyperparameter, value: Any, kind: str) -> Any:
    if value is None:
        return math.nan if kind == "number" else None
    if kind == "number":
        return float(value)
    return value if kind == "str" else json.dumps(value)


def _column_kind(hp: Hyperparameter) -> str:
    """How ``config.<key>`` stores a value: number (float, NaN inactive), str, or json text."""
    if hp.type != "categorical" or all(_is_number(c) for c in hp.choices):
        return "number"
    return "str" if all(isinstance(c, str) for c in hp.choices) else "json"


def _proxy_data(
    subset_path: str, val_path: str, vocab_path: str, info_path: str, rows: int, max_len: int,
    seed: int,
) -> TrainData:  # fmt: skip
    """TrainData of a stratified slice of about ``rows`` rows of the search subset."""
    from hpotext.pipeline import encode_split
    from hpotext.text import Vocab

    df = data_mod.load_split(subset_path)
    if rows < len(df):
        df = data_mod.search_subset(df, rows / len(df), seed)
    vocab = Vocab.load(vocab_path)
    classes = data_mod.DatasetInfo.from_json(info_path).classes
    index = {c: i for i, c in enumerate(classes)}
    train_ids = vocab.encode_all(df["text"], max_len)
    train_y = [index[str(y)] for y in df["label"]]
    val_ids, val_y = encode_split(val_path, vocab, classes, max_len)
    return TrainData(train_ids, train_y, val_ids, val_y, len(vocab), len(classes), max_len)


def partial_path(out_path: str | Path) -> Path:
    """Where a table shard keeps the configs it has finished, until its table is written: a
    killed shard's rerun trains only the rest (Snakemake deletes the incomplete output, not this).
    """
    out = Path(out_path)
    return out.with_name(out.stem + ".partial.jsonl")


def _append_partial(
    keep: Any, config_id: int, config: str, rows: list[dict[str, Any]]
) -> None:  # fmt: skip
    keep.write(json.dumps({"config_id": config_id, "config": config, "rows": rows}) + "\n")
    keep.flush()
    os.fsync(keep.fileno())


def _read_partial(path: Path, expected: dict[int, str]) -> dict[int, list[dict[str, Any]]]:
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


def build_table(
    space_path: str,
    subset_path: str,
    val_path: str,
    vocab_path: str,
    info_path: str,
    settings: dict[str, Any],
    base_train: dict[str, Any],
    out_path: str,
    shard: int = 0,
    shards: int = 1,
) -> None:
    """Train the sampled proxy configs from scratch to the proxy's max fidelity; write the
    long table (config_id, model, config, config.<key>..., epoch, val_error, epoch_seconds,
    status) to ``out_path`` (parquet, atomically). Checkpoints live in a temporary folder.

    With ``shards`` > 1 only the configs whose index is ``shard`` modulo ``shards`` are
    trained: shards run as parallel jobs and ``merge_tables`` joins them. Every config trains
    with the same seed whichever shard it lands in, so the joined table does not depend on
    the number of shards (timings aside).

    Each finished config is also appended to ``partial_path(out_path)``; a rerun after a kill
    reuses those and trains only the rest.

    ``batch_size: auto`` in ``base_train`` trains with 64 (the proxy slice is too small for
    the largest batch that fits on the device).
    """
    from hpotext.objective import TrialRunner

    opts = ProxySettings.from_dict(settings)
    space = proxy_space(space_mod.load(space_path), opts)
    data = _proxy_data(
        subset_path, val_path, vocab_path, info_path, opts.rows, opts.max_len, opts.seed
    )
    configs = sample_configs(space, opts.configs, opts.prior_fraction, opts.seed)
    timer = _EpochSeconds()
    runner = TrialRunner(space, data, base_train, opts.seed, default_device(), callbacks=(timer,))
    top = space.fidelity.max
    kinds = {hp.key: _column_kind(hp) for hp in space.hyperparameters}
    partial = partial_path(out_path)
    partial.parent.mkdir(parents=True, exist_ok=True)
    done = _read_partial(partial, {i: canonical(c) for i, c in enumerate(configs)})
    if done:
        log.info("resuming: %d proxy configs already trained (%s)", len(done), partial)
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hpotext-proxy-") as tmp, partial.open("a") as keep:
        for i, config in enumerate(configs):
            if i % shards != shard:
                continue
            if i in done:
                rows += done[i]
                continue
            timer.seconds = []
            result = runner(Suggestion(i, config, top), None, Path(tmp) / f"config{i:04d}")
            ok = result.ok and len(result.curve) > 0
            errors = list(result.curve) if ok else [1.0] * top
            seconds = list(timer.seconds)
            mean = float(np.mean(seconds)) if seconds else math.nan
            seconds += [mean] * (len(errors) - len(seconds))
            text = canonical(config)
            base = {
                "config_id": i,
                "model": str(config.get(MODEL, space.fixed.get(MODEL))),
                "config": text,
            }
            for hp in space.hyperparameters:
                base[f"config.{hp.key}"] = _column_value(hp, config.get(hp.key), kinds[hp.key])
            config_rows = [
                {**base, "epoch": epoch, "val_error": float(err), "epoch_seconds": sec,
                 "status": result.status}
                for epoch, (err, sec) in enumerate(zip(errors, seconds, strict=True), start=1)
            ]  # fmt: skip
            _append_partial(keep, i, text, config_rows)
            rows += config_rows
            log.info(
                "proxy config %d/%d (%s): %s, error %.4f, %.1f s in all",
                i + 1, len(configs), base["model"], result.status, errors[-1],
                time.perf_counter() - started,
            )  # fmt: skip
    write_parquet(pd.DataFrame(rows), out_path)
    partial.unlink(missing_ok=True)
