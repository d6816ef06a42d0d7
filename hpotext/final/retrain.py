"""Retraining one config to its full epochs over a seed, continued after a kill."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from hpotext.errors import ConfigError
from hpotext.io import write_parquet
from hpotext.train.callbacks import LogProgress
from hpotext.train.config import TrainConfig
from hpotext.train.loop import train
from hpotext.train.records import TrainData
from hpotext.train.setup import ModelConfig

log = logging.getLogger(__name__)


def _resume_point(work_dir: Path, identity: dict[str, Any]) -> Path | None:
    """The latest checkpoint of an interrupted run of the same config and seed, if any."""
    marker = work_dir / "run.json"
    if not marker.exists() or json.loads(marker.read_text()) != identity:
        shutil.rmtree(work_dir, ignore_errors=True)
        work_dir.mkdir(parents=True)
        marker.write_text(json.dumps(identity))
        return None
    ckpts = sorted(work_dir.glob("epoch*.pt"))
    return ckpts[-1] if ckpts else None


def train_to_full(
    data: TrainData,
    model: ModelConfig,
    cfg: TrainConfig,
    seed: int,
    model_out: str,
    curve_out: str,
    work_dir: str,
    device: torch.device,
) -> None:
    """Train one config to ``cfg.epochs``, keeping the best epoch on validation as model.pt.

    Checkpoints go to ``work_dir``; an interrupted run of the same config and seed continues
    from its last finished epoch. The folder is removed once model.pt is written.
    """
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    identity = {
        "model": model.to_dict(),
        "train": asdict(cfg),
        "seed": seed,
        "max_len": data.max_len,
    }
    resume = _resume_point(work, identity)
    if resume is not None:
        log.info("continuing from %s", resume)
    result = train(
        model.family,
        model.hparams,
        cfg,
        data,
        epochs=cfg.epochs,
        seed=seed,
        checkpoint_dir=work,
        resume_from=resume,
        keep="best",
        callbacks=[LogProgress(log, f"seed {seed} ")],
        device=device,
    )
    if result.diverged:
        raise ConfigError(
            f"training diverged ({result.stop_reason}) for config {model.to_dict()} / "
            f"{asdict(cfg)}; lower train.lr or raise train.grad_clip"
        )
    best = result.best()
    curve = pd.DataFrame([asdict(r) for r in result.history])
    curve["best"] = curve["epoch"] == best.epoch
    curve["seed"] = seed
    write_parquet(curve, curve_out)
    shutil.copyfile(work / f"epoch{best.epoch:03d}.pt", model_out)
    shutil.rmtree(work)
    log.info("best epoch %d: val accuracy %.4f", best.epoch, best.val_accuracy)
