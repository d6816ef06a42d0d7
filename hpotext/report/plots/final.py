"""Figures of the final stage: learning curves per seed and the test confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hpotext.report.plots.base import save


def learning_curves(curves: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """Train/val loss and val accuracy per epoch, one line per seed, best epoch marked."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for seed, run in curves.groupby("seed"):
        (line,) = ax_loss.plot(run["epoch"], run["train_loss"], "--", alpha=0.7)
        ax_loss.plot(run["epoch"], run["val_loss"], color=line.get_color(), label=f"seed {seed}")
        ax_acc.plot(run["epoch"], run["val_accuracy"], color=line.get_color(), label=f"seed {seed}")
        best = run[run["best"]]
        ax_acc.scatter(best["epoch"], best["val_accuracy"], color=line.get_color(), zorder=3)
    ax_loss.set(xlabel="epoch", ylabel="loss (dashed: train, solid: val)")
    ax_acc.set(xlabel="epoch", ylabel="validation accuracy (dot: chosen epoch)")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    save(fig, path)


def confusion(
    matrix: np.ndarray, classes: Sequence[str], path: str | Path, title: str = ""
) -> None:
    """Confusion matrix with counts and row-normalised shading (rows: true class)."""
    matrix = np.asarray(matrix)
    norm = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.5 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ticks = range(len(classes))
    ax.set_xticks(ticks, classes, rotation=45, ha="right")
    ax.set_yticks(ticks, classes)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    if len(classes) <= 20:
        for i in ticks:
            for j in ticks:
                ax.text(
                    j,
                    i,
                    str(int(matrix[i, j])),
                    ha="center",
                    va="center",
                    color="white" if norm[i, j] > 0.5 else "black",
                    fontsize=8,
                )
    save(fig, path)
