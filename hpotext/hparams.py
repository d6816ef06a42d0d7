"""Hyperparameters of the models and of training as plain dataclasses, with clear errors.

Free of torch on purpose: the search space is checked against these when Snakemake reads the
workflow, and importing torch there would cost every Snakemake run (and every cluster job) seconds.
hpotext.models and hpotext.train build on them.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, fields
from typing import Any

from hpotext.errors import ConfigError

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("cosine", "constant")
PADDINGS = ("bucket", "batch", "fixed")


# --- what each hyperparameter accepts -------------------------------------------------------
@dataclass(frozen=True)
class Limit:
    """The values one setting accepts: one of ``choices``, or a number from ``low`` to ``high``
    (None: unbounded; inclusive unless ``low_open``/``high_open``), a whole one when ``whole``,
    a non-empty list of such numbers when ``many``.

    The dataclasses below check every field against the tables of these (MODEL_LIMITS,
    TRAIN_LIMITS) and the search space checks its ranges, choices and fixed values against the
    same tables when Snakemake reads the workflow, so the two cannot disagree.
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    whole: bool = False
    many: bool = False
    choices: tuple[Any, ...] = ()

    def __str__(self) -> str:
        """In words, to follow 'must be': 'in [0, 1)', '> 0', 'a whole number >= 1', ..."""
        if self.choices:
            if _is_flag(self.choices):
                return "true or false"
            return "one of " + ", ".join(map(str, self.choices))
        low, high = self.low, self.high
        if low is not None and high is not None:
            opened, closed = "(" if self.low_open else "[", ")" if self.high_open else "]"
            text = f"in {opened}{low:g}, {high:g}{closed}"
        elif low is not None:
            text = f"{'>' if self.low_open else '>='} {low:g}"
        elif high is not None:
            text = f"{'<' if self.high_open else '<='} {high:g}"
        else:
            text = "finite"
        if self.many:
            return f"a list of whole numbers {text}" if self.whole else f"a list of numbers {text}"
        return f"a whole number {text}" if self.whole else text

    def parse(self, value: object) -> Any:
        """``value`` as training takes it (128.0 -> 128, 'true' -> True, '3,4' -> (3, 4));
        ValueError when this limit does not allow it."""
        if self.many:
            items = _items(value)
            if not items:
                raise ValueError(value)
            one = dataclasses.replace(self, many=False)
            return tuple(one.parse(item) for item in items)
        if self.choices:
            if _is_flag(self.choices):
                return _flag(value)
            if isinstance(value, str) and value in self.choices:
                return value
            raise ValueError(value)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(value)  # True/False are not numbers
        number = float(value)
        below = self.low is not None and (number < self.low or self.low_open and number == self.low)
        above = self.high is not None and (
            number > self.high or self.high_open and number == self.high
        )
        if not math.isfinite(number) or below or above or self.whole and not number.is_integer():
            raise ValueError(value)
        return int(number) if self.whole else number  # e.g. 128.0 from YAML is the size 128


def _is_flag(choices: tuple[Any, ...]) -> bool:
    return set(choices) == {True, False} and all(isinstance(c, bool) for c in choices)


def _flag(value: object) -> bool:
    """True/False, 0/1 and the strings 'true'/'false'."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(value)


def _items(value: object) -> list[object]:
    """(3, 4), [3, 4], "3,4", "(3, 4)" or a single number as a list of items."""
    if isinstance(value, str):
        return [float(part) for part in value.strip().strip("()[]").split(",")]  # ValueError
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def limit_of(owner: str, name: str) -> Limit:
    """The limit of setting ``name`` of ``owner``: a model family, or 'train' for training."""
    if owner == "train":
        return TRAIN_LIMITS[name]
    return {**DATA_LIMITS, **MODEL_LIMITS[owner]}[name]


def check(owner: str, name: str, value: object) -> Any:
    """``value`` as setting ``name`` of ``owner`` (a model family, or 'train') takes it; a
    ConfigError naming the setting and its limit otherwise."""
    limit = limit_of(owner, name)
    try:
        return limit.parse(value)
    except ValueError:
        pass
    if owner == "train":
        raise ConfigError(f"train.{name} must be {limit}, got {value!r}; fix it in the config")
    fix = "pick one of those" if limit.choices else "set it to such a value"
    raise ConfigError(
        f"model '{owner}' hyperparameter '{name}' must be {limit}, got {value!r}; {fix}"
    )


def _check_fields(owner: str, config: Any) -> None:
    """Check (and convert) every field of a dataclass instance against its limit."""
    for item in fields(config):
        setattr(config, item.name, check(owner, item.name, getattr(config, item.name)))


WHOLE = Limit(1, whole=True)
FRACTION = Limit(0, 1, high_open=True)  # [0, 1): dropout, token_drop, label smoothing, warm-up
# Fields every model config takes from the data, not from the search.
DATA_LIMITS = {
    "vocab_size": Limit(2, whole=True),
    "num_classes": Limit(2, whole=True),
    "max_positions": WHOLE,
}


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
        _check_fields("boe", self)


def parse_kernel_sizes(value: object) -> tuple[int, ...]:
    """Turn (3, 4), [3, 4], "3,4" or a single number into a tuple of kernel widths >= 1."""
    sizes: tuple[int, ...] = check("cnn", "kernel_sizes", value)
    return sizes


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
        _check_fields("cnn", self)


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
        _check_fields("lstm", self)


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
        _check_fields("transformer", self)
        if self.embed_dim % self.num_heads != 0:
            raise ConfigError(
                f"model 'transformer' needs embed_dim divisible by num_heads, got embed_dim="
                f"{self.embed_dim} and num_heads={self.num_heads}; choose an embed_dim that is "
                f"a multiple of {self.num_heads} or a num_heads that divides {self.embed_dim}"
            )


# What each family's hyperparameters accept (its dataclass checks every field against these).
MODEL_LIMITS: dict[str, dict[str, Limit]] = {
    "boe": {
        "embed_dim": WHOLE,
        "dropout": FRACTION,
        "pooling": Limit(choices=BOE_POOLINGS),
        "hidden_dim": Limit(0, whole=True),  # 0: no hidden layer
    },
    "cnn": {
        "embed_dim": WHOLE,
        "dropout": FRACTION,
        "num_filters": WHOLE,
        "kernel_sizes": Limit(1, whole=True, many=True),
    },
    "lstm": {
        "embed_dim": WHOLE,
        "dropout": FRACTION,
        "hidden_dim": WHOLE,
        "num_layers": WHOLE,
        "bidirectional": Limit(choices=(True, False)),
        "pooling": Limit(choices=LSTM_POOLINGS),
    },
    "transformer": {
        "embed_dim": WHOLE,  # and a multiple of num_heads (TransformerConfig checks the pair)
        "dropout": FRACTION,
        "num_heads": WHOLE,
        "num_layers": WHOLE,
        "ff_dim": WHOLE,
        "pooling": Limit(choices=TRANSFORMER_POOLINGS),
    },
}

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
# What each training setting accepts (TrainConfig checks every field against these).
TRAIN_LIMITS: dict[str, Limit] = {
    "epochs": WHOLE,
    "batch_size": WHOLE,
    "optimizer": Limit(choices=OPTIMIZERS),
    "lr": Limit(0, low_open=True),
    "weight_decay": Limit(0),
    "momentum": Limit(0, 1),
    "schedule": Limit(choices=SCHEDULES),
    "warmup_fraction": FRACTION,
    "label_smoothing": FRACTION,
    "grad_clip": Limit(0),  # 0 turns clipping off
    "token_drop": FRACTION,
    "padding": Limit(choices=PADDINGS),
}


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
        _check_fields("train", self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(
                f"unknown training hyperparameter(s) {unknown}; valid ones: {sorted(known)}"
            )
        return cls(**raw)
