"""Registry of text-classifier architectures: look up, configure, build and size models.

Every model maps ``tokens`` (B, L) with pad index 0 and ``lengths`` (B,) to logits (B, C).
"""

from __future__ import annotations

import dataclasses

from torch import nn

from hpotext import hparams
from hpotext.errors import ConfigError
from hpotext.hparams import hyperparameters, model_names
from hpotext.models.boe import BoEClassifier, BoEConfig
from hpotext.models.cnn import CNNClassifier, CNNConfig
from hpotext.models.lstm import LSTMClassifier, LSTMConfig
from hpotext.models.transformer import TransformerClassifier, TransformerConfig

__all__ = [
    "MODELS",
    "build_model",
    "count_parameters",
    "hyperparameters",
    "make_config",
    "model_names",
]

MODELS: dict[str, tuple[type, type[nn.Module]]] = {
    "boe": (BoEConfig, BoEClassifier),
    "cnn": (CNNConfig, CNNClassifier),
    "lstm": (LSTMConfig, LSTMClassifier),
    "transformer": (TransformerConfig, TransformerClassifier),
}
assert set(MODELS) == set(hparams.CONFIGS)


def _lookup(name: str) -> tuple[type, type[nn.Module]]:
    hparams.config_class(name)  # the error for an unknown name
    return MODELS[name]


def make_config(
    name: str, vocab_size: int, num_classes: int, max_len: int, **hparams: object
) -> object:
    """Validated config for model ``name``; ``max_len`` becomes the transformer's max_positions."""
    config_cls, _ = _lookup(name)
    valid = hyperparameters(name)
    for key in hparams:
        if key not in valid:
            raise ConfigError(
                f"model {name!r} has no hyperparameter {key!r}; "
                f"valid ones: {', '.join(sorted(valid))}"
            )
    data: dict[str, object] = {"vocab_size": vocab_size, "num_classes": num_classes}
    if "max_positions" in {field.name for field in dataclasses.fields(config_cls)}:
        data["max_positions"] = max_len
    return config_cls(**data, **hparams)


def build_model(
    name: str, vocab_size: int, num_classes: int, max_len: int, **hparams: object
) -> nn.Module:
    """Build model ``name`` from data sizes and hyperparameters (see ``make_config``)."""
    _, module_cls = _lookup(name)
    return module_cls(make_config(name, vocab_size, num_classes, max_len, **hparams))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
