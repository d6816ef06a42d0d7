"""Training callbacks: the state a callback sees and may stop, and progress logging."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from hpotext.train.records import EpochRecord


@dataclass
class TrainState:
    """What callbacks see; a callback stops training with ``request_stop``."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    max_epochs: int = 0  # the schedule's horizon (train.epochs, the maximum fidelity)
    target_epoch: int = 0  # the epoch this call trains to
    epoch: int = 0
    step: int = 0
    loss: float = float("nan")
    history: list[EpochRecord] = field(default_factory=list)
    stop_reason: str | None = None
    scheduler: Any = None  # the learning-rate scheduler (for checkpoints)
    generator: torch.Generator | None = None  # the batch order's RNG (for checkpoints)

    def request_stop(self, reason: str) -> None:
        self.stop_reason = self.stop_reason or reason


class Callback:
    """Hooks into the training loop; subclasses override what they need."""

    def on_train_begin(self, state: TrainState) -> None:
        """Before the first step of this call (after a resumed checkpoint is loaded)."""

    def on_train_end(self, state: TrainState) -> None:
        """After the last epoch of this call, however it ended."""

    def on_step_end(self, state: TrainState) -> None:
        """After every optimiser step (``state.loss`` holds the step's training loss)."""

    def on_epoch_end(self, state: TrainState) -> None:
        """After validation (``state.history[-1]`` is the new record) and, when the run
        keeps checkpoints, after the epoch's checkpoint was written."""


class LogProgress(Callback):
    """Log one line per finished epoch."""

    def __init__(self, logger: logging.Logger, prefix: str = "") -> None:
        self.logger, self.prefix = logger, prefix

    def on_epoch_end(self, state: TrainState) -> None:
        r = state.history[-1]
        self.logger.info(
            "%sepoch %d: train loss %.4f, val loss %.4f, val acc %.4f, val macro-F1 %.4f, %.1f s",
            self.prefix,
            r.epoch,
            r.train_loss,
            r.val_loss,
            r.val_accuracy,
            r.val_macro_f1,
            r.seconds,
        )
