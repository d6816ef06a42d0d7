"""Cell values of a read table as texts and labels (missing values, numbers read as labels)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from hpotext.data.files import INT_LIKE


def is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, dicts and arrays are not missing values
        return False


def to_text(values: Iterable[object]) -> pd.Series:
    return pd.Series(
        [None if is_missing(v) else (v if isinstance(v, str) else str(v)) for v in values],
        dtype=object,
    )


def label_str(value: object) -> str | None:
    if is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def to_labels(values: Iterable[object]) -> pd.Series:
    """Labels as str; integral numbers (0, 1.0, "1.0") become "0"/"1" so all formats agree."""
    labels = [label_str(v) for v in values]
    present = [s.strip() for s in labels if s is not None]
    if present and all(INT_LIKE.match(s) for s in present):
        labels = [None if s is None else s.strip().split(".")[0] for s in labels]
    return pd.Series(labels, dtype=object)
