"""What every figure shares: saving it as a PNG (the package sets the Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt


def save(fig: plt.Figure, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
