"""A portfolio initial design: configs that did well on other datasets, evaluated first.

As auto-sklearn 2.0 and AutoGluon's presets do, a search on a new dataset starts with a short
list of configs that won on earlier datasets before the optimizer's own proposals. The
portfolio file (config/portfolio.yaml, written by benchmarks/portfolio.py from the committed
families benchmark) lists, per shipped dataset and model family, the config its search tuned and
the validation accuracy it reached:

    entries:
      - {dataset: trec, family: lstm, val_accuracy: 0.923, config: {lr: 0.024, ...}}

``select`` leaves out the study's own dataset (a portfolio never holds the answer it is scored
on), ranks each dataset's entries by validation accuracy and takes them round-robin over the
datasets (each dataset's best first), fitted to the search space: a family the space does not
search is skipped, a value the space does not hold falls back to the prior, duplicates and the
prior config itself are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpotext.errors import ConfigError
from hpotext.io import canonical_json
from hpotext.space.core import MODEL, SEP, Space
from hpotext.space.parse import read_yaml


@dataclass(frozen=True)
class Entry:
    """One tuned config of one model family on one dataset."""

    dataset: str
    family: str
    val_accuracy: float
    config: dict[str, Any]


def read(path: str | Path) -> list[Entry]:
    """The entries of a portfolio file; a ConfigError names the file and the bad entry."""
    data = read_yaml(Path(path), "portfolio file", "point search.portfolio at an existing file")
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"portfolio file {path} needs a list under 'entries'; see {__name__}")
    found = []
    for i, e in enumerate(entries):
        try:
            found.append(
                Entry(
                    str(e["dataset"]), str(e["family"]), float(e["val_accuracy"]), dict(e["config"])
                )
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(
                f"portfolio file {path}: entry {i} needs dataset, family, val_accuracy and a "
                f"config mapping ({err!r}); fix it or rewrite the file with benchmarks/portfolio.py"
            ) from err
    return found


def fit(space: Space, family: str, config: dict[str, Any]) -> dict[str, Any] | None:
    """``config`` (a tuned config of ``family``, with or without ``model``) as a config of
    ``space``: each active hyperparameter from ``config`` when the space holds its value, else
    the prior; None when the space does not search ``family``."""
    if family not in space.families:
        return None
    fitted: dict[str, Any] = {} if MODEL in space.fixed else {MODEL: family}
    for hp in space.hyperparameters:
        if hp.key == MODEL or not hp.active_for(family):
            continue
        name = hp.key.split(SEP, 1)[1] if SEP in hp.key else hp.key
        value = config.get(hp.key, config.get(name) if SEP not in hp.key else None)
        if value is not None and hp.type == "int":
            value = int(round(float(value)))
        fitted[hp.key] = value if value is not None and hp.contains(value) else hp.prior
    space.validate(fitted)
    return fitted


def select(
    entries: list[Entry], space: Space, size: int, exclude: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Up to ``size`` configs of ``space``: each other dataset's best first, round-robin."""
    by_dataset: dict[str, list[Entry]] = {}
    for e in entries:
        if e.dataset not in exclude and e.family in space.families:
            by_dataset.setdefault(e.dataset, []).append(e)
    ranked = [sorted(v, key=lambda e: -e.val_accuracy) for _, v in sorted(by_dataset.items())]
    seen = {canonical_json(space.default())}
    chosen: list[dict[str, Any]] = []
    for depth in range(max((len(r) for r in ranked), default=0)):
        for r in ranked:
            if depth >= len(r) or len(chosen) >= size:
                continue
            config = fit(space, r[depth].family, r[depth].config)
            if config is not None and canonical_json(config) not in seen:
                seen.add(canonical_json(config))
                chosen.append(config)
    return chosen
