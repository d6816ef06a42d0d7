"""Figures of the optimizer selection: anytime regret curves and the critical-difference diagram."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hpotext.report.plots.base import save


def anytime_plot(
    curves_df: pd.DataFrame,
    path: str | Path,
    title: str = "",
    xlabel: str = "simulated epochs",
) -> None:
    """Mean regret over seeds against the replay's cost, one line per optimizer, with its 95 %
    t-interval as a band; the y axis is logarithmic when every mean regret is positive."""
    fig, ax = plt.subplots(figsize=(7, 4))
    means = curves_df["mean"].to_numpy(float)
    log = len(means) > 0 and bool((means > 0).all())
    bottom = float(means.min()) / 2 if log else -np.inf
    for opt, part in curves_df.groupby("optimizer", sort=True):
        label = str(opt)
        if "n_seeds" in part:
            label += f" (n={int(part['n_seeds'].iloc[0])})"
        (line,) = ax.plot(part["cost"], part["mean"], label=label)
        # On a log axis a band reaching zero or below is drawn down to the bottom edge.
        low = np.maximum(part["low"].to_numpy(float), bottom)
        ax.fill_between(part["cost"], low, part["high"].to_numpy(float),
                        color=line.get_color(), alpha=0.2, linewidth=0)  # fmt: skip
    if log:
        ax.set_yscale("log")
        ax.set_ylim(bottom=bottom)
    ax.set(
        xlabel=xlabel,
        ylabel="regret of the incumbent (true error - best)",
        title=title or "anytime regret: mean over seeds, 95 % CI band",
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    save(fig, path)


def _groups(names: list[str], values: list[float], cd: float) -> list[tuple[int, int]]:
    """Maximal runs (i, j) of rank-sorted optimizers whose ranks lie within ``cd``."""
    out: list[tuple[int, int]] = []
    for i in range(len(values)):
        j = max(k for k in range(i, len(values)) if values[k] - values[i] <= cd)
        if j > i and (not out or j > out[-1][1]):
            out.append((i, j))
    return out


def cd_diagram(mean_ranks: dict[str, float], cd: float, path: str | Path, title: str = "") -> None:
    """Critical-difference diagram (Demšar 2006): mean ranks on an axis (1 = best, left), names
    of the better half on the left and the rest on the right, a CD-long bar for scale, and thick
    bars joining optimizers whose mean ranks differ by at most the critical difference."""
    items = sorted(mean_ranks.items(), key=lambda kv: (kv[1], kv[0]))
    names, values = [n for n, _ in items], [float(v) for _, v in items]
    k = len(items)
    hi = max(k, math.ceil(max(values, default=1.0)), 2)
    groups = _groups(names, values, cd) if math.isfinite(cd) else []
    n_left = math.ceil(k / 2)
    rows = max(n_left, k - n_left)
    top = 0.5 + 0.25 * len(groups)  # first name row, below the group bars
    fig, ax = plt.subplots(figsize=(8, 1.4 + 0.3 * (rows + len(groups))))
    margin = 0.45 * (hi - 1) + 0.6
    ax.set_xlim(1 - margin, hi + margin)
    ax.set_ylim(top + 0.45 * (rows - 1) + 0.3, -1.1)
    ax.axis("off")
    ax.plot([1, hi], [0, 0], color="black", linewidth=1)
    for r in range(1, hi + 1):
        ax.plot([r, r], [0, -0.12], color="black", linewidth=1)
        ax.text(r, -0.18, str(r), ha="center", va="bottom", fontsize=9)
    for x in np.arange(1.5, hi, 1.0):
        ax.plot([x, x], [0, -0.06], color="black", linewidth=0.7)
    if math.isfinite(cd):
        ax.plot([1, 1 + cd], [-0.8, -0.8], color="black", linewidth=1.5)
        for x in (1, 1 + cd):
            ax.plot([x, x], [-0.86, -0.74], color="black", linewidth=1.5)
        ax.text(1 + cd / 2, -0.88, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)
    for idx, (name, value) in enumerate(items):
        left = idx < n_left
        row = idx if left else k - 1 - idx
        y = top + 0.45 * row
        edge = 1 - margin * 0.35 if left else hi + margin * 0.35
        ax.plot([value, value, edge], [0, y, y], color="black", linewidth=0.8)
        label = f"{name} ({value:.2f})" if left else f"({value:.2f}) {name}"
        ax.text(edge + (-0.05 if left else 0.05), y, label, ha="right" if left else "left",
                va="center", fontsize=9)  # fmt: skip
    for g, (i, j) in enumerate(groups):
        y = 0.25 + 0.25 * g
        ax.plot([values[i] - 0.03, values[j] + 0.03], [y, y], color="black", linewidth=3.5)
    ax.set_title(title or "mean rank (1 = best); bars join optimizers not significantly different")
    save(fig, path)
