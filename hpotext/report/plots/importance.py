"""Figures of the importance analysis: importance bars and marginal curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hpotext.report.marginals import Marginal
from hpotext.report.plots.base import save


def importance_bars(frame: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """fANOVA main effects and the strongest interactions (fraction of variance, error bar:
    spread over trees), one panel per scope and backend."""
    fan = frame[frame.method == "fanova"]
    panels = list(dict.fromkeys(zip(fan.scope, fan.backend, strict=True)))
    if not panels:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.text(0.5, 0.5, "too few trials for an importance analysis", ha="center")
        ax.axis("off")
        save(fig, path)
        return
    height = max(len(fan[(fan.scope == s) & (fan.backend == b)]) for s, b in panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 0.35 * height + 1.8),
                             squeeze=False)  # fmt: skip
    for ax, (scope, backend) in zip(axes[0], panels, strict=True):
        part = fan[(fan.scope == scope) & (fan.backend == backend)].sort_values("importance")
        labels = [" x ".join(p) for p in part["params"]]
        colors = ["tab:blue" if len(p) == 1 else "tab:orange" for p in part["params"]]
        ax.barh(labels, part["importance"], xerr=part["std"], color=colors, alpha=0.85,
                error_kw={"alpha": 0.4})  # fmt: skip
        n, fid = int(part["n_configs"].iloc[0]), int(part["fidelity"].iloc[0])
        ax.set(xlabel="fraction of variance", xlim=(0, None),
               title=f"{scope} ({backend}; {n} configs at {fid} ep)")  # fmt: skip
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title or "fANOVA: main effects (blue) and interactions (orange)")
    save(fig, path)


def marginal_plots(items: list[Marginal], path: str | Path, title: str = "") -> None:
    """Predicted validation accuracy over each top hyperparameter's range (random-forest partial
    dependence over the configs; band: spread over trees), with the configs seen as dots."""
    fig, axes = plt.subplots(1, max(1, len(items)), figsize=(4.2 * max(1, len(items)), 3.6),
                             squeeze=False)  # fmt: skip
    for ax, m in zip(axes[0], items, strict=False):
        mean, std = 1.0 - np.asarray(m.mean), np.asarray(m.std)
        if not m.categorical:
            ax.plot(m.grid, mean, color="tab:blue")
            ax.fill_between(m.grid, mean - std, mean + std, color="tab:blue", alpha=0.2)
            ax.scatter(m.observed, 1.0 - np.asarray(m.values), s=10, color="grey", alpha=0.6)
            if m.log:
                ax.set_xscale("log")
        else:  # categorical: one point per choice
            xs = np.arange(len(m.grid))
            ax.errorbar(xs, mean, yerr=std, fmt="o", color="tab:blue", capsize=3)
            pos = {g: i for i, g in enumerate(m.grid)}
            jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(m.observed))
            ax.scatter([pos[v] + j for v, j in zip(m.observed, jitter, strict=True)],
                       1.0 - np.asarray(m.values), s=10, color="grey", alpha=0.6)  # fmt: skip
            ax.set_xticks(xs, [str(g) for g in m.grid])
        ax.set(xlabel=m.param, ylabel="validation accuracy")
        ax.grid(alpha=0.3)
    fig.suptitle(title or "marginals of the most important hyperparameters")
    save(fig, path)
