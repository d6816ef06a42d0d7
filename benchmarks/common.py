"""What every benchmark script shares: the machine line, a fixed hash seed, saving figures."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

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


def fixed_hash_seed() -> None:
    """Re-run this script with PYTHONHASHSEED=0 (NePS orders categorical choices through a set)."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])


def save_figure(fig: object, stem: Path) -> None:
    """``<stem>.png`` at 120 dpi, tight layout; the figure is closed."""
    import matplotlib.pyplot as plt

    fig.tight_layout()  # type: ignore[attr-defined]
    fig.savefig(stem.with_suffix(".png"), dpi=120)  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
