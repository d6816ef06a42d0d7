"""The training loop: epochs are the fidelity, a checkpoint after every epoch, exact continuation.

The trainer knows nothing about optimizers: checkpoints, diagnosis, early stopping and progress
reporting plug in as callbacks that see a ``TrainState`` at the end of every step and epoch.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hpotext import models
from hpotext.errors import ConfigError
from hpotext.train.batches import Batch, batches, drop_tokens
from hpotext.train.callbacks import Callback, TrainState
from hpotext.train.checkpoint import KEEP, Checkpoint, set_rng_state
from hpotext.train.config import TrainConfig
from hpotext.train.metrics import predict
from hpotext.train.records import EpochRecord, TrainData, TrainResult


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _lr_lambda(cfg: TrainConfig, steps_per_epoch: int) -> Any:
    total = max(1, cfg.epochs * steps_per_epoch)
    warmup = int(cfg.warmup_fraction * total)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if cfg.schedule == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


# Fused optimizer kernels (one pass over each parameter instead of a dozen tensor ops): on CPU an
# epoch is up to 3.3x faster, most for bag of embeddings, whose step is mostly the optimizer's
# update of the embedding table (benchmarks/results/fused_optimizer.md); False = torch's default.
FUSED = True


def _fusable(model: nn.Module) -> bool:
    params = model.parameters()
    return all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)


def _make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """SGD or AdamW over the model's own parameter groups when it has them (the encoder's
    layer-wise learning rates), else over all its parameters; fused kernels when ``FUSED`` and
    every parameter allows them (same updates as the default to float rounding)."""
    groups = getattr(model, "parameter_groups", None)
    params: Any = groups(cfg.lr, cfg.weight_decay) if groups else model.parameters()
    fused = True if FUSED and _fusable(model) else None
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=cfg.lr,
            momentum=cfg.momentum,
            weight_decay=cfg.weight_decay,
            nesterov=cfg.momentum > 0,
            fused=fused,
        )
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def train(
    model_name: str,
    model_hparams: dict[str, Any],
    cfg: TrainConfig,
    data: TrainData,
    *,
    epochs: int,
    seed: int,
    checkpoint_dir: str | Path | None = None,
    resume_from: str | Path | None = None,
    keep: str = "all",
    callbacks: Sequence[Callback] = (),
    device: torch.device | None = None,
) -> TrainResult:
    """Train until epoch ``epochs`` (<= cfg.epochs), optionally continuing from a checkpoint.

    A checkpoint (model, optimiser, scheduler, RNG states, history) is written after every epoch,
    so ``train(..., epochs=e2, resume_from=<epoch e1 checkpoint>)`` trains only epochs e1+1..e2
    and, on CPU, ends with the same weights as an uninterrupted run to e2.
    """
    if not 1 <= epochs <= cfg.epochs:
        raise ConfigError(
            f"epochs to train must be in [1, {cfg.epochs}] (train.epochs), got {epochs}"
        )
    if keep not in KEEP:
        raise ConfigError(f"checkpoint keep policy must be one of {KEEP}, got {keep!r}")
    device = device or default_device()
    seed_everything(seed)
    model = build(model_name, model_hparams, data, device)
    optimizer = _make_optimizer(cfg, model)
    steps_per_epoch = math.ceil(len(data.train_ids) / cfg.batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(cfg, steps_per_epoch))
    gen = torch.Generator().manual_seed(seed + 1)
    state = TrainState(
        model=model,
        optimizer=optimizer,
        max_epochs=cfg.epochs,
        target_epoch=epochs,
        scheduler=scheduler,
        generator=gen,
    )

    if resume_from is not None:
        # RNG states must stay CPU tensors; load_state_dict moves weights to the model's device
        ckpt = torch.load(resume_from, map_location="cpu", weights_only=False)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        set_rng_state(ckpt["rng"], gen)
        state.epoch, state.step = ckpt["epoch"], ckpt["step"]
        state.history = [EpochRecord(**r) for r in ckpt["history"]]
        if state.epoch > epochs:
            raise ConfigError(
                f"checkpoint {resume_from} is at epoch {state.epoch}, past the {epochs} asked for"
            )

    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if ckpt_dir is not None:  # the first callback: the others see the epoch's checkpoint
        callbacks = [Checkpoint(ckpt_dir, keep, model_name, model_hparams, cfg), *callbacks]
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    use_bf16 = device.type == "cuda"
    start, first_epoch, diverged = time.perf_counter(), state.epoch, False
    for cb in callbacks:
        cb.on_train_begin(state)

    while state.epoch < epochs and state.stop_reason is None:
        t0 = time.perf_counter()
        model.train()
        total, count = 0.0, 0
        for batch in batches(
            data.train_ids,
            data.train_labels,
            cfg.batch_size,
            shuffle=True,
            generator=gen,
            bucket=cfg.padding == "bucket",
            pad_to=data.max_len if cfg.padding == "fixed" else None,
        ):
            batch = drop_tokens(batch, cfg.token_drop, gen).to(device)
            loss = _step(model, batch, loss_fn, optimizer, cfg.grad_clip, use_bf16)
            scheduler.step()
            state.step += 1
            state.loss = loss
            if not math.isfinite(loss):
                diverged = True
                state.request_stop("diverged: non-finite training loss")
                break
            total, count = total + loss * len(batch.labels), count + len(batch.labels)
            for cb in callbacks:
                cb.on_step_end(state)
            if state.stop_reason is not None:
                break
        if state.stop_reason is not None:  # stopped mid-epoch: the partial epoch is not recorded
            break
        state.epoch += 1
        val = predict(model, data.val_ids, data.val_labels, cfg.batch_size, device)
        state.history.append(
            EpochRecord(
                epoch=state.epoch,
                train_loss=total / max(1, count),
                val_loss=val.loss,
                val_accuracy=val.accuracy,
                val_macro_f1=val.macro_f1,
                lr=float(scheduler.get_last_lr()[0]),
                seconds=time.perf_counter() - t0,
            )
        )
        for cb in callbacks:
            cb.on_epoch_end(state)
    for cb in callbacks:
        cb.on_train_end(state)

    return TrainResult(
        history=state.history,
        epochs_trained=state.epoch - first_epoch,
        stop_reason=state.stop_reason,
        diverged=diverged,
        seconds=time.perf_counter() - start,
        checkpoint_dir=ckpt_dir,
    )


def _step(
    model: nn.Module,
    batch: Batch,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    grad_clip: float,
    use_bf16: bool,
) -> float:
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_bf16):
        logits = model(batch.tokens, batch.lengths)  # (B, C)
    loss = loss_fn(logits.float(), batch.labels)
    loss.backward()
    if grad_clip > 0:
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return float(loss.detach())


def build(
    model_name: str, model_hparams: dict[str, Any], data: TrainData, device: torch.device
) -> nn.Module:
    """The model for ``data`` on ``device``, reading the data's cached features if it has them."""
    model = models.build_model(
        model_name,
        data.vocab_size,
        data.num_classes,
        data.max_len,
        pretrained=data.pretrained,
        **model_hparams,
    ).to(device)
    if data.features is not None:
        model.attach_features(data.features)  # type: ignore[operator]
    if model_hparams.get("embed_init") == "pretrained":
        if data.vectors is None:
            raise ConfigError(
                f"model {model_name!r} has embed_init: pretrained but the study has no word "
                "vectors; run it through the workflow (rule vectors) or set embed_init: random"
            )
        from hpotext.models.vectors import init_embeddings

        init_embeddings(model, data.vectors)
    return model


def load_model(
    checkpoint: str | Path,
    data_vocab_size: int,
    num_classes: int,
    max_len: int,
    device: torch.device | None = None,
    pretrained: str | None = None,
) -> tuple[nn.Module, int]:
    """Rebuild the model stored in a checkpoint, in eval mode, and the epoch it was saved at."""
    device = device or default_device()
    ckpt = torch.load(checkpoint, map_location=device, weights_only=False)
    model = models.build_model(
        ckpt["model_name"],
        data_vocab_size,
        num_classes,
        max_len,
        pretrained=pretrained,
        **ckpt["model_hparams"],
    ).to(device)
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, int(ckpt["epoch"])
