"""What the prepare step records about a dataset (DatasetInfo, dataset.json) and reading a split."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hpotext.data.files import list_columns, short
from hpotext.errors import DataError
from hpotext.io import atomic_path


@dataclass
class CleanReport:
    """How many rows :func:`clean_table` dropped and why."""

    rows_in: int
    dropped_empty_text: int
    dropped_missing_label: int
    rows_out: int


@dataclass
class DatasetInfo:
    """Summary of a prepared dataset, stored next to its splits as dataset.json."""

    name: str
    rows: int  # after cleaning
    classes: list[str]  # sorted label names; the class index is the position in this list
    split_sizes: dict[str, int]
    class_counts: dict[str, int]
    dropped: CleanReport
    warnings: list[str] = field(default_factory=list)  # degenerate but valid data, for the summary

    def to_json(self, path: str | Path) -> None:
        """Write this summary as JSON (atomically)."""
        text = json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")

    @classmethod
    def from_json(cls, path: str | Path) -> DatasetInfo:
        """Read a summary written by :meth:`to_json`."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(
                name=str(raw["name"]),
                rows=int(raw["rows"]),
                classes=[str(c) for c in raw["classes"]],
                split_sizes={str(k): int(v) for k, v in raw["split_sizes"].items()},
                class_counts={str(k): int(v) for k, v in raw["class_counts"].items()},
                dropped=CleanReport(**{k: int(v) for k, v in raw["dropped"].items()}),
                warnings=[str(w) for w in raw.get("warnings", [])],
            )
        except FileNotFoundError:
            raise DataError(
                f"dataset summary '{path}' does not exist; run the data preparation step first"
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise DataError(
                f"dataset summary '{path}' is not valid ({short(err, 80)}); delete it and run "
                "the data preparation step again"
            ) from None


def load_split(path: str | Path) -> pd.DataFrame:
    """Read a split written by :func:`prepare_dataset` (columns text, label as str)."""
    if not Path(path).is_file():
        raise DataError(f"split file '{path}' does not exist; run the data preparation step first")
    try:
        df = pd.read_parquet(path)
    except (ValueError, OSError) as err:
        raise DataError(
            f"split file '{path}' is not readable parquet ({short(err, 80)}); delete it and run "
            "the data preparation step again"
        ) from None
    if "text" not in df.columns or "label" not in df.columns:
        raise DataError(
            f"split file '{path}' has no text/label columns "
            f"(columns: {list_columns(df.columns)}); delete it and run data preparation again"
        )
    return pd.DataFrame(
        {"text": df["text"].astype(str).to_numpy(), "label": df["label"].astype(str).to_numpy()}
    )


@dataclass(frozen=True)
class SplitFiles:
    """The prepared files a training step reads: the split it trains on (``train``: the train
    split, or the search subset), the validation split, the vocabulary and dataset.json; for the
    pretrained encoder family, the ``encoder`` model folder (or cached hub id) and the folders
    of the frozen bottom's cached states of the train and val splits (``features``)."""

    train: str
    val: str
    vocab: str
    info: str
    encoder: str | None = None
    features: tuple[str, str] | None = None
    vectors: str | None = None  # the vocabulary's word vectors (.npy), for embed_init: pretrained

    @classmethod
    def of_job(cls, snakemake_input: Any, train: str) -> SplitFiles:
        """A rule's inputs as split files (``train``: the input holding the training split):
        train, val, vocab, info and, for the encoder family, encoder and the features folders."""
        features = None
        if snakemake_input.get("features_train"):
            features = (snakemake_input.features_train, snakemake_input.features_val)
        return cls(
            snakemake_input[train],
            snakemake_input.val,
            snakemake_input.vocab,
            snakemake_input.info,
            snakemake_input.get("encoder"),
            features,
            snakemake_input.get("vectors"),
        )

    def training(self) -> tuple[str, str, str]:
        """The files whose content a search's trials depend on (the data digest's inputs)."""
        return self.train, self.val, self.vocab
