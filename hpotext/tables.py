"""Reading a user's ``text,label`` table (csv, tsv, jsonl, parquet) with one-sentence errors.

Every problem with the file raises :class:`hpotext.errors.DataError` naming the file or column at
fault and the config key that fixes it.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hpotext.errors import DataError

SPLITS = ("train", "val", "test")
FORMATS = ("csv", "tsv", "jsonl", "parquet")
SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_SNIFF_BYTES = 1 << 20  # a csv/tsv header row must end within the first MiB
_MAX_COLUMNS = 10_000
_INT_LIKE = re.compile(r"^[+-]?\d+(?:\.0+)?$")


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class TableSpec:
    """Where a user's table lives and which columns hold the texts, labels and (optional) split."""

    path: str
    text_column: str = "text"
    label_column: str = "label"
    split_column: str | None = None  # optional column with values train/val/test (val optional)
    encoding: str = "utf-8"
    format: str = "auto"  # auto (by suffix) | csv | tsv | jsonl | parquet


def read_table(spec: TableSpec) -> pd.DataFrame:
    """Read ``spec.path`` into a frame with columns text, label (str) and split when configured.

    Missing texts/labels stay missing (NaN) so that :func:`clean_table` can count them.
    """
    path = Path(spec.path)
    if not path.exists():
        raise DataError(
            f"data file '{spec.path}' does not exist; pass an existing file as the dataset "
            "(--config dataset=PATH)"
        )
    if not path.is_file():
        raise DataError(
            f"data file '{spec.path}' is not a file; pass a file as the dataset "
            "(--config dataset=PATH)"
        )
    fmt = _resolve_format(spec)
    wanted = _wanted_columns(spec)
    if path.stat().st_size == 0:
        raise DataError(_empty(spec))
    if fmt == "parquet":
        raw = _read_parquet(spec, wanted)
    elif fmt == "jsonl":
        raw = _read_jsonl(spec, wanted, _check_encoding(spec))
    else:
        raw = _read_delimited(spec, fmt, wanted, _check_encoding(spec))
    if len(raw) == 0:
        raise DataError(f"data file '{spec.path}' has no data rows; add rows of text and label")
    out = pd.DataFrame(
        {
            "text": to_text(raw[spec.text_column]),
            "label": to_labels(raw[spec.label_column]),
        }
    )
    if spec.split_column is not None:
        out["split"] = _to_split(raw[spec.split_column], spec)
    return out.reset_index(drop=True)


def _resolve_format(spec: TableSpec) -> str:
    fmt = spec.format.strip().lower()
    if fmt == "auto":
        suffix = Path(spec.path).suffix.lower()
        if suffix not in SUFFIXES:
            known = ", ".join(SUFFIXES)
            raise DataError(
                f"data file '{spec.path}' has suffix '{suffix}', which does not tell its format "
                f"(known suffixes: {known}); rename the file or set data.format to "
                "csv, tsv, jsonl or parquet"
            )
        return SUFFIXES[suffix]
    if fmt not in FORMATS:
        raise DataError(
            f"data.format is '{spec.format}'; set it to auto, csv, tsv, jsonl or parquet"
        )
    return fmt


def _wanted_columns(spec: TableSpec) -> list[str]:
    keys = {"data.text_column": spec.text_column, "data.label_column": spec.label_column}
    if spec.split_column is not None:
        keys["data.split_column"] = spec.split_column
    seen: dict[str, str] = {}
    for key, col in keys.items():
        if col in seen:
            raise DataError(
                f"{seen[col]} and {key} both name column '{col}' of data file '{spec.path}'; "
                "point them at different columns"
            )
        seen[col] = key
    return list(keys.values())


def _check_encoding(spec: TableSpec) -> str:
    try:
        name = codecs.lookup(spec.encoding).name
    except LookupError:
        raise DataError(
            f"data.encoding '{spec.encoding}' (for data file '{spec.path}') is not a known text "
            "encoding; set it to e.g. utf-8 or latin-1"
        ) from None
    # utf-8-sig also reads plain utf-8 and drops a byte-order mark that would rename column 1.
    return "utf-8-sig" if name == "utf-8" else spec.encoding


def _empty(spec: TableSpec) -> str:
    return f"data file '{spec.path}' is empty; add a header row and rows of text and label"


def short(value: object, limit: int = 40) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def list_columns(columns: Iterable[object], limit: int = 12) -> str:
    cols = [short(c, 30) for c in columns]
    shown = ", ".join(cols[:limit])
    if len(cols) > limit:
        shown += f", ... ({len(cols) - limit} more)"
    return shown or "none"


def _check_columns(spec: TableSpec, columns: list[str]) -> None:
    hints = {
        "data.text_column": "the column holding the texts",
        "data.label_column": "the column holding the class labels",
        "data.split_column": "the column holding train/val/test, or unset it to split randomly",
    }
    keys = [("data.text_column", spec.text_column), ("data.label_column", spec.label_column)]
    if spec.split_column is not None:
        keys.append(("data.split_column", spec.split_column))
    for key, col in keys:
        if col not in columns:
            raise DataError(
                f"data file '{spec.path}' has no column '{col}' "
                f"(columns: {list_columns(columns)}); set {key} to {hints[key]}"
            )


def _sniff(spec: TableSpec) -> bytes:
    with open(spec.path, "rb") as fh:
        return fh.read(_SNIFF_BYTES)


def _check_text_file(spec: TableSpec, fmt: str, head: bytes) -> None:
    wide = spec.encoding.lower().replace("_", "").replace("-", "").startswith(("utf16", "utf32"))
    if b"\x00" in head and not wide:
        raise DataError(
            f"data file '{spec.path}' looks like a binary file, not {fmt} text (it contains NUL "
            "bytes); give a csv, tsv, jsonl or parquet file, or set data.format to its real format"
        )
    if not head.strip():
        raise DataError(_empty(spec))


def _decode_error(spec: TableSpec, err: UnicodeDecodeError) -> DataError:
    byte = err.object[err.start : err.start + 1].hex() if err.object else "?"
    return DataError(
        f"data file '{spec.path}' is not valid {spec.encoding} text (it contains byte 0x{byte}); "
        "set data.encoding to the file's encoding, e.g. latin-1 or cp1252"
    )


def _parse_error(spec: TableSpec, fmt: str, err: Exception) -> DataError:
    return DataError(
        f"could not read data file '{spec.path}' as {fmt} ({short(err, 160)}); check that the "
        "file is valid " + fmt + " or set data.format to its real format (csv, tsv, jsonl, parquet)"
    )


def _read_delimited(spec: TableSpec, fmt: str, wanted: list[str], encoding: str) -> pd.DataFrame:
    sep = "," if fmt == "csv" else "\t"
    head = _sniff(spec)
    _check_text_file(spec, fmt, head)
    end = head.find(b"\n")
    if end < 0 and len(head) >= _SNIFF_BYTES:
        raise DataError(
            f"data file '{spec.path}' has no line break in its first MiB, so it has no header row "
            f"of column names; give a {fmt} file whose first line names the columns"
        )
    header = head if end < 0 else head[:end]
    if header.count(sep.encode()) >= _MAX_COLUMNS:
        raise DataError(
            f"the header row of data file '{spec.path}' has more than {_MAX_COLUMNS} columns, "
            f"so it is probably not a {fmt} table of texts; check the file or set data.format"
        )
    common: dict[str, Any] = {"sep": sep, "encoding": encoding}
    try:
        columns = [str(c) for c in pd.read_csv(spec.path, nrows=0, **common).columns]
        _check_columns(spec, columns)
        # Rows with more fields than the header (e.g. unquoted commas inside a text) would
        # otherwise be cut short silently; pandas is slow on very wide rows, so scan with csv.
        wide = _wide_rows(spec.path, encoding, sep, len(columns))
        if wide is not None:
            line, count = wide
            raise DataError(
                f"line {line} of data file '{spec.path}' has more fields than its header "
                f"({len(columns)} columns; {count} such rows in all); quote texts that contain "
                f"{'commas' if fmt == 'csv' else 'tabs'}, or set data.format if it is not {fmt}"
            )
        frame = pd.read_csv(
            spec.path,
            usecols=wanted,
            index_col=False,
            dtype=str,
            keep_default_na=False,
            na_values={c: [""] for c in wanted},
            **common,
        )
    except DataError:
        raise
    except UnicodeDecodeError as err:
        raise _decode_error(spec, err) from None
    except pd.errors.EmptyDataError:
        raise DataError(_empty(spec)) from None
    except (ValueError, OSError, csv.Error) as err:  # pandas ParserError is a ValueError
        raise _parse_error(spec, fmt, err) from None
    return frame[wanted]


def _wide_rows(path: str, encoding: str, sep: str, width: int) -> tuple[int, int] | None:
    """(line of the first row with more than ``width`` fields, number of such rows), or None."""
    first, count = 0, 0
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        with open(path, encoding=encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=sep)
            next(reader, None)  # header
            for row in reader:
                if len(row) > width:
                    count += 1
                    first = first or reader.line_num
    finally:
        csv.field_size_limit(limit)
    return (first, count) if count else None


def _read_jsonl(spec: TableSpec, wanted: list[str], encoding: str) -> pd.DataFrame:
    head = _sniff(spec)
    _check_text_file(spec, "jsonl", head)
    rows: dict[str, list[Any]] = {c: [] for c in wanted}
    seen: dict[str, None] = {}  # column names for error messages (the first 1000)
    found: set[str] = set()
    try:
        with open(spec.path, encoding=encoding) as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as err:
                    raise DataError(
                        f"line {lineno} of data file '{spec.path}' is not valid JSON "
                        f"({short(err, 80)}); write one JSON object per line, or set data.format "
                        "to the file's real format"
                    ) from None
                if not isinstance(obj, dict):
                    raise DataError(
                        f"line {lineno} of data file '{spec.path}' is a JSON "
                        f"{type(obj).__name__}, not an object; write one JSON object per line, "
                        'like {"text": "...", "label": "..."}'
                    )
                for key in obj:
                    if len(seen) >= 1000:
                        break
                    seen[key] = None
                for col in wanted:
                    if col in obj:
                        found.add(col)
                    rows[col].append(obj.get(col))
    except UnicodeDecodeError as err:
        raise _decode_error(spec, err) from None
    if not rows[wanted[0]]:
        raise DataError(f"data file '{spec.path}' has no data rows; add rows of text and label")
    _check_columns(spec, [c for c in seen if c not in wanted or c in found])
    return pd.DataFrame({c: pd.Series(rows[c], dtype=object) for c in wanted})


def _read_parquet(spec: TableSpec, wanted: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        columns = [str(c) for c in pq.ParquetFile(spec.path).schema_arrow.names]
    except (ValueError, OSError) as err:  # pyarrow.ArrowInvalid is a ValueError
        raise _parse_error(spec, "parquet", err) from None
    _check_columns(spec, columns)
    try:
        frame = pd.read_parquet(spec.path, columns=wanted)
    except (ValueError, OSError) as err:
        raise _parse_error(spec, "parquet", err) from None
    return frame


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
    if present and all(_INT_LIKE.match(s) for s in present):
        labels = [None if s is None else s.strip().split(".")[0] for s in labels]
    return pd.Series(labels, dtype=object)


def _to_split(values: Iterable[object], spec: TableSpec) -> pd.Series:
    split = pd.Series(
        [None if is_missing(v) else str(v).strip().lower() for v in values], dtype=object
    )
    bad = split[~split.isin(SPLITS)]
    if len(bad):
        shown = ", ".join(
            "(empty)" if v is None else repr(short(v, 20)) for v in list(dict.fromkeys(bad))[:5]
        )
        raise DataError(
            f"column '{spec.split_column}' of data file '{spec.path}' has {len(bad)} values other "
            f"than train/val/test ({shown}); fix those rows or unset data.split_column to split "
            "randomly"
        )
    return split
