"""Figures of the summary: compute per stage and benchmark bars."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hpotext.report.plots.base import save


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
    save(fig, path)


def stage_compute(seconds: dict[str, float], path: str | Path, title: str = "") -> None:
    """Compute per workflow stage: summed wall seconds of its jobs (from benchmark files)."""
    names = sorted(seconds, key=lambda k: seconds[k])
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1.5))
    ax.barh(names, [seconds[n] / 60 for n in names], color="tab:blue")
    for i, n in enumerate(names):
        ax.text(seconds[n] / 60, i, f" {seconds[n]:.0f} s", va="center", fontsize=8)
    ax.set(xlabel="minutes (summed over the stage's jobs)", title=title)
    ax.grid(axis="x", alpha=0.3)
    save(fig, path)
