"""What every figure shares: matplotlib's Agg backend and saving a PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt  # noqa: E402


def save(fig: plt.Figure, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
