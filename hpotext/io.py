"""Atomic writes and plain reads of the files every stage exchanges: json, text (md, html, yaml)
and parquet.

A write goes to a temporary file next to its target and is moved into place with
``os.replace`` only once complete, so a killed job never leaves a half-written output that a
rerun would take for finished. No torch, no pandas at import: the Snakefile and CPU-only
scripts import this module.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; it replaces ``path`` (a folder) only if the
    block succeeds, so a folder output is either whole or absent."""
    import shutil
    import tempfile

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp's folder is private; an output folder is not
    try:
        yield tmp
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (markdown, html, yaml, ...) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(obj: Any, path: str | Path, **dumps: Any) -> None:
    """Write ``obj`` as indented JSON atomically (``dumps``: more json.dumps options)."""
    write_text(path, json.dumps(obj, indent=2, **dumps) + "\n")


def read_json(path: str | Path) -> Any:
    """The JSON value in ``path``."""
    return json.loads(Path(path).read_text())


def write_parquet(df: pd.DataFrame, path: str | Path) -> None:
    """Write ``df`` (without its index) to parquet atomically."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


def concat_parquets(
    paths: list[str], out: str | Path, sort_by: list[str], log: str | Path | None = None
) -> None:
    """Join parquet parts (e.g. the proxy table's shards) into one file, rows sorted; with
    ``log``, write one line saying so there."""
    import pandas as pd

    table = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    write_parquet(table.sort_values(sort_by, kind="stable"), out)
    if log is not None:
        Path(log).write_text(f"joined {len(paths)} parts ({len(table)} rows) into {out}\n")


def plain(value: Any) -> Any:
    """``value`` as plain Python for JSON or YAML: numpy (and torch) scalars unwrapped, tuples
    as lists, dict keys kept, recursively."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    return value


def json_safe(value: Any) -> Any:
    """``plain(value)`` with NaN and infinities as None and mapping keys as strings: what strict
    JSON (``allow_nan=False``) and parquet cells read back as missing."""
    value = plain(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def canonical_json(value: Any) -> str:
    """``value`` as sorted-key JSON (tuples become lists, numpy scalars numbers): equal configs
    give equal strings."""
    return json.dumps(plain(value), sort_keys=True)
