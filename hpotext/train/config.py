"""The training hyperparameters (:class:`TrainConfig`) and what each accepts; free of torch.

Defaults and bounds are the ``train`` section's of config/schema.yaml (hpotext.schema); only
``epochs``, the schedule's horizon, is not a config key (it is the space's maximum fidelity).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from hpotext.errors import ConfigError
from hpotext.limits import WHOLE, Limit, check_fields
from hpotext.schema import default, limit, section

# What each training setting accepts (TrainConfig checks every field against these).
TRAIN_LIMITS: dict[str, Limit] = {
    "epochs": WHOLE,
    **{name: limit(f"train.{name}") for name in section("train")["properties"]},
}
OPTIMIZERS = TRAIN_LIMITS["optimizer"].choices
SCHEDULES = TRAIN_LIMITS["schedule"].choices
PADDINGS = TRAIN_LIMITS["padding"].choices


@dataclass
class TrainConfig:
    """Optimisation hyperparameters. ``epochs`` is the schedule horizon (the maximum fidelity)."""

    epochs: int = 10
    batch_size: int = default("train.batch_size")
    optimizer: str = default("train.optimizer")
    lr: float = default("train.lr")
    weight_decay: float = default("train.weight_decay")
    momentum: float = default("train.momentum")
    schedule: str = default("train.schedule")
    warmup_fraction: float = default("train.warmup_fraction")
    label_smoothing: float = default("train.label_smoothing")
    grad_clip: float = default("train.grad_clip")
    token_drop: float = default("train.token_drop")
    padding: str = default("train.padding")

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
