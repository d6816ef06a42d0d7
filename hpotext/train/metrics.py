"""Predictions and classification metrics (accuracy, macro-F1, per-class report, confusion)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import classification_report, confusion_matrix, f1_score
from torch import nn

from hpotext.train.batches import batches


@dataclass
class Prediction:
    loss: float
    accuracy: float
    macro_f1: float
    predicted: np.ndarray  # (N,) class indices, in input order
    labels: np.ndarray  # (N,)
    probs: np.ndarray  # (N, C) class probabilities (softmax of the logits)


@torch.no_grad()
def logits_of(
    model: nn.Module,
    seqs: Sequence[Sequence[int]],
    batch_size: int,
    device: torch.device,
    progress: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """The model's logits (N, C; float32 on the CPU) for encoded texts, in input order;
    ``progress`` is called with the number of texts done after each batch."""
    was_training = model.training
    model.eval()
    out, done = [], 0
    for batch in batches(seqs, [0] * len(seqs), batch_size, shuffle=False, bucket=False):
        batch = batch.to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(batch.tokens, batch.lengths)  # (B, C)
        out.append(logits.float().cpu())
        done += len(batch.lengths)
        if progress is not None:
            progress(done)
    model.train(was_training)
    return torch.cat(out) if out else torch.zeros(0, 0)


def predict(
    model: nn.Module,
    seqs: Sequence[Sequence[int]],
    labels: Sequence[int],
    batch_size: int,
    device: torch.device,
) -> Prediction:
    """Evaluate ``model`` on encoded texts; batches keep input order so predictions line up."""
    logits = logits_of(model, seqs, batch_size, device)
    y_true = np.asarray(labels, dtype=np.int64)
    if not len(y_true):
        empty = np.zeros(0, dtype=np.int64)
        return Prediction(
            0.0, float("nan"), macro_f1(empty, empty), empty, y_true, np.zeros((0, 0))
        )
    target = torch.as_tensor(y_true)
    loss = float(nn.functional.cross_entropy(logits, target, reduction="sum")) / len(y_true)
    y_pred = logits.argmax(dim=1).numpy()
    return Prediction(
        loss=loss,
        accuracy=float((y_true == y_pred).mean()),
        macro_f1=macro_f1(y_true, y_pred),
        predicted=y_pred,
        labels=y_true,
        probs=torch.softmax(logits, dim=1).numpy(),
    )


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def report(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str]) -> dict[str, object]:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix."""
    idx = list(range(len(classes)))
    per_class = classification_report(
        y_true, y_pred, labels=idx, target_names=list(classes), output_dict=True, zero_division=0
    )
    return {
        "accuracy": float((y_true == y_pred).mean()),
        "macro_f1": macro_f1(y_true, y_pred),
        "per_class": {c: per_class[c] for c in classes},
        "confusion": confusion_matrix(y_true, y_pred, labels=idx).tolist(),
        "classes": list(classes),
    }
