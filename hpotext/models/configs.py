"""Each model family's hyperparameters as a plain dataclass that checks its fields.

Free of torch on purpose (so the configs do not sit in the model files): the search space is
checked against these when Snakemake reads the workflow, and importing torch there would cost
every Snakemake run (and every cluster job) seconds. The modules in hpotext.models build on them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from hpotext.errors import ConfigError
from hpotext.limits import FRACTION, TEXT, WHOLE, Limit, check, check_fields

BOE_POOLINGS = ("mean", "max", "meanmax")
# How a from-scratch family's embeddings start: random, or the study's pretrained word vectors
# (the encoder's input embeddings averaged over each word's WordPiece pieces, reduced to
# embed_dim), after Kim 2014's CNN-static
EMBED_INITS = ("random", "pretrained")


@dataclass
class BoEConfig:
    """Hyperparameters of the bag-of-embeddings classifier."""

    vocab_size: int
    num_classes: int
    embed_dim: int = 128
    embed_init: str = "random"  # or pretrained: the study's word vectors (rule vectors)
    dropout: float = 0.2
    pooling: str = "mean"
    hidden_dim: int = 0

    def __post_init__(self) -> None:
        check_fields("boe", self, limits_of("boe"))


def parse_kernel_sizes(value: object) -> tuple[int, ...]:
    """Turn (3, 4), [3, 4], "3,4" or a single number into a tuple of kernel widths >= 1."""
    sizes: tuple[int, ...] = check(
        "cnn", "kernel_sizes", value, MODEL_LIMITS["cnn"]["kernel_sizes"]
    )
    return sizes


@dataclass
class CNNConfig:
    """Hyperparameters of the convolutional classifier."""

    vocab_size: int
    num_classes: int
    embed_dim: int = 128
    embed_init: str = "random"  # or pretrained: the study's word vectors (rule vectors)
    dropout: float = 0.2
    num_filters: int = 100
    kernel_sizes: tuple[int, ...] = (3, 4, 5)

    def __post_init__(self) -> None:
        check_fields("cnn", self, limits_of("cnn"))


LSTM_POOLINGS = ("last", "max")


@dataclass
class LSTMConfig:
    """Hyperparameters of the LSTM classifier."""

    vocab_size: int
    num_classes: int
    embed_dim: int = 128
    embed_init: str = "random"  # or pretrained: the study's word vectors (rule vectors)
    dropout: float = 0.2
    hidden_dim: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    pooling: str = "last"

    def __post_init__(self) -> None:
        check_fields("lstm", self, limits_of("lstm"))


TRANSFORMER_POOLINGS = ("mean", "cls")


@dataclass
class TransformerConfig:
    """Hyperparameters of the Transformer classifier.

    ``max_positions`` is the longest text (in tokens) the model accepts; a CLS token, when used,
    gets its own extra position, so callers pass the data's ``max_len`` unchanged.
    """

    vocab_size: int
    num_classes: int
    embed_dim: int = 128
    embed_init: str = "random"  # or pretrained: the study's word vectors (rule vectors)
    dropout: float = 0.2
    num_heads: int = 4
    num_layers: int = 2
    ff_dim: int = 256
    max_positions: int = 512
    pooling: str = "mean"

    def __post_init__(self) -> None:
        check_fields("transformer", self, limits_of("transformer"))
        if self.embed_dim % self.num_heads != 0:
            raise ConfigError(
                f"model 'transformer' needs embed_dim divisible by num_heads, got embed_dim="
                f"{self.embed_dim} and num_heads={self.num_heads}; choose an embed_dim that is "
                f"a multiple of {self.num_heads} or a num_heads that divides {self.embed_dim}"
            )


ENCODER_POOLINGS = ("mean", "cls")


@dataclass
class EncoderConfig:
    """Hyperparameters of the pretrained encoder classifier (hpotext.models.encoder).

    ``pretrained`` (from the data, not the search) is the model folder or hub id of
    ``encoder.name``; ``vocab_size`` is its tokenizer's. ``max_len`` is the number of WordPiece
    tokens kept per text, [CLS] and [SEP] not counted. ``train_layers`` is how many of the top
    transformer layers train: 0 trains only the head on the frozen encoder, a value at or above
    the encoder's depth trains every layer and the embeddings (a full fine-tune).
    ``layer_decay`` scales the learning rate by this factor per layer below the top (1: one rate).
    """

    vocab_size: int
    num_classes: int
    pretrained: str
    max_len: int = 64
    train_layers: int = 2
    pooling: str = "mean"
    dropout: float = 0.1  # before the classification head
    layer_decay: float = 1.0

    def __post_init__(self) -> None:
        check_fields("encoder", self, limits_of("encoder"))


# Fields every model config takes from the data, not from the search.
DATA_LIMITS = {
    "vocab_size": Limit(2, whole=True),
    "num_classes": Limit(2, whole=True),
    "max_positions": WHOLE,
    "pretrained": TEXT,
}


# What each family's hyperparameters accept (its dataclass checks every field against these).
MODEL_LIMITS: dict[str, dict[str, Limit]] = {
    "boe": {
        "embed_dim": WHOLE,
        "embed_init": Limit(choices=EMBED_INITS),
        "dropout": FRACTION,
        "pooling": Limit(choices=BOE_POOLINGS),
        "hidden_dim": Limit(0, whole=True),  # 0: no hidden layer
    },
    "cnn": {
        "embed_dim": WHOLE,
        "embed_init": Limit(choices=EMBED_INITS),
        "dropout": FRACTION,
        "num_filters": WHOLE,
        "kernel_sizes": Limit(1, whole=True, many=True),
    },
    "lstm": {
        "embed_dim": WHOLE,
        "embed_init": Limit(choices=EMBED_INITS),
        "dropout": FRACTION,
        "hidden_dim": WHOLE,
        "num_layers": WHOLE,
        "bidirectional": Limit(choices=(True, False)),
        "pooling": Limit(choices=LSTM_POOLINGS),
    },
    "transformer": {
        "embed_dim": WHOLE,  # and a multiple of num_heads (TransformerConfig checks the pair)
        "embed_init": Limit(choices=EMBED_INITS),
        "dropout": FRACTION,
        "num_heads": WHOLE,
        "num_layers": WHOLE,
        "ff_dim": WHOLE,
        "pooling": Limit(choices=TRANSFORMER_POOLINGS),
    },
    "encoder": {
        "max_len": WHOLE,  # and, with [CLS] and [SEP], within the encoder's positions
        "train_layers": Limit(0, whole=True),
        "pooling": Limit(choices=ENCODER_POOLINGS),
        "dropout": FRACTION,
        "layer_decay": Limit(0, 1, low_open=True),
    },
}


CONFIGS: dict[str, type] = {
    "boe": BoEConfig,
    "cnn": CNNConfig,
    "lstm": LSTMConfig,
    "transformer": TransformerConfig,
    "encoder": EncoderConfig,
}

# How each family's texts become token ids: the study vocabulary (vocab.json, built by the
# prepare rule) or the pretrained encoder's own tokenizer (the encoder.name folder).
PREPROCESSING: dict[str, str] = {
    "boe": "vocab",
    "cnn": "vocab",
    "lstm": "vocab",
    "transformer": "vocab",
    "encoder": "tokenizer",
}

# Config fields set from the data, not tuned.
DATA_FIELDS = ("vocab_size", "num_classes", "max_positions", "pretrained")


def limits_of(family: str) -> dict[str, Limit]:
    """What each field of ``family``'s config accepts (its data fields included)."""
    return {**DATA_LIMITS, **MODEL_LIMITS[family]}


def model_names() -> list[str]:
    """Names of all model families, sorted."""
    return sorted(CONFIGS)


def config_class(name: str) -> type:
    if name not in CONFIGS:
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(model_names())}")
    return CONFIGS[name]


def hyperparameters(name: str) -> dict[str, object]:
    """Tunable hyperparameters of model ``name`` and their defaults, in definition order."""
    return {
        field.name: field.default
        for field in dataclasses.fields(config_class(name))
        if field.name not in DATA_FIELDS
    }
