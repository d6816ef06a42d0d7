"""The splits as each model family takes them: the study vocabulary's ids or the pretrained
encoder's own (:class:`Preprocess`), with the cached frozen-bottom states of the features rule
and the vocabulary's word vectors of the vectors rule (:class:`TrainInputs`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hpotext.data import info as data_mod
from hpotext.data.info import SplitFiles
from hpotext.data.text import Vocab
from hpotext.errors import ConfigError, StaleFileError
from hpotext.models.configs import PREPROCESSING
from hpotext.train.records import TrainData
from hpotext.train.setup import ModelConfig, encode_split

log = logging.getLogger(__name__)


def features_file(folder: str | Path, max_len: int, train_layers: int) -> Path:
    """Where the features rule writes one (max_len, train_layers) table of a split."""
    return Path(folder) / f"len{max_len}_top{train_layers}.pt"


def features_meta(max_len: int, train_layers: int, texts: int) -> dict[str, object]:
    """What a features table was computed for (checked when it is read)."""
    return {"max_len": max_len, "train_layers": train_layers, "texts": texts}


class Preprocess:
    """How texts become ids for each model family: the study vocabulary (cut to ``max_len``,
    text.max_len) or, for the pretrained encoder, its own tokenizer at the model's max_len."""

    def __init__(
        self,
        vocab: str,
        info: str,
        max_len: int,
        encoder: str | None = None,
        vectors: str | None = None,
    ) -> None:
        self.vocab_path, self.encoder, self.text_max_len = vocab, encoder, max_len
        self.vectors_path = vectors
        self.classes = data_mod.DatasetInfo.from_json(info).classes
        self._vocab: Vocab | None = None
        self._tokenizer: Any = None

    def max_len(self, model: ModelConfig) -> int:
        if PREPROCESSING[model.family] == "vocab":
            return self.text_max_len
        return int(model.setting("max_len"))

    def vocab_size(self, model: ModelConfig) -> int:
        if PREPROCESSING[model.family] == "vocab":
            return len(self.vocab())
        return len(self.tokenizer())

    def vectors(self) -> np.ndarray | None:
        """The vocabulary's word vectors, when the study has them (vectors rule)."""
        if self.vectors_path is None:
            return None
        found = np.load(self.vectors_path)
        if len(found) != len(self.vocab()):
            raise StaleFileError(
                f"word vectors {self.vectors_path} have {len(found)} rows but the vocabulary "
                f"{self.vocab_path} has {len(self.vocab())} words; delete the vectors file so "
                "the vectors rule computes it again"
            )
        return found

    def vocab(self) -> Vocab:
        if self._vocab is None:
            self._vocab = Vocab.load(self.vocab_path)
        return self._vocab

    def tokenizer(self) -> Any:
        from hpotext.models.encoder import load_tokenizer

        if self.encoder is None:
            raise ConfigError(
                "model 'encoder' is in the search space but no encoder is given; set encoder.name"
            )
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer(self.encoder)
        return self._tokenizer

    def encode(self, path: str, model: ModelConfig) -> tuple[list[list[int]], list[int]]:
        """Split ``path``'s ids as ``model`` takes them and its class indices."""
        if PREPROCESSING[model.family] == "vocab":
            return encode_split(path, self.vocab(), self.classes, self.text_max_len)
        from hpotext.models.encoder import tokenize

        df = data_mod.load_split(path)
        index = {c: i for i, c in enumerate(self.classes)}
        ids = tokenize(self.tokenizer(), df["text"], self.max_len(model))
        return ids, [index[str(y)] for y in df["label"]]


class TrainInputs:
    """The train (or subset) and validation splits as each model family takes them
    (:class:`Preprocess`); for the pretrained encoder, read from the cached frozen-bottom states
    when the features rule computed them for its max_len and train_layers. Encoded on first use
    and kept; of the large feature tables only the last one used is kept."""

    def __init__(
        self, files: SplitFiles, max_len: int, train_rows: Sequence[int] | None = None
    ) -> None:
        """``train_rows``: train on only these positions of the train split (the proxy's slice
        of the search subset, whose cached features it then shares)."""
        self.files, self.train_rows = files, train_rows
        self.preprocess = Preprocess(files.vocab, files.info, max_len, files.encoder, files.vectors)
        self._kept: dict[tuple[Any, ...], TrainData] = {}

    def _train_split(self, model: ModelConfig) -> tuple[list[list[int]], list[int]]:
        ids, labels = self.preprocess.encode(self.files.train, model)
        if self.train_rows is None:
            return ids, labels
        return [ids[i] for i in self.train_rows], [labels[i] for i in self.train_rows]

    def for_model(self, model: ModelConfig) -> TrainData:
        prep = self.preprocess
        max_len = prep.max_len(model)
        key: tuple[Any, ...] = (PREPROCESSING[model.family], max_len)
        if key not in self._kept:
            train_ids, train_y = self._train_split(model)
            val_ids, val_y = prep.encode(self.files.val, model)
            self._kept[key] = TrainData(
                train_ids,
                train_y,
                val_ids,
                val_y,
                prep.vocab_size(model),
                len(prep.classes),
                max_len,
                pretrained=None if key[0] == "vocab" else prep.encoder,
                vectors=prep.vectors() if key[0] == "vocab" else None,
            )
        cached = self._cached(model, max_len)
        if cached is None:
            return self._kept[key]
        if cached not in self._kept:
            for old in [k for k in self._kept if k[0] == "features"]:
                del self._kept[old]
            self._kept[cached] = self._features(self._kept[key], max_len, cached[2])
        return self._kept[cached]

    def _cached(self, model: ModelConfig, max_len: int) -> tuple[Any, ...] | None:
        if self.files.features is None or PREPROCESSING[model.family] == "vocab":
            return None
        layers = int(model.setting("train_layers"))
        if not all(features_file(f, max_len, layers).is_file() for f in self.files.features):
            log.info("no cached features for max_len %d, train_layers %d", max_len, layers)
            return None
        return ("features", max_len, layers)

    def _features(self, tokens: TrainData, max_len: int, layers: int) -> TrainData:
        from hpotext.models.features import FeatureTable

        assert self.files.features is not None
        train_dir, val_dir = self.files.features
        settings = {"max_len": max_len, "train_layers": layers}
        train_part = FeatureTable.load(features_file(train_dir, max_len, layers), settings)
        if self.train_rows is not None:
            train_part = train_part.select(list(self.train_rows))
        val_part = FeatureTable.load(features_file(val_dir, max_len, layers), settings)
        table = train_part.concat(val_part)
        rows = table.row_ids()
        if [len(r) for r in rows] != [len(t) for t in (*tokens.train_ids, *tokens.val_ids)]:
            raise StaleFileError(
                f"cached features in {self.files.features[0]} do not match the split's texts; "
                "delete the folder so the features rule computes them again"
            )
        n = len(tokens.train_ids)
        return TrainData(
            rows[:n],
            tokens.train_labels,
            rows[n:],
            tokens.val_labels,
            tokens.vocab_size,
            tokens.num_classes,
            max_len,
            pretrained=tokens.pretrained,
            features=table,
        )
