"""The search objective: train one suggested config to its fidelity and score it on validation."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from hpotext.io import canonical_json
from hpotext.optimizers.records import Result, Suggestion
from hpotext.space.core import Space
from hpotext.train.callbacks import Callback, TrainState
from hpotext.train.config import TrainConfig
from hpotext.train.inputs import TrainInputs
from hpotext.train.loop import train
from hpotext.train.records import TrainData
from hpotext.train.setup import BatchSizeFor, ModelConfig, training_setup

log = logging.getLogger(__name__)

# on_epoch(suggestion, epoch, validation objective) after every epoch a trial trains
EpochFn = Callable[[Suggestion, int, float], None]


def _epoch_of(checkpoint: Path) -> int:
    return int(checkpoint.stem.removeprefix("epoch"))


class _Report(Callback):
    """Hands every finished epoch of one suggestion to ``on_epoch``."""

    def __init__(self, on_epoch: EpochFn, suggestion: Suggestion) -> None:
        self.on_epoch, self.suggestion = on_epoch, suggestion

    def on_epoch_end(self, state: TrainState) -> None:
        record = state.history[-1]
        self.on_epoch(self.suggestion, record.epoch, 1.0 - record.val_accuracy)


class TrialRunner:
    """Trains a suggestion's config up to ``suggestion.fidelity`` epochs.

    Every trial uses the schedule of the maximum fidelity (``space.fidelity.max`` epochs), so a
    trial continued from its parent's checkpoint ends exactly where an uninterrupted run would.
    A trial interrupted mid-way (its worker was killed) continues from its own last checkpoint.
    ``data`` is the encoded splits, or TrainInputs that encode them as each model family needs.
    The objective is the validation error (1 - accuracy) after the last epoch; any exception is
    recorded as a failed trial instead of stopping the search. ``on_epoch`` is told the
    validation objective after every epoch (the search worker's ``report``).
    """

    def __init__(
        self,
        space: Space,
        data: TrainData | TrainInputs,
        base_train: dict[str, Any],
        seed: int,
        device: torch.device,
        callbacks: tuple[Callback, ...] = (),
        batch_size_for: BatchSizeFor | None = None,
        on_epoch: EpochFn | None = None,
    ) -> None:
        self.space, self.data, self.seed, self.device = space, data, seed, device
        self.on_epoch = on_epoch
        self.base_train = base_train
        self.callbacks = callbacks
        self.batch_size_for = batch_size_for  # for batch_size: auto (64 without one)
        self._batch_cache: dict[str, int] = {}

    def _batch_size(self, model: ModelConfig) -> int:
        """batch_size: auto, probed once per model config."""
        key = canonical_json(model.to_dict())
        if key not in self._batch_cache:
            self._batch_cache[key] = self.batch_size_for(model) if self.batch_size_for else 64
            log.info("batch_size auto -> %d for %s", self._batch_cache[key], model.to_dict())
        return self._batch_cache[key]

    def train_config(self, config: dict[str, Any]) -> tuple[ModelConfig, TrainConfig]:
        return training_setup(self.space, config, self.base_train, self._batch_size)

    def __call__(self, s: Suggestion, parent_ckpt: Path | None, own_dir: Path) -> Result:
        start = _epoch_of(parent_ckpt) if parent_ckpt is not None else 0
        own = sorted(own_dir.glob("epoch*.pt"))
        resume = own[-1] if own else parent_ckpt
        try:
            model, cfg = self.train_config(s.config)
            report = (_Report(self.on_epoch, s),) if self.on_epoch is not None else ()
            run = train(
                model.family,
                model.hparams,
                cfg,
                self.data.for_model(model),
                epochs=s.fidelity,
                seed=self.seed,
                checkpoint_dir=own_dir,
                resume_from=resume,
                keep="last",
                callbacks=(*self.callbacks, *report),
                device=self.device,
            )
        except Exception as err:  # noqa: BLE001 - any trial error is recorded, the search goes on
            log.warning("trial %d failed:\n%s", s.trial_id, traceback.format_exc())
            return Result(
                objective=float("inf"),
                cost=0.0,
                epochs_trained=0,
                status="failed",
                stop_reason=f"{type(err).__name__}: {err}"[:300],
            )
        history = run.history
        done = history[-1].epoch if history else start
        cost = sum(r.seconds for r in history if r.epoch > start)
        if run.diverged or not history:
            return Result(
                objective=float("inf"),
                cost=cost,
                epochs_trained=done - start,
                status="diverged" if run.diverged else "failed",
                stop_reason=run.stop_reason or "no epoch finished",
            )
        last = history[-1]
        return Result(
            objective=1.0 - last.val_accuracy,
            cost=cost,
            epochs_trained=done - start,
            status="stopped" if run.stop_reason else "completed",
            stop_reason=run.stop_reason,
            curve=tuple(1.0 - r.val_accuracy for r in history),
            metrics={
                "accuracy": last.val_accuracy,
                "macro_f1": last.val_macro_f1,
                "loss": last.val_loss,
            },
        )
