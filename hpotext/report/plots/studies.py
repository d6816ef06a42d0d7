"""The figure of a playbook study: every arm's tuned test score against seed noise."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hpotext.report.plots.base import save


def arm_comparison(
    scores: pd.DataFrame, result: dict, path: str | Path, ylabel: str = "test accuracy"
) -> None:
    """A playbook study's arms: every seed's score (dots), the mean and its t-interval."""
    arms = list(result["arms"])
    fig, ax = plt.subplots(figsize=(max(5.0, 1.4 * len(arms) + 2), 4))
    for i, arm in enumerate(arms):
        row = result["arms"][arm]
        part = scores[scores.arm == arm]
        ax.scatter([i] * len(part), part["value"], color="grey", s=16, zorder=2)
        low, high = row["ci"]
        if np.isfinite(low):
            ax.errorbar([i], [row["mean"]], yerr=[[row["mean"] - low], [high - row["mean"]]],
                        fmt="o", color="tab:blue", capsize=5, zorder=3)  # fmt: skip
        else:
            ax.scatter([i], [row["mean"]], color="tab:blue", zorder=3)
    ax.set_xticks(range(len(arms)), arms, rotation=20, ha="right")
    ax.set(ylabel=ylabel, title=f"arms: mean and {int(100 * result['confidence'])} % CI over seeds")
    ax.grid(axis="y", alpha=0.3)
    save(fig, path)
