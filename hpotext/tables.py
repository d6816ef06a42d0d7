"""Reading a user's ``text,label`` table (csv, tsv, jsonl, parquet) with one-sentence errors.

Every problem with the file raises :class:`hpotext.errors.DataError` naming the file or column at
fault and the config key that fixes it. Text files may be compressed (``.gz``, ``.bz2``, ``.xz``,
a ``.zip`` of one file; the format comes from the name before that suffix), may start with a
UTF-8/16/32 byte-order mark (read as that encoding while ``data.encoding`` is utf-8), and a
csv's delimiter is sniffed (among , ; tab |) when ``data.delimiter`` is empty and the header does
not name the columns with the format's own delimiter.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import json
import logging
import lzma
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

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
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}
DELIMITERS = ",;\t|"  # what the sniffer may pick when data.delimiter is empty
_SNIFF_BYTES = 1 << 20  # a csv/tsv header row must end within the first MiB
_SNIFF_CHARS = 1 << 16  # the sample csv.Sniffer looks at (at most its first 20 lines)
_MAX_COLUMNS = 10_000
_INT_LIKE = re.compile(r"^[+-]?\d+(?:\.0+)?$")
# byte-order marks, UTF-32 before UTF-16 (the UTF-32-LE mark starts with the UTF-16-LE one)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF8, "utf-8-sig"),
)
# what a broken gzip/bz2/xz/zip archive raises while it is read
_ARCHIVE_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)

log = logging.getLogger(__name__)


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
    delimiter: str = ""  # csv/tsv field delimiter; empty: the format's own, else sniffed


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
        raise DataError(_empty(spec))
    if fmt == "parquet":
        if compression is not None:
            raise DataError(
                f"data file '{spec.path}' is a {compression}-compressed parquet file, which "
                "hpotext does not read; decompress it (parquet compresses its columns itself) "
                "and pass the .parquet file"
            )
        raw = _read_parquet(spec, wanted)
    else:
        encoding = _check_encoding(spec)
        head = _sniff(spec, compression)
        encoding = _detect_encoding(spec, encoding, head)
        _check_text_file(spec, fmt, head, encoding)
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


def _detect_encoding(spec: TableSpec, encoding: str, head: bytes) -> str:
    """``encoding``, or the UTF-16/32 one a byte-order mark names while data.encoding is utf-8."""
    if encoding != "utf-8-sig":
        return encoding
    for bom, name in _BOMS:
        if head.startswith(bom):
            if name != encoding:
                log.info(
                    "data file '%s' starts with a %s byte-order mark: reading it as %s "
                    "(data.encoding is %s)",
                    spec.path,
                    name.upper(),
                    name,
                    spec.encoding,
                )
            return name
    return encoding


def _nul_encoding(head: bytes) -> str | None:
    """The UTF-16/32 encoding whose byte-order mark or pattern of NUL bytes ``head`` shows."""
    for bom, name in _BOMS[:4]:
        if head.startswith(bom):
            return name
    sample = head[: (min(len(head), 1 << 12) // 4) * 4]
    if not sample:
        return None

    def nuls(start: int, step: int) -> float:
        part = sample[start::step]
        return part.count(0) / len(part)

    # Text in UTF-16/32 has NUL high bytes (ASCII, Latin-1) but hardly ever a NUL low byte.
    quarters = [nuls(i, 4) for i in range(4)]
    if min(quarters[1:]) > 0.9 and quarters[0] < 0.02:
        return "utf-32-le"
    if min(quarters[:3]) > 0.9 and quarters[3] < 0.02:
        return "utf-32-be"
    even, odd = nuls(0, 2), nuls(1, 2)
    if odd > 0.3 and even < 0.02:
        return "utf-16-le"
    if even > 0.3 and odd < 0.02:
        return "utf-16-be"
    return None


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


def _check_columns(spec: TableSpec, columns: list[str], sep: str | None = None) -> None:
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
            other = _one_column_delimiter(columns, sep)
            if other is not None:
                raise DataError(
                    f"data file '{spec.path}' has no column '{col}' (columns: "
                    f"{list_columns(columns)}): its header reads as one column whose name holds "
                    f"'{_shown(other)}', so the file is probably delimited by it; set "
                    f"data.delimiter to '{_shown(other)}'"
                )
            raise DataError(
                f"data file '{spec.path}' has no column '{col}' "
                f"(columns: {list_columns(columns)}); set {key} to {hints[key]}"
            )


def _one_column_delimiter(columns: list[str], sep: str | None) -> str | None:
    """The delimiter (other than ``sep``) a lone column name holds most often, if any."""
    if sep is None or len(columns) != 1:
        return None
    counts = {d: columns[0].count(d) for d in DELIMITERS if d != sep}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else None


def _shown(delimiter: str) -> str:
    return "\\t" if delimiter == "\t" else delimiter


def _open_bytes(spec: TableSpec, compression: str | None) -> IO[bytes]:
    """The file's (decompressed) bytes; a zip archive must hold exactly one file."""
    if compression == "gzip":
        return cast(IO[bytes], gzip.open(spec.path, "rb"))
    if compression == "bz2":
        return cast(IO[bytes], bz2.open(spec.path, "rb"))
    if compression == "xz":
        return cast(IO[bytes], lzma.open(spec.path, "rb"))
    if compression == "zip":
        with zipfile.ZipFile(spec.path) as archive:  # the member keeps the file open
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
            if len(names) != 1:
                raise DataError(
                    f"data file '{spec.path}' is a zip archive of {len(names)} files; put "
                    "exactly one csv, tsv or jsonl file in it, or unzip it and pass that file"
                )
            return archive.open(names[0])
    return open(spec.path, "rb")  # noqa: SIM115 - the caller closes it


def _open_text(
    spec: TableSpec, compression: str | None, encoding: str, newline: str | None
) -> IO[str]:
    return io.TextIOWrapper(_open_bytes(spec, compression), encoding=encoding, newline=newline)


def _archive_error(spec: TableSpec, compression: str, err: BaseException) -> DataError:
    return DataError(
        f"data file '{spec.path}' is not a readable {compression} file ({short(err, 100)}); "
        "re-create the archive, or decompress it and pass the plain file as the dataset"
    )


def _sniff(spec: TableSpec, compression: str | None) -> bytes:
    try:
        with _open_bytes(spec, compression) as fh:
            return fh.read(_SNIFF_BYTES)
    except _ARCHIVE_ERRORS as err:
        if compression is None:
            raise
        raise _archive_error(spec, compression, err) from None


def _check_text_file(spec: TableSpec, fmt: str, head: bytes, encoding: str) -> None:
    wide = encoding.lower().replace("_", "").replace("-", "").startswith(("utf16", "utf32"))
    if b"\x00" in head and not wide:
        guess = _nul_encoding(head)
        if guess is not None:
            raise DataError(
                f"data file '{spec.path}' looks like {guess} text, not {spec.encoding} (its NUL "
                f"bytes follow the pattern of {guess}); set data.encoding to {guess}"
            )
        raise DataError(
            f"data file '{spec.path}' looks like a binary file, not {fmt} text (it contains NUL "
            "bytes); give a csv, tsv, jsonl or parquet file, or set data.format to its real format"
        )
    if not head.strip():
        raise DataError(_empty(spec))


def _decode_error(spec: TableSpec, err: UnicodeDecodeError) -> DataError:
    byte = err.object[err.start : err.start + 1].hex() if err.object else "?"
    encoding = err.encoding if err.encoding.startswith(("utf-16", "utf-32")) else spec.encoding
    return DataError(
        f"data file '{spec.path}' is not valid {encoding} text (it contains byte 0x{byte}); "
        "set data.encoding to the file's encoding, e.g. latin-1 or cp1252"
    )


def _parse_error(spec: TableSpec, fmt: str, err: Exception) -> DataError:
    return DataError(
        f"could not read data file '{spec.path}' as {fmt} ({short(err, 160)}); check that the "
        "file is valid " + fmt + " or set data.format to its real format (csv, tsv, jsonl, parquet)"
    )


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
    lines = text[:_SNIFF_CHARS].splitlines()[:20]
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
            _shown(found),
        )
    return found


def _read_csv(
    spec: TableSpec, encoding: str, compression: str | None, **kwargs: Any
) -> pd.DataFrame:
    if compression is None:
        return pd.read_csv(spec.path, encoding=encoding, **kwargs)
    with _open_text(spec, compression, encoding, newline="") as fh:
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
    if end < 0 and len(head) >= _SNIFF_BYTES:
        raise DataError(
            f"data file '{spec.path}' has no line break in its first MiB, so it has no header row "
            f"of column names; give a {fmt} file whose first line names the columns"
        )
    sep = _delimiter(spec, fmt, wanted, text)
    header = text if end < 0 else text[:end]
    if header.count(sep) >= _MAX_COLUMNS:
        raise DataError(
            f"the header row of data file '{spec.path}' has more than {_MAX_COLUMNS} columns, "
            f"so it is probably not a {fmt} table of texts; check the file or set data.format"
        )
    try:
        columns = [str(c) for c in _read_csv(spec, encoding, compression, sep=sep, nrows=0)]
        _check_columns(spec, columns, sep)
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
        raise _decode_error(spec, err) from None
    except pd.errors.EmptyDataError:
        raise DataError(_empty(spec)) from None
    except (*_ARCHIVE_ERRORS, ValueError, csv.Error) as err:  # ParserError is a ValueError
        if compression is not None and isinstance(err, _ARCHIVE_ERRORS):
            raise _archive_error(spec, compression, err) from None
        raise _parse_error(spec, fmt, err) from None
    return frame[wanted]


def _wide_rows(
    spec: TableSpec, encoding: str, compression: str | None, sep: str, width: int
) -> tuple[int, int] | None:
    """(line of the first row with more than ``width`` fields, number of such rows), or None."""
    first, count = 0, 0
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        with _open_text(spec, compression, encoding, newline="") as fh:
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
        with _open_text(spec, compression, encoding, newline=None) as fh:
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
    except _ARCHIVE_ERRORS as err:
        if compression is None:
            raise
        raise _archive_error(spec, compression, err) from None
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
