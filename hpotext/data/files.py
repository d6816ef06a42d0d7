"""Opening a user's table file: format and compression from its name, encoding from its byte-order
mark, and the one-sentence errors every reader shares (hpotext.data.tables reads the rows).
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import logging
import lzma
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, cast

from hpotext.errors import DataError

log = logging.getLogger(__name__)


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
SNIFF_BYTES = 1 << 20  # a csv/tsv header row must end within the first MiB
SNIFF_CHARS = 1 << 16  # the sample csv.Sniffer looks at (at most its first 20 lines)
MAX_COLUMNS = 10_000
INT_LIKE = re.compile(r"^[+-]?\d+(?:\.0+)?$")
# byte-order marks, UTF-32 before UTF-16 (the UTF-32-LE mark starts with the UTF-16-LE one)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF8, "utf-8-sig"),
)


# what a broken gzip/bz2/xz/zip archive raises while it is read
ARCHIVE_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)


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


def check_encoding(spec: TableSpec) -> str:
    try:
        name = codecs.lookup(spec.encoding).name
    except LookupError:
        raise DataError(
            f"data.encoding '{spec.encoding}' (for data file '{spec.path}') is not a known text "
            "encoding; set it to e.g. utf-8 or latin-1"
        ) from None
    # utf-8-sig also reads plain utf-8 and drops a byte-order mark that would rename column 1.
    return "utf-8-sig" if name == "utf-8" else spec.encoding


def detect_encoding(spec: TableSpec, encoding: str, head: bytes) -> str:
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


def empty_message(spec: TableSpec) -> str:
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


def check_columns(spec: TableSpec, columns: list[str], sep: str | None = None) -> None:
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
                    f"'{delimiter_name(other)}', so the file is probably delimited by it; set "
                    f"data.delimiter to '{delimiter_name(other)}'"
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


def delimiter_name(delimiter: str) -> str:
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


def open_text(
    spec: TableSpec, compression: str | None, encoding: str, newline: str | None
) -> IO[str]:
    return io.TextIOWrapper(_open_bytes(spec, compression), encoding=encoding, newline=newline)


def archive_error(spec: TableSpec, compression: str, err: BaseException) -> DataError:
    return DataError(
        f"data file '{spec.path}' is not a readable {compression} file ({short(err, 100)}); "
        "re-create the archive, or decompress it and pass the plain file as the dataset"
    )


def sniff(spec: TableSpec, compression: str | None) -> bytes:
    try:
        with _open_bytes(spec, compression) as fh:
            return fh.read(SNIFF_BYTES)
    except ARCHIVE_ERRORS as err:
        if compression is None:
            raise
        raise archive_error(spec, compression, err) from None


def check_text_file(spec: TableSpec, fmt: str, head: bytes, encoding: str) -> None:
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
        raise DataError(empty_message(spec))


def decode_error(spec: TableSpec, err: UnicodeDecodeError) -> DataError:
    byte = err.object[err.start : err.start + 1].hex() if err.object else "?"
    encoding = err.encoding if err.encoding.startswith(("utf-16", "utf-32")) else spec.encoding
    return DataError(
        f"data file '{spec.path}' is not valid {encoding} text (it contains byte 0x{byte}); "
        "set data.encoding to the file's encoding, e.g. latin-1 or cp1252"
    )


def parse_error(spec: TableSpec, fmt: str, err: Exception) -> DataError:
    return DataError(
        f"could not read data file '{spec.path}' as {fmt} ({short(err, 160)}); check that the "
        "file is valid " + fmt + " or set data.format to its real format (csv, tsv, jsonl, parquet)"
    )
