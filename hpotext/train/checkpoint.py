"""Checkpoints: one file per epoch with everything an exact continuation needs, written by the
:class:`Checkpoint` callback, and which of them a run keeps."""

from __future__ import annotations

import random
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hpotext.train.callbacks import Callback, TrainState
from hpotext.train.config import TrainConfig
from hpotext.train.records import EpochRecord
from hpotext.train.setup import ModelConfig

KEEP = ("all", "last", "best")  # which epochs' checkpoints a run keeps


def checkpoint_path(directory: str | Path, epoch: int) -> Path:
    return Path(directory) / f"epoch{epoch:03d}.pt"


def checkpoint_model(path: str | Path) -> ModelConfig:
    """The model family and hyperparameters a checkpoint was trained with."""
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    return ModelConfig(str(ckpt["model_name"]), dict(ckpt["model_hparams"]))


def rng_state(gen: torch.Generator) -> dict[str, Any]:
    state = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "batches": gen.get_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any], gen: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    gen.set_state(state["batches"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def prune(directory: Path, keep: str, history: list[EpochRecord]) -> None:
    if keep == "all" or not history:
        return
    wanted = {history[-1].epoch}
    if keep == "best":
        wanted.add(max(history, key=lambda r: (r.val_accuracy, -r.epoch)).epoch)
    for path in directory.glob("epoch*.pt"):
        if int(path.stem[5:]) not in wanted:
            path.unlink(missing_ok=True)


def save_checkpoint(
    directory: Path,
    state: TrainState,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    gen: torch.Generator,
    model_name: str,
    model_hparams: dict[str, Any],
    cfg: TrainConfig,
) -> None:
    """Write epoch ``state.epoch``'s checkpoint (model, optimiser, scheduler, RNG states,
    history) atomically."""
    payload = {
        "model_name": model_name,
        "model_hparams": model_hparams,
        "train_config": asdict(cfg),
        "epoch": state.epoch,
        "step": state.step,
        "history": [asdict(r) for r in state.history],
        "model": state.model.state_dict(),
        "optimizer": state.optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": rng_state(gen),
    }
    path = checkpoint_path(directory, state.epoch)
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


class Checkpoint(Callback):
    """After every epoch, write its checkpoint to ``directory`` and drop the ones ``keep``
    does not keep (all, the last, or the last and the best on validation accuracy)."""

    def __init__(
        self,
        directory: Path,
        keep: str,
        model_name: str,
        model_hparams: dict[str, Any],
        cfg: TrainConfig,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.keep = directory, keep
        self.model_name, self.model_hparams, self.cfg = model_name, model_hparams, cfg

    def on_epoch_end(self, state: TrainState) -> None:
        assert state.scheduler is not None and state.generator is not None
        save_checkpoint(
            self.directory,
            state,
            state.scheduler,
            state.generator,
            self.model_name,
            self.model_hparams,
            self.cfg,
        )
        prune(self.directory, self.keep, state.history)
