"""Every figure: one function each, matplotlib (Agg), PNG out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def _save(fig: plt.Figure, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


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
    _save(fig, path)


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
    _save(fig, path)


def benchmark_bars(
    table: pd.DataFrame,
    group: str,
    variant: str,
    value: str,
    ylabel: str,
    path: str | Path,
    title: str = "",
) -> None:
    """Grouped bars: one group per ``group`` value, one bar per ``variant``."""
    groups = list(dict.fromkeys(table[group]))
    variants = list(dict.fromkeys(table[variant]))
    width = 0.8 / len(variants)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(groups)), 4))
    for k, name in enumerate(variants):
        part = table[table[variant] == name].set_index(group).reindex(groups)
        ax.bar(np.arange(len(groups)) + k * width, part[value], width, label=name)
    ax.set_xticks(np.arange(len(groups)) + width * (len(variants) - 1) / 2, groups)
    ax.set(ylabel=ylabel, title=title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def search_trace(trials: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """Validation accuracy of every finished trial against cumulative epochs, coloured by
    fidelity, with the incumbent (best at the highest fidelity so far) as a step line."""
    done = trials[trials["status"] != "pending"].sort_values("finished_at").copy()
    done["spent"] = done["epochs_trained"].cumsum()
    done["accuracy"] = 1.0 - done["objective"].astype(float)
    fig, ax = plt.subplots(figsize=(7, 4))
    ok = done[done["accuracy"].notna()]
    points = ax.scatter(ok["spent"], ok["accuracy"], c=ok["fidelity"], cmap="viridis", s=18)
    fig.colorbar(points, ax=ax, label="fidelity (epochs)")
    best_x, best_y, top, best = [], [], 0, float("nan")
    for spent, fid, acc in zip(ok["spent"], ok["fidelity"], ok["accuracy"], strict=True):
        if fid > top or (fid == top and acc > best):
            top, best = fid, acc
        best_x.append(spent)
        best_y.append(best)
    ax.step(best_x, best_y, where="post", color="black", label="incumbent")
    failed = done[done["accuracy"].isna()]
    if len(failed):
        ax.scatter(
            failed["spent"],
            [ax.get_ylim()[0]] * len(failed),
            marker="x",
            color="red",
            label="failed / diverged",
        )
    ax.set(xlabel="epochs spent by the search", ylabel="validation accuracy", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)
