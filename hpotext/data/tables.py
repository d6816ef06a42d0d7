"""Reading a user's ``text,label`` table (csv, tsv, jsonl, parquet) with one-sentence errors.

Every problem with the file raises :class:`hpotext.errors.DataError` naming the file or column at
fault and the config key that fixes it. Text files may be compressed (``.gz``, ``.bz2``, ``.xz``,
a ``.zip`` of one file; the format comes from the name before that suffix), may start with a
UTF-8/16/32 byte-order mark (read as that encoding while ``data.encoding`` is utf-8), and a
csv's delimiter is sniffed (among , ; tab |) when ``data.delimiter`` is empty and the header does
not name the columns with the format's own delimiter.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from hpotext.data.files import (
    ARCHIVE_ERRORS,
    COMPRESSIONS,
    DELIMITERS,
    FORMATS,
    MAX_COLUMNS,
    SNIFF_BYTES,
    SNIFF_CHARS,
    SPLITS,
    SUFFIXES,
    TableSpec,
    archive_error,
    check_columns,
    check_encoding,
    check_text_file,
    decode_error,
    delimiter_name,
    detect_encoding,
    empty_message,
    open_text,
    parse_error,
    short,
    sniff,
)
from hpotext.data.values import is_missing, to_labels, to_text
from hpotext.errors import DataError

log = logging.getLogger(__name__)


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
    compression = COMPRESSIONS.get(path.suffix.lower())
    wanted = _wanted_columns(spec)
    if path.stat().st_size == 0:
        raise DataError(empty_message(spec))
    if fmt == "parquet":
        if compression is not None:
            raise DataError(
                f"data file '{spec.path}' is a {compression}-compressed parquet file, which "
                "hpotext does not read; decompress it (parquet compresses its columns itself) "
                "and pass the .parquet file"
            )
        raw = _read_parquet(spec, wanted)
    else:
        encoding = check_encoding(spec)
        head = sniff(spec, compression)
        encoding = detect_encoding(spec, encoding, head)
        check_text_file(spec, fmt, head, encoding)
        if fmt == "jsonl":
            raw = _read_jsonl(spec, wanted, encoding, compression)
        else:
            raw = _read_delimited(spec, fmt, wanted, encoding, compression, head)
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
        path = Path(spec.path)
        if path.suffix.lower() in COMPRESSIONS:  # my.csv.gz: the format is the suffix before
            path = path.with_suffix("")
        suffix = path.suffix.lower()
        if suffix not in SUFFIXES:
            known = ", ".join(SUFFIXES)
            raise DataError(
                f"data file '{spec.path}' has suffix '{suffix}', which does not tell its format "
                f"(known suffixes: {known}, each optionally followed by .gz, .bz2, .xz or .zip); "
                "rename the file or set data.format to csv, tsv, jsonl or parquet"
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


def _delimiter(spec: TableSpec, fmt: str, wanted: list[str], text: str) -> str:
    """data.delimiter; else the format's own delimiter when the header names the wanted columns
    with it, else the one of DELIMITERS that csv.Sniffer finds in the first lines."""
    if spec.delimiter:
        if len(spec.delimiter) != 1 or spec.delimiter in '\r\n"':
            raise DataError(
                f"data.delimiter is {spec.delimiter!r}; set it to one character such as ';' or "
                "'|', or leave it empty to detect it"
            )
        return spec.delimiter
    default = "," if fmt == "csv" else "\t"
    lines = text[:SNIFF_CHARS].splitlines()[:20]
    header = next(csv.reader(lines[:1], delimiter=default), [])
    if all(c in header for c in wanted):
        return default
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        return default
    if found != default:
        log.info(
            "data file '%s' is delimited by '%s' (sniffed; set data.delimiter to override)",
            spec.path,
            delimiter_name(found),
        )
    return found


def _read_csv(
    spec: TableSpec, encoding: str, compression: str | None, **kwargs: Any
) -> pd.DataFrame:
    if compression is None:
        return pd.read_csv(spec.path, encoding=encoding, **kwargs)
    with open_text(spec, compression, encoding, newline="") as fh:
        return pd.read_csv(fh, **kwargs)


_SEPARATORS = {",": "commas", "\t": "tabs", ";": "semicolons", "|": "'|'"}


def _read_delimited(
    spec: TableSpec,
    fmt: str,
    wanted: list[str],
    encoding: str,
    compression: str | None,
    head: bytes,
) -> pd.DataFrame:
    text = head.decode(encoding, errors="replace")
    end = text.find("\n")
    if end < 0 and len(head) >= SNIFF_BYTES:
        raise DataError(
            f"data file '{spec.path}' has no line break in its first MiB, so it has no header row "
            f"of column names; give a {fmt} file whose first line names the columns"
        )
    sep = _delimiter(spec, fmt, wanted, text)
    header = text if end < 0 else text[:end]
    if header.count(sep) >= MAX_COLUMNS:
        raise DataError(
            f"the header row of data file '{spec.path}' has more than {MAX_COLUMNS} columns, "
            f"so it is probably not a {fmt} table of texts; check the file or set data.format"
        )
    try:
        columns = [str(c) for c in _read_csv(spec, encoding, compression, sep=sep, nrows=0)]
        check_columns(spec, columns, sep)
        # Rows with more fields than the header (e.g. unquoted commas inside a text) would
        # otherwise be cut short silently; pandas is slow on very wide rows, so scan with csv.
        wide = _wide_rows(spec, encoding, compression, sep, len(columns))
        if wide is not None:
            line, count = wide
            raise DataError(
                f"line {line} of data file '{spec.path}' has more fields than its header "
                f"({len(columns)} columns; {count} such rows in all); quote texts that contain "
                f"{_SEPARATORS.get(sep, repr(sep))}, or set data.format if it is not {fmt}"
            )
        frame = _read_csv(
            spec,
            encoding,
            compression,
            sep=sep,
            usecols=wanted,
            index_col=False,
            dtype=str,
            keep_default_na=False,
            na_values={c: [""] for c in wanted},
        )
    except DataError:
        raise
    except UnicodeDecodeError as err:
        raise decode_error(spec, err) from None
    except pd.errors.EmptyDataError:
        raise DataError(empty_message(spec)) from None
    except (*ARCHIVE_ERRORS, ValueError, csv.Error) as err:  # ParserError is a ValueError
        if compression is not None and isinstance(err, ARCHIVE_ERRORS):
            raise archive_error(spec, compression, err) from None
        raise parse_error(spec, fmt, err) from None
    return frame[wanted]


def _wide_rows(
    spec: TableSpec, encoding: str, compression: str | None, sep: str, width: int
) -> tuple[int, int] | None:
    """(line of the first row with more than ``width`` fields, number of such rows), or None."""
    first, count = 0, 0
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        with open_text(spec, compression, encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=sep)
            next(reader, None)  # header
            for row in reader:
                if len(row) > width:
                    count += 1
                    first = first or reader.line_num
    finally:
        csv.field_size_limit(limit)
    return (first, count) if count else None


def _read_jsonl(
    spec: TableSpec, wanted: list[str], encoding: str, compression: str | None
) -> pd.DataFrame:
    rows: dict[str, list[Any]] = {c: [] for c in wanted}
    seen: dict[str, None] = {}  # column names for error messages (the first 1000)
    found: set[str] = set()
    try:
        with open_text(spec, compression, encoding, newline=None) as fh:
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
        raise decode_error(spec, err) from None
    except ARCHIVE_ERRORS as err:
        if compression is None:
            raise
        raise archive_error(spec, compression, err) from None
    if not rows[wanted[0]]:
        raise DataError(f"data file '{spec.path}' has no data rows; add rows of text and label")
    check_columns(spec, [c for c in seen if c not in wanted or c in found])
    return pd.DataFrame({c: pd.Series(rows[c], dtype=object) for c in wanted})


def _read_parquet(spec: TableSpec, wanted: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        columns = [str(c) for c in pq.ParquetFile(spec.path).schema_arrow.names]
    except (ValueError, OSError) as err:  # pyarrow.ArrowInvalid is a ValueError
        raise parse_error(spec, "parquet", err) from None
    check_columns(spec, columns)
    try:
        frame = pd.read_parquet(spec.path, columns=wanted)
    except (ValueError, OSError) as err:
        raise parse_error(spec, "parquet", err) from None
    return frame


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
