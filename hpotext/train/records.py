"""What training takes and gives: the encoded data, one record per epoch, the result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from hpotext.models.features import FeatureTable


@dataclass
class TrainData:
    """Encoded splits: token id lists and class indices, as one model family takes them.

    For the pretrained encoder, ``pretrained`` is its folder and, when the frozen bottom's
    states are cached, ``features`` holds them and the ids are rows of that table. For the
    from-scratch families, ``vectors`` are the vocabulary's pretrained word vectors."""

    train_ids: Sequence[Sequence[int]]
    train_labels: Sequence[int]
    val_ids: Sequence[Sequence[int]]
    val_labels: Sequence[int]
    vocab_size: int
    num_classes: int
    max_len: int
    pretrained: str | None = None
    features: FeatureTable | None = None
    vectors: np.ndarray | None = None  # (vocab_size, D) word vectors, for embed_init: pretrained

    def for_model(self, model: object) -> TrainData:
        """The data any model trains on: these ids (a :class:`hpotext.train.inputs.TrainInputs`
        instead encodes the splits as each model family takes them)."""
        return self


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    val_macro_f1: float
    lr: float
    seconds: float


@dataclass
class TrainResult:
    history: list[EpochRecord]
    epochs_trained: int  # epochs run in this call (the cost), not counting resumed ones
    stop_reason: str | None
    diverged: bool
    seconds: float
    checkpoint_dir: Path | None

    @property
    def final_epoch(self) -> int:
        return self.history[-1].epoch if self.history else 0

    def best(self) -> EpochRecord:
        return max(self.history, key=lambda r: (r.val_accuracy, -r.epoch))
