"""Predictions and classification metrics (accuracy, macro-F1, per-class report, confusion)."""

from __future__ import annotations

from collections.abc import Sequence
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


@torch.no_grad()
def predict(
    model: nn.Module,
    seqs: Sequence[Sequence[int]],
    labels: Sequence[int],
    batch_size: int,
    device: torch.device,
) -> Prediction:
    """Evaluate ``model`` on encoded texts; batches keep input order so predictions line up."""
    was_training = model.training
    model.eval()
    loss_sum, preds = 0.0, []
    for batch in batches(seqs, labels, batch_size, shuffle=False, bucket=False):
        batch = batch.to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(batch.tokens, batch.lengths)  # (B, C)
        logits = logits.float()
        loss_sum += float(nn.functional.cross_entropy(logits, batch.labels, reduction="sum"))
        preds.append(logits.argmax(dim=1).cpu())
    model.train(was_training)
    y_true = np.asarray(labels, dtype=np.int64)
    y_pred = torch.cat(preds).numpy() if preds else np.zeros(0, dtype=np.int64)
    return Prediction(
        loss=loss_sum / max(1, len(y_true)),
        accuracy=float((y_true == y_pred).mean()) if len(y_true) else float("nan"),
        macro_f1=macro_f1(y_true, y_pred),
        predicted=y_pred,
        labels=y_true,
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
