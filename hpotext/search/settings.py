"""A study's search settings against the search already in its folder.

A search is identified by its settings (optimizer, seed, space, base training settings, max_len
and a digest of its data), stored as the first line of its journal. A study asked to run with
other settings than its existing search either stops with one sentence holding both commands
that resolve it (``search.on_change: stop``, the default): continue the search with the settings
it was started with, or start a new search while the old one is kept whole next to it as
``search.<n>/`` (``search.on_change: new``). Nothing is ever mixed or deleted.

What is known when Snakemake reads the workflow is checked then (``check_study``), before any
job runs, so a refused change leaves every output as it was; what only a job knows (the data
digest, the optimizer the selection stage picks) is checked by that job before it writes.
No torch here: the Snakefile imports this module.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import yaml

from hpotext import space as space_mod
from hpotext.errors import ConfigError
from hpotext.io import write_text
from hpotext.models.weights import needs_encoder, resolve_encoder
from hpotext.search.store import SettingsChanged, TrialStore, changed_keys, next_free, stored_meta

log = logging.getLogger(__name__)


ON_CHANGE = ("stop", "new")
SPACE_FILE = "space.yaml"  # the space a search was started with, inside its folder
# meta key -> (config section, key): where a user sets it, to restore it
CONFIG_KEY = {
    "optimizer": ("search", "optimizer"),
    "seed": ("search", "seed"),
    "max_len": ("text", "max_len"),
    "space": ("search", "space"),
    "encoder": ("encoder", "name"),
}


def search_meta(
    space: space_mod.Space,
    optimizer: str,
    seed: int,
    base_train: dict[str, Any],
    max_len: int,
    data: str | None = None,
    encoder: str | None = None,
    portfolio: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What identifies one search: a store made with other settings is refused, not mixed.
    ``data`` is the digest of the data it searches on (``data_digest``); ``encoder`` the
    encoder.name folder, for a space with the encoder family; ``portfolio`` the
    search.portfolio setting, when it is on (its size and file)."""
    train = {k: v for k, v in base_train.items() if k != "epochs"}
    meta = {
        "optimizer": optimizer,
        "seed": seed,
        "space": space_mod.to_dict(space),
        "train": train,
        "max_len": max_len,
    }
    if encoder is not None:
        meta["encoder"] = encoder
    if portfolio and int(portfolio.get("size", 0)) > 0:
        meta["portfolio"] = {"size": int(portfolio["size"]), "file": str(portfolio["file"])}
    return meta if data is None else {**meta, "data": data}


def data_digest(*paths: str) -> str:
    """A digest of the search's data (parquet rows in order, other files byte for byte)."""
    import pandas as pd

    digest = hashlib.sha256()
    for path in paths:
        if path.endswith(".parquet"):
            rows = pd.util.hash_pandas_object(pd.read_parquet(path), index=False)
            digest.update(rows.to_numpy().tobytes())
        else:
            digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def open_search(store: TrialStore, meta: dict[str, Any], on_change: str) -> Path | None:
    """Open the store for the search ``meta`` describes (see the module docstring); returns the
    folder an earlier search was moved to, if one was."""
    try:
        kept = store.open(meta, on_change)
    except SettingsChanged as err:
        raise ConfigError(resolution(err)) from None
    space_file = store.root / SPACE_FILE
    if kept is not None or not space_file.exists():
        _write_space(meta["space"], space_file)
    if kept is not None:
        log.warning("the search settings changed: the earlier search is kept in %s", kept)
    return kept


def check_study(
    store_dir: str | Path,
    space: space_mod.Space,
    cfg: dict[str, Any],
    optimizer: str | None = None,
) -> None:
    """Refuse, before any job, a study whose settings differ from its existing search's.

    Compares what the config fixes: seed, space, training settings, max_len, and the optimizer
    when it is named (``optimizer`` overrides it, e.g. the one a selection just picked).
    """
    stored = stored_meta(store_dir)
    if stored is None or cfg["search"]["on_change"] == "new":
        return
    named = optimizer or cfg["search"]["optimizer"]
    encoder = None
    if needs_encoder(space):
        encoder = resolve_encoder(cfg["encoder"]["name"]).folder
    known = search_meta(
        space,
        named,
        cfg["search"]["seed"],
        cfg["train"],
        cfg["text"]["max_len"],
        None,
        encoder,
        portfolio=cfg["search"].get("portfolio"),
    )
    if named == "auto":
        del known["optimizer"]
    wanted = json.loads(json.dumps(known, default=str))
    old = {key: stored.get(key) for key in wanted}
    if old != wanted:
        raise ConfigError(resolution(SettingsChanged(Path(store_dir), old, wanted)))


def check_optimizer(store_dirs: list[str], chosen: str, on_change: str) -> None:
    """Refuse a selection that differs from the optimizer an existing search uses (the
    selection stage runs this before the search, so nothing downstream runs on a mixed state)."""
    if on_change == "new":
        return
    for store_dir in store_dirs:
        stored = stored_meta(store_dir)
        if stored is not None and stored.get("optimizer") not in (None, chosen):
            err = SettingsChanged(Path(store_dir), {"optimizer": stored["optimizer"]},
                                  {"optimizer": chosen})  # fmt: skip
            raise ConfigError(resolution(err))


def resolution(err: SettingsChanged) -> str:
    """One sentence: what changed, the command that continues the search, the one that starts
    a new search and keeps the old one."""
    root, stored, wanted = err.root, err.stored, err.wanted
    changes: list[str] = []
    restore: dict[str, dict[str, Any]] = {}
    data_changed = False
    for key in changed_keys(stored, wanted):
        top, _, sub = key.partition(".")
        if top == "portfolio":
            if "portfolio" in restore.get("search", {}):
                continue  # its size and its file: one change
            old, new = stored.get("portfolio"), wanted.get("portfolio")
            changes.append(f"search.portfolio {_value(old)} -> {_value(new)}")
            restore.setdefault("search", {})["portfolio"] = old or {"size": 0}
        elif top == "train":
            old, new = stored["train"].get(sub), wanted["train"].get(sub)
            changes.append(f"train.{sub} {_value(old)} -> {_value(new)}")
            restore.setdefault("train", {})[sub] = old
        elif top == "space":
            changes.append("search.space (ranges, priors or choices)")
            path = root / SPACE_FILE
            if not path.exists():
                _write_space(stored["space"], path)
            restore.setdefault("search", {})["space"] = str(path)
        elif top in CONFIG_KEY:
            section, name = CONFIG_KEY[top]
            changes.append(f"{section}.{name} {_value(stored.get(top))} -> {_value(wanted[top])}")
            restore.setdefault(section, {})[name] = stored.get(top)
        elif top == "data":
            changes.append("the data it searches (dataset, data.* or text.*)")
            data_changed = True
        else:
            changes.append(key)
    if data_changed:
        resume = "restore the data it was started with"
    else:
        items = " ".join(
            f"{section}='{{{', '.join(f'{k}: {_value(v)}' for k, v in values.items())}}}'"
            for section, values in restore.items()
        )
        resume = f"rerun with --config {items}"
    return (
        f"the search in {root} was started with other settings ({', '.join(changes)}); to "
        f"continue it {resume}, or to start a new search and keep this one as "
        f"{next_free(root)} rerun with --config search='{{on_change: new}}'"
    )


def _value(value: Any) -> str:
    return json.dumps(value)


def _write_space(space: dict[str, Any], path: Path) -> None:
    write_text(path, yaml.safe_dump(space, sort_keys=False))
