"""The training hyperparameters (:class:`TrainConfig`) and what each accepts; free of torch."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from hpotext.errors import ConfigError
from hpotext.limits import FRACTION, WHOLE, Limit, check_fields

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("cosine", "constant")
PADDINGS = ("bucket", "batch", "fixed")
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
        check_fields("train", self, TRAIN_LIMITS)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(
                f"unknown training hyperparameter(s) {unknown}; valid ones: {sorted(known)}"
            )
        return cls(**raw)
