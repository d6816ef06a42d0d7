"""Reading a file of new texts (csv, tsv, jsonl or parquet, every column kept) and writing it
back with the predictions."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hpotext.data.files import COMPRESSIONS, FORMATS, SUFFIXES
from hpotext.data.values import to_text
from hpotext.errors import DataError
from hpotext.io import atomic_path


@dataclass(frozen=True)
class InputSpec:
    """A file of texts to predict and how to read it (the same options as data.*)."""

    path: str
    text_column: str = "text"
    format: str = "auto"
    delimiter: str = ""
    encoding: str = "utf-8"
    # how the user sets the text column and format: the CLI's options or the workflow's keys
    column_option: str = "--text-column"
    format_option: str = "--format"


def file_format(path: str, fmt: str, what: str, option: str) -> str:
    """The format of ``path``: ``fmt`` unless auto, else its suffix (before .gz etc.)."""
    if fmt != "auto":
        if fmt not in FORMATS:
            raise DataError(f"{option} is '{fmt}'; set it to auto, {', '.join(FORMATS)}")
        return fmt
    p = Path(path)
    if p.suffix.lower() in COMPRESSIONS:
        p = p.with_suffix("")
    found = SUFFIXES.get(p.suffix.lower())
    if found is None:
        raise DataError(
            f"{what} '{path}' has suffix '{p.suffix}', which does not tell its format; name it "
            f".csv, .tsv, .jsonl or .parquet, or pass {option} {'|'.join(FORMATS)}"
        )
    return found


def read_input(spec: InputSpec) -> tuple[pd.DataFrame, list[str]]:
    """Every row and column of ``spec.path`` as read, and its texts (missing ones as "")."""
    path = Path(spec.path)
    if not path.is_file():
        raise DataError(
            f"input file '{spec.path}' does not exist or is not a file; pass the path of a csv, "
            "tsv, jsonl or parquet file of texts"
        )
    fmt = file_format(spec.path, spec.format, "input file", spec.format_option)
    empty = (
        f"input file '{spec.path}' has no rows; give a file with a '{spec.text_column}' column "
        "and at least one text"
    )
    if path.stat().st_size == 0:
        raise DataError(empty)
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
        elif fmt == "jsonl":
            frame = pd.read_json(path, lines=True, dtype=False, encoding=spec.encoding)
        else:
            sep = spec.delimiter or ("," if fmt == "csv" else "\t")
            frame = pd.read_csv(
                path,
                sep=sep,
                dtype=str,
                keep_default_na=False,
                encoding=spec.encoding,
                quoting=csv.QUOTE_MINIMAL,
            )
    except pd.errors.EmptyDataError:
        raise DataError(empty) from None
    except (ValueError, OSError, UnicodeDecodeError, csv.Error) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
        raise DataError(
            f"input file '{spec.path}' is not readable as {fmt} ({first}); fix the file or pass "
            f"{spec.format_option} with its real format"
        ) from None
    frame.columns = [str(c) for c in frame.columns]
    if spec.text_column not in frame.columns:
        shown = ", ".join(list(frame.columns)[:12]) or "none"
        raise DataError(
            f"input file '{spec.path}' has no column '{spec.text_column}' (its columns: {shown}); "
            f"name the column that holds the texts with {spec.column_option}"
        )
    if not len(frame):
        raise DataError(empty)
    texts = to_text(frame[spec.text_column]).fillna("").tolist()
    return frame.reset_index(drop=True), texts


def write_output(frame: pd.DataFrame, path: str, fmt: str) -> None:
    """``frame`` to ``path`` in ``fmt`` (csv, tsv, jsonl, parquet; text formats compressed by
    a .gz/.bz2/.xz/.zip suffix), atomically."""
    compression = COMPRESSIONS.get(Path(path).suffix.lower())
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        elif fmt == "jsonl":
            frame.to_json(
                tmp, orient="records", lines=True, force_ascii=False, compression=compression
            )
        else:
            sep = "," if fmt == "csv" else "\t"
            frame.to_csv(tmp, sep=sep, index=False, compression=compression)
