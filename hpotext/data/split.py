"""Datasets: clean a read table, split it stratified, take the search subset, write parquet.

Every problem with the user's data raises :class:`hpotext.errors.DataError` with one sentence
that names the file, column or class at fault and says how to fix it. Output files are written
to a temporary name in the same folder and moved into place only after everything validated.
Reading files lives in :mod:`hpotext.data.tables`.
"""

from __future__ import annotations

import logging
import math
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd

from hpotext.data.files import SPLITS, list_columns, short
from hpotext.data.info import CleanReport, DatasetInfo
from hpotext.data.values import to_labels, to_text
from hpotext.errors import ConfigError, DataError
from hpotext.io import atomic_path

MAX_CHARS = 10_000  # data.max_chars: longer texts are cut (a 200 MB row cost TF-IDF 7.7 GB)
MIN_EVAL_ROWS = 100  # fewer val/test rows: one example moves accuracy by more than 1 %


log = logging.getLogger(__name__)


def clean_table(
    df: pd.DataFrame, max_dropped_fraction: float = 0.2, source: str = "dataset"
) -> tuple[pd.DataFrame, CleanReport]:
    """Drop rows with an empty text or no label, strip whitespace, and require two classes.

    A row with both an empty text and no label counts as an empty text.
    """
    if not 0.0 <= max_dropped_fraction <= 1.0:
        raise DataError(
            f"data.max_dropped_fraction is {max_dropped_fraction!r}; set it to a number "
            "between 0 and 1"
        )
    for col in ("text", "label"):
        if col not in df.columns:
            raise DataError(
                f"{source} has no column '{col}' (columns: {list_columns(df.columns)}); "
                "give a table with columns text and label"
            )
    rows_in = len(df)
    if rows_in == 0:
        raise DataError(f"{source} has no rows; add rows of text and label")
    texts = to_text(df["text"]).map(lambda t: None if t is None else t.strip())
    labels = to_labels(df["label"]).map(lambda lab: None if lab is None else lab.strip())
    empty_text = texts.isna() | (texts == "")
    missing_label = ~empty_text & (labels.isna() | (labels == ""))
    n_text, n_label = int(empty_text.sum()), int(missing_label.sum())
    dropped = n_text + n_label
    if dropped > max_dropped_fraction * rows_in:
        raise DataError(
            f"{source} would lose {dropped} of {rows_in} rows ({dropped / rows_in:.0%}: "
            f"{n_text} with an empty text, {n_label} without a label), more than "
            f"data.max_dropped_fraction = {max_dropped_fraction:g}; check that data.text_column "
            "and data.label_column name the right columns, fix those rows, or raise "
            "data.max_dropped_fraction"
        )
    keep = (~empty_text & ~missing_label).to_numpy()
    out = pd.DataFrame({"text": texts[keep].to_numpy(), "label": labels[keep].to_numpy()})
    if "split" in df.columns:
        out["split"] = df["split"].to_numpy()[keep]
    counts = out["label"].value_counts()
    if len(counts) < 2:
        found = ", ".join(f"'{short(c, 30)}' ({n} rows)" for c, n in counts.items()) or "none"
        raise DataError(
            f"{source} has fewer than two classes after cleaning (found: {found}); a classifier "
            "needs at least two, so check data.label_column or add examples of other classes"
        )
    report = CleanReport(rows_in, n_text, n_label, len(out))
    return out, report


def truncate_texts(df: pd.DataFrame, max_chars: int = MAX_CHARS) -> tuple[pd.DataFrame, str | None]:
    """Cut texts to ``max_chars`` characters (0: no limit), so that one huge row cannot cost the
    tokenizer and the TF-IDF reference gigabytes; and a warning saying how many were cut."""
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 0:
        raise DataError(
            f"data.max_chars is {max_chars!r}; set it to a whole number of characters, or 0 for "
            "no limit"
        )
    if max_chars == 0 or df.empty:
        return df, None
    lengths = df["text"].str.len()
    long = (lengths > max_chars).to_numpy()
    if not long.any():
        return df, None
    out = df.copy()
    out.loc[long, "text"] = out.loc[long, "text"].str.slice(0, max_chars)
    return out, (
        f"{int(long.sum())} of {len(df)} texts are longer than data.max_chars = {max_chars} "
        f"characters (the longest has {int(lengths.max())}) and were cut to that length; raise "
        "data.max_chars, or set it to 0 for no limit, to keep them whole"
    )


def split_warnings(split_sizes: dict[str, int], min_rows: int = MIN_EVAL_ROWS) -> list[str]:
    """A warning for each of val and test with fewer than ``min_rows`` rows: one example then
    moves its accuracy by more than 1/min_rows, so close models cannot be told apart."""
    warnings = []
    for split in ("val", "test"):
        n = split_sizes.get(split, 0)
        if 0 < n < min_rows:
            warnings.append(
                f"the {split} split has only {n} rows, so one example moves its accuracy by "
                f"{1 / n:.1%} and models closer than that cannot be told apart; add rows or raise "
                f"data.{split}_fraction so that it has at least {min_rows}"
            )
    return warnings


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    """Raise DataError unless both fractions are in (0, 1) and leave rows for training."""
    for key, value in (("data.val_fraction", val_fraction), ("data.test_fraction", test_fraction)):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not 0.0 < float(value) < 1.0 or math.isnan(float(value)):
            raise DataError(f"{key} is {value!r}; set it to a number between 0 and 1, e.g. 0.1")
    if val_fraction + test_fraction >= 1.0:
        raise DataError(
            f"data.val_fraction + data.test_fraction is {val_fraction + test_fraction:g}, which "
            "leaves no rows for training; make their sum less than 1, e.g. 0.1 each"
        )


def _round(x: float) -> int:
    return int(math.floor(x + 0.5))


def _counts(n: int, fractions: tuple[float, ...]) -> tuple[int, ...] | None:
    """Held-out rows per fraction for a class of size n: round(n * f) and at least 1 each,
    leaving at least 1 row for train (taken from the largest share); None if n is too small."""
    if n < len(fractions) + 1:
        return None
    taken = [max(1, _round(n * f)) for f in fractions]
    while n - sum(taken) < 1:
        taken[taken.index(max(taken))] -= 1
    return tuple(taken)


def _stratified_take(
    labels: pd.Series, fractions: tuple[float, ...], seed: int, source: str, what: str
) -> list[np.ndarray]:
    """Row positions held out for each fraction, stratified by label; the rest stays in train."""
    values = labels.to_numpy()
    classes = {label: np.flatnonzero(values == label) for label in sorted(set(values))}
    small = {c: len(idx) for c, idx in classes.items() if _counts(len(idx), fractions) is None}
    if small:
        label, n = next(iter(small.items()))
        more = len(small) - 1
        others = f" (and {more} more class{'es' if more > 1 else ''})" if more else ""
        splits = "train, val and test" if len(fractions) == 2 else "train and val"
        raise DataError(
            f"class '{short(label, 40)}' of {source} has only {n} {what}{others}, too few to put "
            f"at least one in each of {splits} (needs {len(fractions) + 1}); add examples of "
            "it, or drop or merge the class"
        )
    rng = np.random.default_rng(seed)
    held: list[list[np.ndarray]] = [[] for _ in fractions]
    for idx in classes.values():
        sizes = _counts(len(idx), fractions)
        assert sizes is not None
        perm = rng.permutation(idx)
        start = 0
        for i, size in enumerate(sizes):
            held[i].append(perm[start : start + size])
            start += size
    return [np.sort(np.concatenate(parts)) for parts in held]


def _frame(df: pd.DataFrame, positions: np.ndarray | None = None) -> pd.DataFrame:
    part = df if positions is None else df.iloc[positions]
    return part[["text", "label"]].reset_index(drop=True)


def split_table(
    df: pd.DataFrame, val_fraction: float, test_fraction: float, seed: int, source: str = "dataset"
) -> dict[str, pd.DataFrame]:
    """Split into train/val/test, stratified by label and deterministic for ``seed``.

    Each class gets round(n * fraction) rows (at least one) in val and test, the rest in train.
    A ``split`` column, when present, is honoured; missing val rows are carved from train.
    """
    check_fractions(val_fraction, test_fraction)
    df = df.reset_index(drop=True)
    if "split" not in df.columns:
        val_pos, test_pos = _stratified_take(
            df["label"], (val_fraction, test_fraction), seed, source, "examples"
        )
        is_train = np.ones(len(df), dtype=bool)
        is_train[val_pos] = False
        is_train[test_pos] = False
        return {
            "train": _frame(df, np.flatnonzero(is_train)),
            "val": _frame(df, val_pos),
            "test": _frame(df, test_pos),
        }
    split = df["split"].astype(str).str.strip().str.lower()
    bad = sorted(set(split) - set(SPLITS))
    if bad:
        raise DataError(
            f"the split column of {source} has values other than train/val/test "
            f"({', '.join(repr(short(b, 20)) for b in bad[:5])}); fix those rows or unset "
            "data.split_column"
        )
    for name in ("train", "test"):
        if not (split == name).any():
            raise DataError(
                f"the split column of {source} marks no rows '{name}'; mark some rows {name} or "
                "unset data.split_column to split randomly"
            )
    train = df[split == "train"].reset_index(drop=True)
    missing = sorted(set(df["label"]) - set(train["label"]))
    if missing:
        raise DataError(
            f"class '{short(missing[0], 40)}' of {source} has no rows marked train in the split "
            "column; mark some of its rows train or drop the class"
        )
    out = {"test": _frame(df[split == "test"])}
    if (split == "val").any():
        out["val"] = _frame(df[split == "val"])
        out["train"] = _frame(train)
        return {k: out[k] for k in SPLITS}
    (val_pos,) = _stratified_take(
        train["label"], (val_fraction / (1.0 - test_fraction),), seed, source, "rows marked train"
    )
    is_train = np.ones(len(train), dtype=bool)
    is_train[val_pos] = False
    return {
        "train": _frame(train, np.flatnonzero(is_train)),
        "val": _frame(train, val_pos),
        "test": out["test"],
    }


def search_subset(
    train: pd.DataFrame, fraction: float, seed: int, min_per_class: int = 0
) -> pd.DataFrame:
    """A stratified ``fraction`` of the train split; every class keeps at least one example,
    and at least ``min_per_class`` (all it has when fewer): the fraction is raised for it."""
    ok = isinstance(fraction, int | float) and not isinstance(fraction, bool)
    if not ok or math.isnan(float(fraction)) or not 0.0 < float(fraction) <= 1.0:
        raise DataError(
            f"the search subset fraction (data.search_fraction) is {fraction!r}; set it to a "
            "number in (0, 1], e.g. 0.25, or 1 to search on the whole train split"
        )
    train = train.reset_index(drop=True)
    if fraction >= 1.0:
        return train.copy()
    rows = subset_rows(train["label"].to_numpy(), fraction, seed, min_per_class)
    return train.iloc[rows].reset_index(drop=True)


def subset_rows(
    labels: np.ndarray, fraction: float, seed: int, min_per_class: int = 0
) -> np.ndarray:
    """The sorted positions :func:`search_subset` keeps of rows with these ``labels``."""
    if fraction >= 1.0:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    keep: list[np.ndarray] = []
    for label in sorted(set(labels)):
        idx = np.flatnonzero(labels == label)
        size = max(1, _round(len(idx) * fraction), min(len(idx), min_per_class))
        keep.append(rng.permutation(idx)[:size])
    return np.sort(np.concatenate(keep)) if keep else np.array([], dtype=int)


def prepare_dataset(
    source: pd.DataFrame,
    name: str,
    out_dir: str | Path,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    max_dropped_fraction: float = 0.2,
    max_chars: int = MAX_CHARS,
) -> DatasetInfo:
    """Clean, truncate and split ``source``; write {train,val,test}.parquet and dataset.json to
    ``out_dir``, with warnings (logged too) about texts cut to ``max_chars`` and small splits.

    Nothing is written unless every check passes; files are moved into place with os.replace
    and dataset.json goes last, so its presence means the splits are complete.
    """
    check_fractions(val_fraction, test_fraction)
    what = f"dataset '{name}'"
    cleaned, report = clean_table(source, max_dropped_fraction, source=what)
    cleaned, truncated = truncate_texts(cleaned, max_chars)
    splits = split_table(cleaned, val_fraction, test_fraction, seed, source=what)
    counts = cleaned["label"].value_counts()
    classes = sorted(str(c) for c in counts.index)
    sizes = {k: len(v) for k, v in splits.items()}
    info = DatasetInfo(
        name=name,
        rows=len(cleaned),
        classes=classes,
        split_sizes=sizes,
        class_counts={c: int(counts[c]) for c in classes},
        dropped=report,
        warnings=[w for w in (truncated,) if w] + split_warnings(sizes),
    )
    out = Path(out_dir)
    with ExitStack() as stack:  # all splits are written before any is moved into place
        for split_name, frame in splits.items():
            tmp = stack.enter_context(atomic_path(out / f"{split_name}.parquet"))
            frame.to_parquet(tmp, index=False)
    info.to_json(out / "dataset.json")
    for warning in info.warnings:
        log.warning("%s: %s", what, warning)
    return info


def sample_rows(df: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """A stratified sample of ``n`` rows (all rows when n is 0 or at least the table size)."""
    from sklearn.model_selection import train_test_split  # only here: seconds to import

    if n <= 0 or n >= len(df):
        return df
    counts = df["label"].value_counts()
    if len(counts) * 2 > n:
        raise ConfigError(
            f"data.max_rows={n} is too small for {len(counts)} classes; raise it to at least "
            f"{2 * len(counts)} or set it to 0"
        )
    strat = df["label"] if counts.min() >= 2 else None
    sample, _ = train_test_split(df, train_size=n, stratify=strat, random_state=seed)
    return sample.reset_index(drop=True)
