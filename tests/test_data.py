"""Tests for hpotext.data: reading, validation, cleaning, splitting and writing datasets."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import logging
import lzma
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hpotext.data.files import TableSpec
from hpotext.data.info import DatasetInfo, load_split
from hpotext.data.split import (
    CleanReport,
    clean_table,
    prepare_dataset,
    search_subset,
    split_table,
    split_warnings,
    truncate_texts,
)
from hpotext.data.tables import read_table
from hpotext.errors import DataError
from hpotext.report.stats import subset_warnings


def make_frame(counts: dict[str, int]) -> pd.DataFrame:
    """A clean frame with ``counts[label]`` distinct texts per label."""
    rows = [(f"{label} text number {i}", label) for label, n in counts.items() for i in range(n)]
    return pd.DataFrame(rows, columns=["text", "label"])


def write(path: Path, content: str | bytes) -> str:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


# --------------------------------------------------------------------------- read_table


SAMPLE = pd.DataFrame(
    {
        "text": ["great film, loved it", 'a "so-so" plot', "terrible\tacting", "fine"],
        "label": [1, 0, 0, 1],
    }
)


@pytest.mark.parametrize("suffix", ["csv", "tsv", "jsonl", "parquet"])
def test_all_formats_load_to_the_same_frame(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"data.{suffix}"
    if suffix == "csv":
        SAMPLE.to_csv(path, index=False)
    elif suffix == "tsv":
        SAMPLE.to_csv(path, sep="\t", index=False)
    elif suffix == "jsonl":
        SAMPLE.to_json(path, orient="records", lines=True)
    else:
        SAMPLE.to_parquet(path, index=False)
    df = read_table(TableSpec(str(path)))
    assert list(df.columns) == ["text", "label"]
    assert df["text"].tolist() == SAMPLE["text"].tolist()
    assert df["label"].tolist() == ["1", "0", "0", "1"]  # integer labels become strings


def test_format_given_explicitly_overrides_suffix(tmp_path: Path) -> None:
    path = write(tmp_path / "data.txt", "text\tlabel\nhello\tpos\nbye\tneg\n")
    df = read_table(TableSpec(path, format="tsv"))
    assert df.to_dict("list") == {"text": ["hello", "bye"], "label": ["pos", "neg"]}


def test_custom_columns_and_integral_float_labels(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pd.DataFrame({"review": ["a", "b", "c"], "stars": [1.0, np.nan, 2.0]}).to_parquet(path)
    df = read_table(TableSpec(str(path), text_column="review", label_column="stars"))
    assert df["label"].tolist()[0] == "1"
    assert pd.isna(df["label"].iloc[1])
    assert df["label"].tolist()[2] == "2"


def test_csv_float_labels_written_by_pandas_become_integers(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\na,1.0\nb,\nc,0.0\n")
    df = read_table(TableSpec(path))
    assert df["label"].tolist()[::2] == ["1", "0"]
    assert pd.isna(df["label"].iloc[1])


def test_texts_are_read_literally(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\nNA,a\n0042,b\n")
    assert read_table(TableSpec(path))["text"].tolist() == ["NA", "0042"]


def test_utf8_bom_is_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "\ufefftext,label\nhi,a\n".encode())
    assert read_table(TableSpec(path))["text"].tolist() == ["hi"]


def test_latin1_file_reads_with_encoding_set(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\ncafé crème,pos\n".encode("latin-1"))
    assert read_table(TableSpec(path, encoding="latin-1"))["text"].tolist() == ["café crème"]


def test_split_column_is_read_and_normalised(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label,part\na,x,Train\nb,y, test\n")
    df = read_table(TableSpec(path, split_column="part"))
    assert df["split"].tolist() == ["train", "test"]


def test_10mb_jsonl_line_works(tmp_path: Path) -> None:
    big = "word " * 2_000_000
    path = write(tmp_path / "d.jsonl", json.dumps({"text": big, "label": "a"}) + "\n")
    df = read_table(TableSpec(path))
    assert len(df) == 1 and len(df["text"].iloc[0]) == len(big)


CSV_TEXT = "text,label\ncafé crème,pos\nbad film,neg\n"


@pytest.mark.parametrize(
    ("encoded", "name"),
    [
        (CSV_TEXT.encode("utf-16"), "UTF-16"),
        (b"\xfe\xff" + CSV_TEXT.encode("utf-16-be"), "UTF-16"),
        (CSV_TEXT.encode("utf-32"), "UTF-32"),
    ],
    ids=["utf-16", "utf-16-be", "utf-32"],
)
def test_byte_order_mark_picks_the_encoding_and_says_so(
    tmp_path: Path, encoded: bytes, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "d.csv", encoded)
    with caplog.at_level(logging.INFO, logger="hpotext.data"):
        df = read_table(TableSpec(path))
    assert df["text"].tolist() == ["café crème", "bad film"]
    assert f"starts with a {name} byte-order mark" in caplog.text


def test_utf16_jsonl_with_bom(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", '{"text": "hé", "label": "a"}\n'.encode("utf-16"))
    assert read_table(TableSpec(path))["text"].tolist() == ["hé"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_utf16_without_bom_names_the_encoding_to_set(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path / "d.csv", CSV_TEXT.encode(encoding))
    message = expect_error(TableSpec(path), "d.csv", f"set data.encoding to {encoding}")
    assert "binary" not in message
    assert read_table(TableSpec(path, encoding=encoding))["label"].tolist() == ["pos", "neg"]


def zipped(name: str, data: bytes, *more: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in (name, *more):
            archive.writestr(member, data)
    return buffer.getvalue()


COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zip": lambda data: zipped("inner", data),
}


@pytest.mark.parametrize(
    "name", ["d.csv.gz", "d.csv.bz2", "d.csv.xz", "d.csv.zip", "d.tsv.gz", "d.jsonl.gz"]
)
def test_compressed_files_are_read(tmp_path: Path, name: str) -> None:
    fmt, compression = name.split(".")[1:]
    if fmt == "jsonl":
        plain = SAMPLE.to_json(orient="records", lines=True)
    else:
        plain = SAMPLE.to_csv(sep="," if fmt == "csv" else "\t", index=False)
    path = write(tmp_path / name, COMPRESS[compression](plain.encode()))
    df = read_table(TableSpec(path))
    assert df["text"].tolist() == SAMPLE["text"].tolist()
    assert df["label"].tolist() == ["1", "0", "0", "1"]


def test_compressed_utf16_semicolon_csv(tmp_path: Path) -> None:
    data = gzip.compress(CSV_TEXT.replace(",", ";").encode("utf-16"))
    path = write(tmp_path / "d.csv.gz", data)
    assert read_table(TableSpec(path))["text"].tolist() == ["café crème", "bad film"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (gzip.compress(CSV_TEXT.encode() * 100)[:-20], "ended"),
        (b"text,label\nnot gzip at all,pos\n", "Not a gzipped file"),
    ],
    ids=["truncated", "not-gzip"],
)
def test_corrupt_archive(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = write(tmp_path / "d.csv.gz", content)
    expect_error(TableSpec(path), "d.csv.gz", "is not a readable gzip file", fragment,
                 "decompress it")  # fmt: skip


def test_corrupt_archive_after_the_first_mib(tmp_path: Path) -> None:
    rows = "".join(f"film number {i} was fine,pos\n" for i in range(200_000))
    data = gzip.compress(("text,label\n" + rows).encode())
    path = write(tmp_path / "d.csv.gz", data[: len(data) * 3 // 4])
    expect_error(TableSpec(path), "d.csv.gz", "is not a readable gzip file")


def test_zip_of_two_files_and_compressed_parquet(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv.zip", zipped("a.csv", CSV_TEXT.encode(), "b.csv"))
    expect_error(TableSpec(path), "d.csv.zip", "zip archive of 2 files", "exactly one")
    path = write(tmp_path / "d.parquet.gz", gzip.compress(b"whatever"))
    expect_error(TableSpec(path), "d.parquet.gz", "decompress it")


@pytest.mark.parametrize("sep", [";", "|", "\t"])
def test_delimiter_is_sniffed(tmp_path: Path, sep: str) -> None:
    text = f"text{sep}label\nhello, world{sep}pos\nfine, ok{sep}neg\nso-so{sep}neg\n"
    path = write(tmp_path / "d.csv", text)
    df = read_table(TableSpec(path))
    assert df["text"].tolist() == ["hello, world", "fine, ok", "so-so"]
    assert df["label"].tolist() == ["pos", "neg", "neg"]


def test_delimiter_setting_overrides_sniffing(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text|label\na;b|pos\nc;d|neg\n")
    df = read_table(TableSpec(path, delimiter="|"))
    assert df["text"].tolist() == ["a;b", "c;d"]


def test_wrong_delimiter_names_the_one_to_set(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", CSV_TEXT.replace(",", ";"))
    expect_error(TableSpec(path, delimiter=","), "d.csv", "no column 'text'",
                 "(columns: text;label)", "set data.delimiter to ';'")  # fmt: skip


def test_bad_delimiter_value(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", CSV_TEXT)
    expect_error(TableSpec(path, delimiter=";;"), "data.delimiter", "one character")


def expect_error(spec: TableSpec, *fragments: str) -> str:
    with pytest.raises(DataError) as info:
        read_table(spec)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.csv")
    expect_error(TableSpec(path), path, "does not exist", "--config dataset=PATH")


def test_unknown_suffix(tmp_path: Path) -> None:
    path = write(tmp_path / "data.xlsx", "text,label\na,b\n")
    expect_error(TableSpec(path), "data.xlsx", ".xlsx", ".csv", ".jsonl", "data.format")


def test_unknown_format_value(tmp_path: Path) -> None:
    path = write(tmp_path / "data.csv", "text,label\na,b\n")
    expect_error(TableSpec(path, format="excel"), "data.format", "excel")


def test_binary_garbage(tmp_path: Path) -> None:
    garbage = np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    path = write(tmp_path / "data.csv", garbage)
    expect_error(TableSpec(path), "data.csv", "binary")


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_garbage_in_other_formats(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path / f"data.{suffix}", "this is not what it claims to be\n")
    expect_error(TableSpec(path), f"data.{suffix}", suffix)


@pytest.mark.parametrize(
    "content",
    ["a" * 10_000_000, "a," * 5_000_000, '"' + "x" * 10_000_000],
    ids=["one-column", "many-columns", "open-quote"],
)
def test_10mb_single_line_file(tmp_path: Path, content: str) -> None:
    path = write(tmp_path / "big.csv", content)
    expect_error(TableSpec(path), "big.csv")


def test_huge_ragged_row_is_reported_quickly(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\n" + "a," * 5_000_000 + "\n")
    expect_error(TableSpec(path), "d.csv", "line 2", "more fields than its header")


def test_unquoted_commas_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\nfine,pos\nhello, world,neg\n")
    expect_error(TableSpec(path), "d.csv", "line 3", "quote texts")


def test_unparseable_csv(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", 'text,label\n"never closed,pos\n')
    expect_error(TableSpec(path), "d.csv", "could not read")


def test_wrong_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\ncafé,pos\n".encode("latin-1"))
    expect_error(TableSpec(path), "d.csv", "utf-8", "data.encoding", "latin-1")


def test_unknown_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\na,b\n")
    expect_error(TableSpec(path, encoding="klingon"), "klingon", "data.encoding")


def test_missing_text_column(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "review,stars\ngood,5\n")
    message = expect_error(TableSpec(path), "x.csv", "'text'", "review, stars")
    assert "data.text_column" in message


def test_missing_label_column(tmp_path: Path) -> None:
    path = write(tmp_path / "x.tsv", "text\tstars\ngood\t5\n")
    expect_error(TableSpec(path), "x.tsv", "'label'", "text, stars", "data.label_column")


def test_missing_column_in_jsonl_and_parquet(tmp_path: Path) -> None:
    path = write(tmp_path / "x.jsonl", '{"review": "a", "label": 1}\n')
    expect_error(TableSpec(path), "x.jsonl", "'text'", "review, label", "data.text_column")
    pq = tmp_path / "x.parquet"
    pd.DataFrame({"text": ["a"], "y": [1]}).to_parquet(pq)
    expect_error(TableSpec(str(pq)), "x.parquet", "'label'", "text, y", "data.label_column")


def test_missing_split_column(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "text,label\na,b\n")
    expect_error(TableSpec(path, split_column="fold"), "'fold'", "data.split_column")


def test_bad_split_values(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "text,label,split\na,b,train\nc,d,holdout\n")
    expect_error(TableSpec(path, split_column="split"), "x.csv", "holdout", "train/val/test")


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_empty_file(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path / f"empty.{suffix}", "")
    expect_error(TableSpec(path), f"empty.{suffix}", "empty")


def test_whitespace_only_file(tmp_path: Path) -> None:
    path = write(tmp_path / "blank.csv", "\n\n  \n")
    expect_error(TableSpec(path), "blank.csv", "empty")


def test_header_only_file(tmp_path: Path) -> None:
    path = write(tmp_path / "head.csv", "text,label\n")
    expect_error(TableSpec(path), "head.csv", "no data rows")


def test_non_object_jsonl_line(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", '{"text": "a", "label": 1}\n[1, 2]\n')
    expect_error(TableSpec(path), "line 2", "d.jsonl", "JSON list")


# --------------------------------------------------------------------------- clean_table


def test_clean_drops_and_counts_few_bad_rows() -> None:
    texts = [f"text {i}" for i in range(30)]
    labels = ["a", "b"] * 15
    texts[0], texts[1], texts[2] = "", "   ", None  # type: ignore[call-overload]
    labels[3], labels[4] = None, ""  # type: ignore[call-overload]
    texts[5] = "  padded  "
    df = pd.DataFrame({"text": texts, "label": labels})
    out, report = clean_table(df)
    assert report == CleanReport(
        rows_in=30, dropped_empty_text=3, dropped_missing_label=2, rows_out=25
    )
    assert len(out) == 25 and list(out.columns) == ["text", "label"]
    assert "padded" in out["text"].tolist() and "text 5" not in out["text"].tolist()
    assert out.index.tolist() == list(range(25))


def test_clean_row_with_both_problems_counts_once() -> None:
    df = make_frame({"a": 5, "b": 5})
    df.loc[0, ["text", "label"]] = [None, None]
    _, report = clean_table(df)
    assert (report.dropped_empty_text, report.dropped_missing_label, report.rows_out) == (1, 0, 9)


def test_clean_errors_when_most_rows_are_bad() -> None:
    df = make_frame({"a": 5, "b": 5})
    df.loc[:5, "label"] = None
    with pytest.raises(DataError) as info:
        clean_table(df, max_dropped_fraction=0.2, source="dataset 'reviews'")
    message = str(info.value)
    assert "dataset 'reviews'" in message and "6 of 10" in message
    assert "data.max_dropped_fraction" in message and "data.label_column" in message


def test_clean_allows_more_with_higher_threshold() -> None:
    df = make_frame({"a": 5, "b": 5})
    df.loc[:2, "text"] = ""
    _, report = clean_table(df, max_dropped_fraction=0.5)
    assert report.rows_out == 7


def test_clean_one_class_only() -> None:
    with pytest.raises(DataError, match=r"two classes.*'pos' \(4 rows\)"):
        clean_table(make_frame({"pos": 4}))


def test_clean_keeps_split_column_and_normalises_labels() -> None:
    df = pd.DataFrame({"text": ["a", "b", "c"], "label": [1.0, 0.0, 1.0], "split": ["train"] * 3})
    out, _ = clean_table(df)
    assert out["label"].tolist() == ["1", "0", "1"]
    assert out["split"].tolist() == ["train"] * 3


# --------------------------------------------------------------------------- split_table


def test_split_is_stratified_and_loses_nothing() -> None:
    counts = {"a": 503, "b": 211, "c": 37, "d": 3}
    df = make_frame(counts)
    splits = split_table(df, val_fraction=0.1, test_fraction=0.2, seed=1)
    assert set(splits) == {"train", "val", "test"}
    all_texts = pd.concat([s["text"] for s in splits.values()])
    assert len(all_texts) == len(df) and set(all_texts) == set(df["text"])
    for name, fraction in (("val", 0.1), ("test", 0.2), ("train", 0.7)):
        part = splits[name]
        assert list(part.columns) == ["text", "label"]
        assert part.index.tolist() == list(range(len(part)))
        got = part["label"].value_counts()
        for label, n in counts.items():
            assert got[label] >= 1  # every class in every split
            if label != "d":
                assert abs(got[label] - n * fraction) <= 1, (name, label)
        assert got["d"] == 1  # the smallest class that fits puts one row in each split


def test_split_is_deterministic_per_seed() -> None:
    df = make_frame({"a": 100, "b": 60})
    first = split_table(df, 0.1, 0.1, seed=7)
    again = split_table(df, 0.1, 0.1, seed=7)
    other = split_table(df, 0.1, 0.1, seed=8)
    for name in ("train", "val", "test"):
        pd.testing.assert_frame_equal(first[name], again[name])
    assert set(first["test"]["text"]) != set(other["test"]["text"])


def test_split_class_too_small() -> None:
    df = make_frame({"big": 50, "tiny": 2, "wee": 1})
    with pytest.raises(DataError) as info:
        split_table(df, 0.1, 0.1, seed=0, source="dataset 'x'")
    message = str(info.value)
    assert "class 'tiny' of dataset 'x' has only 2 examples (and 1 more class)" in message
    assert "needs 3" in message and "add examples" in message and "drop or merge" in message


@pytest.mark.parametrize("n", [3, 4, 5, 7])
def test_split_small_class_with_large_fractions_keeps_train(n: int) -> None:
    splits = split_table(make_frame({"a": 50, "b": n}), 0.45, 0.45, seed=0)
    sizes = [int((splits[k]["label"] == "b").sum()) for k in ("train", "val", "test")]
    assert sum(sizes) == n and min(sizes) >= 1


def test_own_split_class_too_small_to_carve_val() -> None:
    df = make_frame({"a": 20, "b": 3})
    df["split"] = ["train"] * 16 + ["test"] * 4 + ["train", "test", "test"]
    with pytest.raises(DataError, match=r"class 'b'.*only 1 rows marked train.*train and val"):
        split_table(df, 0.1, 0.1, seed=0)


@pytest.mark.parametrize(
    ("val", "test", "key"),
    [
        (0.0, 0.1, "data.val_fraction"),
        (0.1, 0.0, "data.test_fraction"),
        (-0.1, 0.1, "data.val_fraction"),
        (0.1, 1.0, "data.test_fraction"),
        (0.5, 0.5, "data.val_fraction + data.test_fraction"),
        (0.7, 0.4, "data.val_fraction + data.test_fraction"),
        (float("nan"), 0.1, "data.val_fraction"),
    ],
)
def test_split_bad_fractions(val: float, test: float, key: str) -> None:
    with pytest.raises(DataError, match=key.replace("+", r"\+")):
        split_table(make_frame({"a": 50, "b": 50}), val, test, seed=0)


def test_own_split_column_is_honoured() -> None:
    df = make_frame({"a": 40, "b": 40})
    df["split"] = ["train"] * 30 + ["val"] * 5 + ["test"] * 5 + ["train"] * 30 + ["test"] * 10
    splits = split_table(df, 0.1, 0.1, seed=0)
    assert len(splits["train"]) == 60 and len(splits["val"]) == 5 and len(splits["test"]) == 15
    assert set(splits["test"]["text"]) == set(df.loc[df["split"] == "test", "text"])
    assert list(splits["train"].columns) == ["text", "label"]


def test_own_split_without_val_carves_stratified_val_from_train() -> None:
    df = make_frame({"a": 100, "b": 50})
    df["split"] = ["train"] * 80 + ["test"] * 20 + ["train"] * 40 + ["test"] * 10
    splits = split_table(df, val_fraction=0.1, test_fraction=0.2, seed=3)
    test_texts = set(df.loc[df["split"] == "test", "text"])
    assert set(splits["test"]["text"]) == test_texts
    val_counts = splits["val"]["label"].value_counts()
    # val share of the train rows is 0.1 / (1 - 0.2) = 0.125
    assert val_counts["a"] == 10 and val_counts["b"] == 5
    assert len(splits["train"]) == 120 - 15
    assert not set(splits["val"]["text"]) & set(splits["train"]["text"])


def test_own_split_class_missing_from_train() -> None:
    df = make_frame({"a": 10, "b": 10, "c": 2})
    df["split"] = ["train"] * 8 + ["test"] * 2 + ["train"] * 8 + ["test"] * 2 + ["test"] * 2
    with pytest.raises(DataError, match=r"class 'c'.*no rows marked train"):
        split_table(df, 0.1, 0.1, seed=0)


def test_own_split_without_test_rows() -> None:
    df = make_frame({"a": 10, "b": 10})
    df["split"] = "train"
    with pytest.raises(DataError, match=r"marks no rows 'test'"):
        split_table(df, 0.1, 0.1, seed=0)


# --------------------------------------------------------------------------- search_subset


def test_search_subset_fraction_and_stratification() -> None:
    train = make_frame({"a": 400, "b": 100, "rare": 2})
    sub = search_subset(train, 0.25, seed=0)
    counts = sub["label"].value_counts()
    assert counts["a"] == 100 and counts["b"] == 25 and counts["rare"] == 1
    assert set(sub["text"]) <= set(train["text"]) and sub["text"].is_unique
    assert sub.index.tolist() == list(range(len(sub)))
    pd.testing.assert_frame_equal(sub, search_subset(train, 0.25, seed=0))
    assert set(sub["text"]) != set(search_subset(train, 0.25, seed=1)["text"])


def test_small_classes_keep_a_minimum_in_the_search_subset() -> None:
    train = make_frame({"a": 400, "b": 100, "rare": 30})
    plain = search_subset(train, 0.25, seed=0)
    raised = search_subset(train, 0.25, seed=0, min_per_class=40)
    counts = raised["label"].value_counts()
    # b gets 40 of its 100 (more than 25 %), rare all of its 30, a its 25 % as before
    assert counts["a"] == 100 and counts["b"] == 40 and counts["rare"] == 30
    same = plain[plain["label"] == "a"].reset_index(drop=True)
    pd.testing.assert_frame_equal(same, raised[raised["label"] == "a"].reset_index(drop=True))
    assert set(plain["text"]) < set(raised["text"])  # the same draw, longer for small classes
    warned = subset_warnings(raised, 40)
    assert warned == [
        "the search subset has fewer than 40 examples of 1 class(es) ('rare' (30)): configs "
        "ranked on so few may not win on the full data; add examples of those classes"
    ]
    assert subset_warnings(raised, 0) == [] and subset_warnings(raised, 30) == []


def test_search_subset_full_fraction_is_a_copy() -> None:
    train = make_frame({"a": 3, "b": 3})
    sub = search_subset(train, 1.0, seed=0)
    pd.testing.assert_frame_equal(sub, train)
    assert sub is not train


@pytest.mark.parametrize("fraction", [0.0, -0.5, 1.5])
def test_search_subset_bad_fraction(fraction: float) -> None:
    with pytest.raises(DataError, match="search"):
        search_subset(make_frame({"a": 3, "b": 3}), fraction, seed=0)


# --------------------------------------------------------------------------- prepare_dataset


def test_prepare_dataset_writes_splits_and_info(tmp_path: Path) -> None:
    df = make_frame({"neg": 60, "pos": 40})
    df.loc[0, "text"] = " "
    out = tmp_path / "prepared"
    info = prepare_dataset(df, "reviews", out, val_fraction=0.1, test_fraction=0.2, seed=0)
    assert sorted(p.name for p in out.iterdir()) == [
        "dataset.json",
        "test.parquet",
        "train.parquet",
        "val.parquet",
    ]
    assert info.name == "reviews" and info.rows == 99
    assert info.classes == ["neg", "pos"]
    assert info.class_counts == {"neg": 59, "pos": 40}
    assert info.split_sizes == {"train": 69, "val": 10, "test": 20}
    assert info.dropped == CleanReport(100, 1, 0, 99)
    for name, size in info.split_sizes.items():
        part = load_split(out / f"{name}.parquet")
        assert list(part.columns) == ["text", "label"] and len(part) == size
    assert DatasetInfo.from_json(out / "dataset.json") == info


def test_dataset_info_json_round_trip(tmp_path: Path) -> None:
    info = DatasetInfo("x", 3, ["a", "b"], {"train": 1}, {"a": 2, "b": 1}, CleanReport(4, 1, 0, 3))
    info.to_json(tmp_path / "sub" / "info.json")
    assert DatasetInfo.from_json(tmp_path / "sub" / "info.json") == info
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["info.json"]


def test_prepare_dataset_writes_nothing_on_error(tmp_path: Path) -> None:
    out = tmp_path / "prepared"
    with pytest.raises(DataError, match="'tiny'"):
        prepare_dataset(make_frame({"big": 50, "tiny": 2}), "x", out)
    assert not out.exists() or not any(out.iterdir())
    with pytest.raises(DataError, match="data.val_fraction"):
        prepare_dataset(make_frame({"a": 50, "b": 50}), "x", out, val_fraction=0.0)
    assert not out.exists() or not any(out.iterdir())


def test_load_split_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_split(tmp_path / "train.parquet")


# --------------------------------------------------------------------------- warnings


def test_long_texts_are_cut_to_max_chars_with_a_warning() -> None:
    df = make_frame({"a": 3, "b": 3})
    df.loc[1, "text"] = "x" * 25_000
    df.loc[4, "text"] = "y" * 12_000
    cut, warning = truncate_texts(df, 10_000)
    assert cut["text"].str.len().max() == 10_000 and cut["text"].iloc[0] == df["text"].iloc[0]
    assert warning is not None and "2 of 6 texts" in warning
    assert "data.max_chars = 10000" in warning and "the longest has 25000" in warning
    assert df["text"].str.len().max() == 25_000  # the input is left alone
    assert truncate_texts(df, 0) == (df, None)
    assert truncate_texts(make_frame({"a": 2, "b": 2}), 10_000)[1] is None
    with pytest.raises(DataError, match="data.max_chars"):
        truncate_texts(df, -1)


def test_small_evaluation_splits_are_warned_about() -> None:
    warnings = split_warnings({"train": 800, "val": 40, "test": 100})
    assert len(warnings) == 1
    assert "the val split has only 40 rows" in warnings[0]
    assert "one example moves its accuracy by 2.5%" in warnings[0]
    assert "data.val_fraction" in warnings[0]
    assert split_warnings({"train": 8000, "val": 1000, "test": 1000}) == []


def test_prepare_dataset_records_and_logs_its_warnings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    df = make_frame({"neg": 300, "pos": 300})
    df.loc[0, "text"] = "word " * 100_000  # a 500,000-character row
    out = tmp_path / "prepared"
    with caplog.at_level(logging.WARNING, logger="hpotext.data"):
        info = prepare_dataset(df, "big", out, test_fraction=0.2, max_chars=1000)
    assert len(info.warnings) == 2, info.warnings
    assert "1 of 600 texts are longer than data.max_chars = 1000" in info.warnings[0]
    assert "the longest has 499999" in info.warnings[0]  # stripped
    assert "the val split has only 60 rows" in info.warnings[1]
    assert info.split_sizes["test"] == 120  # enough rows: no warning about it
    assert DatasetInfo.from_json(out / "dataset.json").warnings == info.warnings
    assert "dataset 'big': 1 of 600 texts" in caplog.text
    splits = pd.concat([load_split(out / f"{s}.parquet") for s in ("train", "val", "test")])
    assert splits["text"].str.len().max() == 1000  # what the vocabulary and TF-IDF read


def test_dataset_info_without_warnings_key_still_reads(tmp_path: Path) -> None:
    info = DatasetInfo("x", 3, ["a", "b"], {"train": 1}, {"a": 2, "b": 1}, CleanReport(4, 1, 0, 3))
    raw = json.loads(json.dumps(info.__dict__, default=lambda o: o.__dict__))
    del raw["warnings"]
    (tmp_path / "info.json").write_text(json.dumps(raw))
    assert DatasetInfo.from_json(tmp_path / "info.json") == info
