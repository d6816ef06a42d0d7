"""Figures of the search: its trace, every trial's learning curve and the boundary check."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hpotext.report.plots.base import save

STATUS_MARKERS = {"completed": "o", "stopped": "v", "failed": "x", "diverged": "x"}


def search_trace(trials: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """Validation accuracy of every finished trial against the search's cumulative training
    seconds, coloured by fidelity, marker by status, with the incumbent (best at the highest
    fidelity so far) as a step line."""
    done = trials[trials["status"] != "pending"].sort_values("finished_at").copy()
    done["spent"] = done["cost_seconds"].fillna(0.0).cumsum()
    done["accuracy"] = 1.0 - done["objective"].astype(float)
    ok = done[np.isfinite(done["accuracy"])]
    fig, ax = plt.subplots(figsize=(7, 4))
    norm = plt.Normalize(done["fidelity"].min(), done["fidelity"].max())
    for status, part in ok.groupby("status"):
        points = ax.scatter(part["spent"], part["accuracy"], c=part["fidelity"], cmap="viridis",
                            norm=norm, s=20, marker=STATUS_MARKERS.get(str(status), "o"),
                            label=str(status))  # fmt: skip
    if len(ok):
        fig.colorbar(points, ax=ax, label="fidelity (epochs)")
    best_x, best_y, top, best = [], [], 0, float("nan")
    for spent, fid, acc in zip(ok["spent"], ok["fidelity"], ok["accuracy"], strict=True):
        if fid > top or (fid == top and acc > best):
            top, best = fid, acc
        best_x.append(spent)
        best_y.append(best)
    ax.step(best_x, best_y, where="post", color="black", label="incumbent")
    failed = done[~np.isfinite(done["accuracy"])]
    if len(failed):
        ax.scatter(failed["spent"], [ax.get_ylim()[0]] * len(failed), marker="x", color="red",
                   label="failed / diverged")  # fmt: skip
    ax.set(xlabel="training seconds spent by the search", ylabel="validation accuracy",
           title=title)  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, path)


def trial_curves(trials: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """Validation accuracy per epoch of every trial (the playbook's first diagnostic), one
    panel per status; the incumbent's curve in black."""
    done = trials[trials["status"] != "pending"]
    statuses = [s for s in ("completed", "stopped", "failed", "diverged") if s in set(done.status)]
    fig, axes = plt.subplots(1, max(1, len(statuses)), figsize=(4.5 * max(1, len(statuses)), 4),
                             sharey=True, squeeze=False)  # fmt: skip
    top = done["fidelity"].max() if len(done) else 1
    norm = plt.Normalize(done["fidelity"].min() if len(done) else 0, top)
    best = done[(done.fidelity == top) & done.objective.notna()].sort_values("objective").head(1)
    for ax, status in zip(axes[0], statuses, strict=False):
        part = done[done.status == status]
        for _, t in part.iterrows():
            acc = 1.0 - np.asarray(t["curve"], dtype=float)
            ax.plot(range(1, len(acc) + 1), acc, color=plt.cm.viridis(norm(t["fidelity"])),
                    alpha=0.5, linewidth=1)  # fmt: skip
        for _, t in best.iterrows():
            acc = 1.0 - np.asarray(t["curve"], dtype=float)
            ax.plot(range(1, len(acc) + 1), acc, color="black", linewidth=2, label="incumbent")
            ax.legend(fontsize=8)
        ax.set(xlabel="epoch", title=f"{status} ({len(part)} trials)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("validation accuracy (colour: fidelity)")
    fig.suptitle(title)
    save(fig, path)


def boundary(
    positions: pd.DataFrame, best: dict[str, float], margin: float, path: str | Path,
    title: str = "",
) -> None:  # fmt: skip
    """Where the trials (dots, shade: validation accuracy) and the best config (red star) lie
    in each numeric hyperparameter's range (0 = low edge, 1 = high edge, log scale where the
    space is log); the grey bands are the edge margins the boundary check flags."""
    params = list(dict.fromkeys(positions["param"]))
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(params) + 1.5))
    for side in (0.0, 1.0 - margin):
        ax.axvspan(side, side + margin, color="grey", alpha=0.2)
    for i, param in enumerate(params):
        part = positions[positions.param == param]
        ax.scatter(part["position"], [i] * len(part), c=part["accuracy"], cmap="Blues", s=14,
                   edgecolors="none")  # fmt: skip
        if param in best:
            ax.scatter([best[param]], [i], marker="*", s=160, color="red", zorder=3)
    ax.set_yticks(range(len(params)), params)
    ax.set(xlim=(-0.02, 1.02), xlabel="position in the search range (0 = low, 1 = high)",
           title=title)  # fmt: skip
    ax.grid(axis="x", alpha=0.3)
    save(fig, path)
