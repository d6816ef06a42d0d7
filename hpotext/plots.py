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
    _save(fig, path)


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
    _save(fig, path)


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
    _save(fig, path)


def stage_compute(seconds: dict[str, float], path: str | Path, title: str = "") -> None:
    """Compute per workflow stage: summed wall seconds of its jobs (from benchmark files)."""
    names = sorted(seconds, key=lambda k: seconds[k])
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1.5))
    ax.barh(names, [seconds[n] / 60 for n in names], color="tab:blue")
    for i, n in enumerate(names):
        ax.text(seconds[n] / 60, i, f" {seconds[n]:.0f} s", va="center", fontsize=8)
    ax.set(xlabel="minutes (summed over the stage's jobs)", title=title)
    ax.grid(axis="x", alpha=0.3)
    _save(fig, path)


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
    _save(fig, path)
