"""Setting a trial or retraining up: the one merge of a config into what training takes
(:func:`training_setup`), and the largest batch size that fits (train.batch_size: auto). The
splits as each model family takes them are hpotext.train.inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from hpotext.data import info as data_mod
from hpotext.data.info import SplitFiles
from hpotext.data.text import Vocab
from hpotext.models.configs import hyperparameters
from hpotext.train.config import TrainConfig
from hpotext.train.records import TrainData

if TYPE_CHECKING:
    from hpotext.space.core import Space

log = logging.getLogger(__name__)


def encode_split(
    path: str, vocab: Vocab, classes: list[str], max_len: int
) -> tuple[list[list[int]], list[int]]:
    df = data_mod.load_split(path)
    index = {c: i for i, c in enumerate(classes)}
    return vocab.encode_all(df["text"], max_len), [index[str(y)] for y in df["label"]]


def load_train_data(files: SplitFiles, max_len: int) -> TrainData:
    """The train (or subset) and validation splits encoded with the vocabulary."""
    vocab = Vocab.load(files.vocab)
    classes = data_mod.DatasetInfo.from_json(files.info).classes
    train_ids, train_y = encode_split(files.train, vocab, classes, max_len)
    val_ids, val_y = encode_split(files.val, vocab, classes, max_len)
    return TrainData(train_ids, train_y, val_ids, val_y, len(vocab), len(classes), max_len)


@dataclass(frozen=True)
class ModelConfig:
    """A model family and its hyperparameters, as a trial or a retraining builds it."""

    family: str
    hparams: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """``{"name": family, family: hparams}``, the shape a retraining's run.json records."""
        return {"name": self.family, self.family: dict(self.hparams)}

    def setting(self, name: str) -> Any:
        """Hyperparameter ``name`` as the model is built with it (its default if not set)."""
        return self.hparams.get(name, hyperparameters(self.family)[name])


BatchSizeFor = Callable[[ModelConfig], int]


def training_setup(
    space: Space,
    config: dict[str, Any],
    base_train: dict[str, Any],
    batch_size_for: BatchSizeFor | None = None,
) -> tuple[ModelConfig, TrainConfig]:
    """What training takes for ``config`` (a point of ``space``): the one place a trial's or a
    retraining's training config is merged. Training settings are ``base_train`` (the config's
    ``train`` section) under the config's own training hyperparameters and the space's fixed
    ones, for the space's maximum fidelity in epochs (the schedule's horizon); ``batch_size:
    auto`` becomes ``batch_size_for(model)`` (64 without one)."""
    family, model_hp, train_hp = space.to_training(config)
    model = ModelConfig(family, model_hp)
    raw = {**base_train, **train_hp, "epochs": space.fidelity.max}
    if raw.get("batch_size") == "auto":
        raw["batch_size"] = batch_size_for(model) if batch_size_for else 64
    return model, TrainConfig.from_dict(raw)


def find_batch_size(
    model_name: str, hparams: dict[str, Any], data: TrainData, device: torch.device, cap: int = 4096
) -> int:
    """Largest power of two whose full-width training step fits on a CUDA device (64 on CPU)."""
    if device.type != "cuda":
        return 64
    from hpotext.train.loop import build

    model = build(model_name, hparams, data, device)
    high = len(data.features.states) if data.features is not None else data.vocab_size
    best, size = 0, 8
    while size <= cap:
        try:
            tokens = torch.randint(1, high, (size, data.max_len), device=device)
            lengths = torch.full((size,), data.max_len, dtype=torch.long, device=device)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                model(tokens, lengths).float().sum().backward()
            best, size = size, size * 2
        except torch.OutOfMemoryError:
            break
        finally:
            model.zero_grad(set_to_none=True)
            torch.cuda.empty_cache()
    return max(best, 8)
