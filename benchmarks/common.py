"""What every benchmark script shares: the machine line, the command line, a fixed hash seed,
saving figures."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
# The from-scratch space (no pretrained encoder): the optimizer, efficiency and transfer tables
# were measured on it, and their runners build only the study vocabulary's inputs.
SCRATCH_SPACE = "config/spaces/scratch.yaml"


def scratch_study() -> dict:
    """config/config.yaml (raw, before schema defaults) with the from-scratch space."""
    raw = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    raw["search"] = {**raw.get("search", {}), "space": SCRATCH_SPACE}
    return raw


def machine() -> str:
    """The machine a table was measured on (CPU or GPU, threads, versions)."""
    if torch.cuda.is_available():
        device = torch.cuda.get_device_name()
    else:
        device = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    return (
        f"{platform.platform()}, {device}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}, Python {platform.python_version()}"
    )


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def command(
    script: str,
    args: argparse.Namespace,
    names: Sequence[str],
    unless: Mapping[str, Any] | None = None,
) -> str:
    """The run's command line as a markdown code span: `python benchmarks/<script>.py --flag
    value ...` for each of ``names`` (an argparse dest; ``flag=dest`` where they differ), lists
    space-joined and floats as %g. A flag is left out when its value is None or False, or equals
    ``unless[dest]`` (a default the table's text already states); True prints the bare flag."""
    parts = [f"python benchmarks/{script}.py"]
    for name in names:
        flag, _, dest = name.rpartition("=")
        flag = flag or dest.replace("_", "-")
        value = getattr(args, dest, None)
        if value is None or value is False or (dest in (unless or {}) and value == unless[dest]):
            continue
        parts.append(f"--{flag}" if value is True else f"--{flag} {_text(value)}")
    return f"`{' '.join(parts)}`"


def fixed_hash_seed() -> None:
    """Re-run this script with PYTHONHASHSEED=0 (NePS orders categorical choices through a set)."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])


def dataset_panels(
    frame: Any, width: float = 5.0, height: float = 3.5
) -> tuple[Any, list[tuple[Any, str, Any]]]:
    """A figure with one panel per dataset of ``frame`` (its ``dataset`` column, in order of
    appearance): the figure and (axes, dataset, the dataset's rows) per panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(frame.dataset))
    fig, axes = plt.subplots(1, len(names), figsize=(width * len(names), height), squeeze=False)
    return fig, [(ax, n, frame[frame.dataset == n]) for ax, n in zip(axes[0], names, strict=True)]


def save_figure(fig: object, stem: Path) -> None:
    """``<stem>.png`` at 120 dpi, tight layout; the figure is closed."""
    import matplotlib.pyplot as plt

    fig.tight_layout()  # type: ignore[attr-defined]
    fig.savefig(stem.with_suffix(".png"), dpi=120)  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]


def plot_anytime(frame: Any, time_col: str, datasets: list[str], budget: float, stem: Path,
                 variants: list[str]) -> None:  # fmt: skip
    """Best-so-far validation accuracy against wall seconds (``time_col``), mean over seeds,
    one line per variant (in ``variants`` order) and one panel per dataset; ``<stem>.png``.

    ``frame`` has dataset, variant, seed, ``time_col`` and val_accuracy columns. A mean is NaN
    until every seed's first result is in, so it never mixes seed sets.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 4.5), squeeze=False)
    grid = np.linspace(0, budget, 200)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        part = frame[frame.dataset == dataset]
        for variant in variants:
            runs = part[part.variant == variant]
            if not len(runs):
                continue
            curves = []
            for _, run in runs.groupby("seed"):
                ok = run.dropna(subset=["val_accuracy"]).sort_values(time_col)
                if not len(ok):
                    curves.append(np.full(len(grid), np.nan))
                    continue
                best = ok["val_accuracy"].cummax().to_numpy()
                idx = np.searchsorted(ok[time_col].to_numpy(), grid, side="right") - 1
                curves.append(np.where(idx >= 0, best[np.maximum(idx, 0)], np.nan))
            ax.plot(grid, np.vstack(curves).mean(axis=0), label=str(variant))
        ax.set(title=dataset, xlabel="wall seconds", ylabel="best val accuracy (mean over seeds)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, stem)


def epoch_scores(history: list[Any], ckpts: Path, data: Any, test_ids: Any, test_y: Any) -> dict:
    """Validation accuracy of every epoch of a training run (``history``, its EpochRecords),
    the test accuracy of every epoch's checkpoint in ``ckpts`` (trained with keep="all" on
    ``data``, a TrainData), the epoch with the best validation accuracy and its test accuracy."""
    from hpotext.train.loop import load_model
    from hpotext.train.metrics import predict

    cpu = torch.device("cpu")
    tests = []
    for record in history:
        path = ckpts / f"epoch{record.epoch:03d}.pt"
        model, _ = load_model(path, data.vocab_size, data.num_classes, data.max_len, cpu,
                              pretrained=data.pretrained)  # fmt: skip
        tests.append(predict(model, test_ids, test_y, 256, cpu).accuracy)
    best = max(range(len(history)), key=lambda i: history[i].val_accuracy)
    return {"val_accuracy": [r.val_accuracy for r in history], "test_accuracy": tests,
            "best_epoch": best + 1, "test_at_best_val": tests[best]}  # fmt: skip
