"""One function per workflow step; scripts/ call these with keyword arguments."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split

from hpotext import data as data_mod
from hpotext import models
from hpotext.errors import ConfigError
from hpotext.evaluate import predict, report
from hpotext.io import read_json, write_json, write_parquet
from hpotext.tables import TableSpec, read_table
from hpotext.text import Vocab, unknown_warning
from hpotext.train import (
    LogProgress,
    TrainConfig,
    TrainData,
    default_device,
    load_model,
    train,
)

log = logging.getLogger(__name__)


def sample_rows(df: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """A stratified sample of ``n`` rows (all rows when n is 0 or at least the table size)."""
    if n <= 0 or n >= len(df):
        return df
    counts = df["label"].value_counts()
    if len(counts) * 2 > n:
        raise ConfigError(
            f"data.max_rows={n} is too small for {len(counts)} classes; raise it to at least "
            f"{2 * len(counts)} or set it to 0"
        )
    strat = df["label"] if counts.min() >= 2 else None
    sample, _ = train_test_split(df, train_size=n, stratify=strat, random_state=seed)
    return sample.reset_index(drop=True)


def prepare(
    source: str,
    name: str,
    out_dir: str,
    data_cfg: dict[str, Any],
    text_cfg: dict[str, Any],
) -> data_mod.DatasetInfo:
    """Read and validate the dataset, split it stratified, and build the vocabulary from train."""
    spec = TableSpec(
        path=source,
        text_column=data_cfg["text_column"],
        label_column=data_cfg["label_column"],
        split_column=data_cfg["split_column"] or None,
        encoding=data_cfg["encoding"],
        format=data_cfg["format"],
        delimiter=data_cfg["delimiter"],
    )
    table = read_table(spec)
    table = sample_rows(table, data_cfg["max_rows"], data_cfg["split_seed"])
    info = data_mod.prepare_dataset(
        table,
        name=name,
        out_dir=out_dir,
        val_fraction=data_cfg["val_fraction"],
        test_fraction=data_cfg["test_fraction"],
        seed=data_cfg["split_seed"],
        max_dropped_fraction=data_cfg["max_dropped_fraction"],
        max_chars=data_cfg["max_chars"],
    )
    train_df = data_mod.load_split(Path(out_dir) / "train.parquet")
    vocab = Vocab.build(
        train_df["text"], text_cfg["min_freq"], text_cfg["max_size"], text_cfg["lowercase"]
    )
    vocab.save(Path(out_dir) / "vocab.json")
    val_texts = data_mod.load_split(Path(out_dir) / "val.parquet")["text"]
    unknown = unknown_warning(vocab, val_texts, text_cfg["min_freq"], text_cfg["max_size"])
    if unknown is not None:
        log.warning("%s: %s", name, unknown)
        info.warnings.append(unknown)
        info.to_json(Path(out_dir) / "dataset.json")
    log.info(
        "%s: %d rows, %d classes, splits %s, vocabulary %d, dropped %s",
        name,
        info.rows,
        len(info.classes),
        info.split_sizes,
        len(vocab),
        asdict(info.dropped),
    )
    return info


def subset(train_path: str, out_path: str, fraction: float, seed: int) -> None:
    """The stratified search subset of the train split."""
    part = data_mod.search_subset(data_mod.load_split(train_path), fraction, seed)
    write_parquet(part, out_path)
    log.info("search subset: %d rows (%.0f %% of train)", len(part), 100 * fraction)


def encode_split(
    path: str, vocab: Vocab, classes: list[str], max_len: int
) -> tuple[list[list[int]], list[int]]:
    df = data_mod.load_split(path)
    index = {c: i for i, c in enumerate(classes)}
    return vocab.encode_all(df["text"], max_len), [index[str(y)] for y in df["label"]]


def load_train_data(
    train_path: str, val_path: str, vocab_path: str, info_path: str, max_len: int
) -> TrainData:
    vocab = Vocab.load(vocab_path)
    classes = data_mod.DatasetInfo.from_json(info_path).classes
    train_ids, train_y = encode_split(train_path, vocab, classes, max_len)
    val_ids, val_y = encode_split(val_path, vocab, classes, max_len)
    return TrainData(train_ids, train_y, val_ids, val_y, len(vocab), len(classes), max_len)


def split_model_config(model_cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(family, its hyperparameters) from the config's ``model`` section."""
    name = str(model_cfg["name"])
    return name, dict(model_cfg.get(name) or {})


def find_batch_size(
    model_name: str, hparams: dict[str, Any], data: TrainData, device: torch.device, cap: int = 4096
) -> int:
    """Largest power of two whose full-width training step fits on a CUDA device (64 on CPU)."""
    if device.type != "cuda":
        return 64
    model = models.build_model(
        model_name, data.vocab_size, data.num_classes, data.max_len, **hparams
    )
    model = model.to(device)
    best, size = 0, 8
    while size <= cap:
        try:
            tokens = torch.randint(1, data.vocab_size, (size, data.max_len), device=device)
            lengths = torch.full((size,), data.max_len, dtype=torch.long, device=device)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                model(tokens, lengths).float().sum().backward()
            best, size = size, size * 2
        except torch.OutOfMemoryError:
            break
        finally:
            model.zero_grad(set_to_none=True)
            torch.cuda.empty_cache()
    return max(best, 8)


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


def train_config(
    train_path: str,
    val_path: str,
    vocab_path: str,
    info_path: str,
    model_cfg: dict[str, Any],
    train_cfg: dict[str, Any],
    max_len: int,
    seed: int,
    model_out: str,
    curve_out: str,
    work_dir: str,
) -> None:
    """Train one config to its full epochs, keeping the best epoch on validation as model.pt.

    Checkpoints go to ``work_dir``; an interrupted run of the same config and seed continues
    from its last finished epoch. The folder is removed once model.pt is written.
    """
    data = load_train_data(train_path, val_path, vocab_path, info_path, max_len)
    name, hparams = split_model_config(model_cfg)
    device = default_device()
    raw = dict(train_cfg)
    if raw["batch_size"] == "auto":
        raw["batch_size"] = find_batch_size(name, hparams, data, device)
        log.info("batch_size auto -> %d on %s", raw["batch_size"], device)
    cfg = TrainConfig.from_dict(raw)
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    identity = {"model": model_cfg, "train": asdict(cfg), "seed": seed, "max_len": max_len}
    resume = _resume_point(work, identity)
    if resume is not None:
        log.info("continuing from %s", resume)
    result = train(
        name,
        hparams,
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
            f"training diverged ({result.stop_reason}) for config {model_cfg} / {asdict(cfg)}; "
            "lower train.lr or raise train.grad_clip"
        )
    best = result.best()
    curve = pd.DataFrame([asdict(r) for r in result.history])
    curve["best"] = curve["epoch"] == best.epoch
    curve["seed"] = seed
    write_parquet(curve, curve_out)
    shutil.copyfile(work / f"epoch{best.epoch:03d}.pt", model_out)
    shutil.rmtree(work)
    log.info("best epoch %d: val accuracy %.4f", best.epoch, best.val_accuracy)


def evaluate(
    model_path: str,
    test_path: str,
    vocab_path: str,
    info_path: str,
    max_len: int,
    out_path: str,
) -> dict[str, Any]:
    """Test-split accuracy, macro-F1, per-class report and confusion matrix of a trained model."""
    vocab = Vocab.load(vocab_path)
    classes = data_mod.DatasetInfo.from_json(info_path).classes
    ids, labels = encode_split(test_path, vocab, classes, max_len)
    device = default_device()
    model, epoch = load_model(model_path, len(vocab), len(classes), max_len, device)
    pred = predict(model, ids, labels, 256, device)
    metrics = report(pred.labels, pred.predicted, classes)
    metrics["epoch"] = epoch
    write_json(metrics, out_path)
    log.info("test accuracy %.4f, macro-F1 %.4f", metrics["accuracy"], metrics["macro_f1"])
    return metrics


def default_figures(
    curve_paths: list[str],
    metric_paths: list[str],
    curves_out: str,
    confusion_out: str,
    label: str = "default config",
) -> None:
    """Learning curves of every seed; the confusion matrix summed over seeds."""
    from hpotext import plots

    curves = pd.concat([pd.read_parquet(p) for p in curve_paths], ignore_index=True)
    plots.learning_curves(curves, curves_out, title=f"{label}: learning curves per seed")
    runs = [read_json(p) for p in metric_paths]
    total = np.sum([np.asarray(r["confusion"]) for r in runs], axis=0)
    plots.confusion(
        total,
        runs[0]["classes"],
        confusion_out,
        title=f"{label}: test confusion, summed over {len(runs)} seeds",
    )
