"""Registry of text-classifier architectures: look up, configure, build and size models.

Every model maps ``tokens`` (B, L) with pad index 0 and ``lengths`` (B,) to logits (B, C).
Each family is one module (an ``nn.Module`` built from its config in hpotext.models.configs);
the registry imports a family's module only when a model is built, so importing this package,
and parsing the Snakefile, never imports torch.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import TYPE_CHECKING

from hpotext.errors import ConfigError
from hpotext.models.configs import config_class, hyperparameters, model_names

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "MODULES",
    "build_model",
    "count_parameters",
    "hyperparameters",
    "make_config",
    "model_names",
]

# family -> (module, nn.Module class); every family of hpotext.models.configs.CONFIGS
MODULES: dict[str, tuple[str, str]] = {
    "boe": ("hpotext.models.boe", "BoEClassifier"),
    "cnn": ("hpotext.models.cnn", "CNNClassifier"),
    "lstm": ("hpotext.models.lstm", "LSTMClassifier"),
    "transformer": ("hpotext.models.transformer", "TransformerClassifier"),
    "encoder": ("hpotext.models.encoder", "EncoderClassifier"),
}


def module_class(name: str) -> type[nn.Module]:
    """The ``nn.Module`` class of family ``name`` (imports its module)."""
    config_class(name)  # the error for an unknown name
    module, cls = MODULES[name]
    found: type[nn.Module] = getattr(importlib.import_module(module), cls)
    return found


def make_config(
    name: str,
    vocab_size: int,
    num_classes: int,
    width: int,
    pretrained: str | None = None,
    **hparams: object,
) -> object:
    """Validated config for model ``name``; ``width`` (the data's max_len) becomes the
    transformer's max_positions and the encoder's max_len unless set, ``pretrained`` (the
    encoder.name folder) the encoder's weights."""
    config_cls = config_class(name)
    valid = hyperparameters(name)
    for key in hparams:
        if key not in valid:
            raise ConfigError(
                f"model {name!r} has no hyperparameter {key!r}; "
                f"valid ones: {', '.join(sorted(valid))}"
            )
    data: dict[str, object] = {"vocab_size": vocab_size, "num_classes": num_classes}
    names = {field.name for field in dataclasses.fields(config_cls)}
    if "max_positions" in names:
        data["max_positions"] = width
    if "max_len" in names and "max_len" not in hparams:  # the encoder's, as the data was cut
        data["max_len"] = width
    if "pretrained" in names:
        if pretrained is None:
            raise ConfigError(f"model {name!r} needs a pretrained encoder; set encoder.name")
        data["pretrained"] = pretrained
    return config_cls(**data, **hparams)


def build_model(
    name: str,
    vocab_size: int,
    num_classes: int,
    width: int,
    pretrained: str | None = None,
    **hparams: object,
) -> nn.Module:
    """Build model ``name`` from data sizes and hyperparameters (see ``make_config``)."""
    cfg = make_config(name, vocab_size, num_classes, width, pretrained, **hparams)
    return module_class(name)(cfg)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
