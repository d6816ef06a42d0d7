"""Hyperparameters of the models and of training as plain dataclasses, with clear errors.

Free of torch on purpose: the search space is checked against these when Snakemake reads the
workflow, and importing torch there would cost every Snakemake run (and every cluster job) seconds.
hpotext.models and hpotext.train build on them.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import asdict, dataclass, fields
from typing import Any

from hpotext.errors import ConfigError

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("cosine", "constant")
PADDINGS = ("bucket", "batch", "fixed")


# --- value checks ---------------------------------------------------------------------------
def as_int(model: str, name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum``; int-valued floats such as 128.0 are accepted."""
    number: int | None = None
    if isinstance(value, bool):
        pass  # True/False are not sizes
    elif isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, numbers.Real) and float(value).is_integer():
        number = int(float(value))  # e.g. 128.0 from YAML or a float-valued search space
    if number is None:
        raise ConfigError(
            f"model '{model}' hyperparameter '{name}' must be a whole number, got {value!r}; "
            f"set it to an integer of at least {minimum}"
        )
    if number < minimum:
        raise ConfigError(
            f"model '{model}' hyperparameter '{name}' must be at least {minimum}, got {number}; "
            f"set it to {minimum} or more"
        )
    return number


def as_float(model: str, name: str, value: object) -> float:
    """Return ``value`` as a float, or raise ConfigError if it is not a number."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise ConfigError(
        f"model '{model}' hyperparameter '{name}' must be a number, got {value!r}; "
        "set it to a number such as 0.2"
    )


def check_dropout(model: str, value: object) -> float:
    """Return ``value`` as a dropout probability in [0, 1)."""
    rate = as_float(model, "dropout", value)
    if not 0.0 <= rate < 1.0:
        raise ConfigError(
            f"model '{model}' hyperparameter 'dropout' must be in [0, 1), got {rate}; "
            "set it to a value such as 0.2"
        )
    return rate


def as_bool(model: str, name: str, value: object) -> bool:
    """Return ``value`` as a bool; accepts True/False, 0/1 and the strings 'true'/'false'."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(
        f"model '{model}' hyperparameter '{name}' must be true or false, got {value!r}; "
        "set it to true or false"
    )


def check_choice(model: str, name: str, value: object, options: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``options``, else raise ConfigError listing them."""
    if isinstance(value, str) and value in options:
        return value
    raise ConfigError(
        f"model '{model}' hyperparameter '{name}' must be one of {', '.join(options)}, "
        f"got {value!r}; pick one of those"
    )


# --- model families -------------------------------------------------------------------------
BOE_POOLINGS = ("mean", "max", "meanmax")


@dataclass
class BoEConfig:
    """Hyperparameters of the bag-of-embeddings classifier."""

    vocab_size: int
    num_classes: int
    embed_dim: int = 128
    dropout: float = 0.2
    pooling: str = "mean"
    hidden_dim: int = 0

    def __post_init__(self) -> None:
        self.vocab_size = as_int("boe", "vocab_size", self.vocab_size, minimum=2)
        self.num_classes = as_int("boe", "num_classes", self.num_classes, minimum=2)
        self.embed_dim = as_int("boe", "embed_dim", self.embed_dim)
        self.dropout = check_dropout("boe", self.dropout)
        self.pooling = check_choice("boe", "pooling", self.pooling, BOE_POOLINGS)
        self.hidden_dim = as_int("boe", "hidden_dim", self.hidden_dim, minimum=0)


def parse_kernel_sizes(value: object) -> tuple[int, ...]:
    """Turn (3, 4), [3, 4], "3,4" or a single number into a tuple of kernel widths >= 1."""
    if isinstance(value, str):
        items: list[object] = []
        for part in value.strip().strip("()[]").split(","):  # also "(3, 4)" or "[3, 4]"
            try:
                items.append(float(part))
            except ValueError:
                raise ConfigError(
                    f"model 'cnn' hyperparameter 'kernel_sizes' must be whole numbers separated "
                    f'by commas, got {value!r}; write it like "3,4,5"'
                ) from None
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    if not items:
        raise ConfigError(
            "model 'cnn' hyperparameter 'kernel_sizes' is empty; set it to e.g. [3, 4, 5]"
        )
    return tuple(as_int("cnn", "kernel_sizes", item) for item in items)


@dataclass
class CNNConfig:
    """Hyperparameters of the convolutional classifier."""

    vocab_size: int
    num_classes: int
    embed_dim: int = 128
    dropout: float = 0.2
    num_filters: int = 100
    kernel_sizes: tuple[int, ...] = (3, 4, 5)

    def __post_init__(self) -> None:
        self.vocab_size = as_int("cnn", "vocab_size", self.vocab_size, minimum=2)
        self.num_classes = as_int("cnn", "num_classes", self.num_classes, minimum=2)
        self.embed_dim = as_int("cnn", "embed_dim", self.embed_dim)
        self.dropout = check_dropout("cnn", self.dropout)
        self.num_filters = as_int("cnn", "num_filters", self.num_filters)
        self.kernel_sizes = parse_kernel_sizes(self.kernel_sizes)


LSTM_POOLINGS = ("last", "max")


@dataclass
class LSTMConfig:
    """Hyperparameters of the LSTM classifier."""

    vocab_size: int
    num_classes: int
    embed_dim: int = 128
    dropout: float = 0.2
    hidden_dim: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    pooling: str = "last"

    def __post_init__(self) -> None:
        self.vocab_size = as_int("lstm", "vocab_size", self.vocab_size, minimum=2)
        self.num_classes = as_int("lstm", "num_classes", self.num_classes, minimum=2)
        self.embed_dim = as_int("lstm", "embed_dim", self.embed_dim)
        self.dropout = check_dropout("lstm", self.dropout)
        self.hidden_dim = as_int("lstm", "hidden_dim", self.hidden_dim)
        self.num_layers = as_int("lstm", "num_layers", self.num_layers)
        self.bidirectional = as_bool("lstm", "bidirectional", self.bidirectional)
        self.pooling = check_choice("lstm", "pooling", self.pooling, LSTM_POOLINGS)


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
    dropout: float = 0.2
    num_heads: int = 4
    num_layers: int = 2
    ff_dim: int = 256
    max_positions: int = 512
    pooling: str = "mean"

    def __post_init__(self) -> None:
        self.vocab_size = as_int("transformer", "vocab_size", self.vocab_size, minimum=2)
        self.num_classes = as_int("transformer", "num_classes", self.num_classes, minimum=2)
        self.embed_dim = as_int("transformer", "embed_dim", self.embed_dim)
        self.dropout = check_dropout("transformer", self.dropout)
        self.num_heads = as_int("transformer", "num_heads", self.num_heads)
        self.num_layers = as_int("transformer", "num_layers", self.num_layers)
        self.ff_dim = as_int("transformer", "ff_dim", self.ff_dim)
        self.max_positions = as_int("transformer", "max_positions", self.max_positions)
        self.pooling = check_choice("transformer", "pooling", self.pooling, TRANSFORMER_POOLINGS)
        if self.embed_dim % self.num_heads != 0:
            raise ConfigError(
                f"model 'transformer' needs embed_dim divisible by num_heads, got embed_dim="
                f"{self.embed_dim} and num_heads={self.num_heads}; choose an embed_dim that is "
                f"a multiple of {self.num_heads} or a num_heads that divides {self.embed_dim}"
            )


CONFIGS: dict[str, type] = {
    "boe": BoEConfig,
    "cnn": CNNConfig,
    "lstm": LSTMConfig,
    "transformer": TransformerConfig,
}
# Config fields set from the data, not tuned.
DATA_FIELDS = ("vocab_size", "num_classes", "max_positions")


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


# --- training -------------------------------------------------------------------------------
@dataclass
class TrainConfig:
    """Optimisation hyperparameters. ``epochs`` is the schedule horizon (the maximum fidelity)."""

    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 0.01
    momentum: float = 0.9
    schedule: str = "cosine"
    warmup_fraction: float = 0.05
    label_smoothing: float = 0.0
    grad_clip: float = 1.0
    token_drop: float = 0.0
    padding: str = "bucket"

    def __post_init__(self) -> None:
        checks = [
            (self.optimizer in OPTIMIZERS, f"train.optimizer must be one of {OPTIMIZERS}"),
            (self.schedule in SCHEDULES, f"train.schedule must be one of {SCHEDULES}"),
            (self.padding in PADDINGS, f"train.padding must be one of {PADDINGS}"),
            (self.epochs >= 1, "train.epochs must be at least 1"),
            (self.batch_size >= 1, "train.batch_size must be at least 1"),
            (self.lr > 0, "train.lr must be positive"),
            (0 <= self.warmup_fraction < 1, "train.warmup_fraction must be in [0, 1)"),
            (0 <= self.label_smoothing < 1, "train.label_smoothing must be in [0, 1)"),
            (0 <= self.token_drop < 1, "train.token_drop must be in [0, 1)"),
            (self.grad_clip >= 0, "train.grad_clip must be >= 0 (0 turns clipping off)"),
            (self.weight_decay >= 0, "train.weight_decay must be >= 0"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ConfigError(f"{msg}; fix it in the config (got {asdict(self)})")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(
                f"unknown training hyperparameter(s) {unknown}; valid ones: {sorted(known)}"
            )
        return cls(**raw)
