"""Fused optimizer kernels against torch's default ones: seconds per epoch and the same accuracy.

Every model family of the from-scratch space (config/spaces/scratch.yaml), at its prior config,
trained on each dataset's search subset for ``--epochs`` epochs with hpotext's trainer as a search
worker runs it (one torch thread, CPU), once with torch's default AdamW (``hpotext.train.loop.
FUSED = False``, one tensor op per update term and parameter) and once with the fused kernel
(``FUSED = True``, the trainer's default), for ``--seeds`` seeds; the two variants of a seed run
back to back, each first in turn, so that drift and warm-up hit both. Reported: median seconds
per epoch, speed-up, validation accuracy after the last epoch (mean ± sd over seeds) and the largest
per-seed accuracy difference between the variants (float rounding only: the updates are the
same). Writes benchmarks/results/fused_optimizer.{md,parquet,png}.

    python benchmarks/fused_optimizer.py --datasets vader trec --seeds 3 --epochs 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import command, dataset_panels, machine, save_figure  # noqa: E402
from benchmarks.efficiency import prepare, subset_files  # noqa: E402
from hpotext import space as space_mod  # noqa: E402
from hpotext.optimizers.records import Suggestion  # noqa: E402
from hpotext.search.objective import TrialRunner  # noqa: E402
from hpotext.space.core import MODEL, Space  # noqa: E402
from hpotext.train import loop  # noqa: E402
from hpotext.train.setup import load_train_data  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "fused_optimizer"
VARIANTS = {"default": False, "fused": True}


def family_prior(space: Space, family: str) -> dict[str, Any]:
    """The space's prior config with ``model`` set to ``family`` (its own children's priors)."""
    return {hp.key: family if hp.key == MODEL else hp.prior for hp in space.active({MODEL: family})}


def run_one(runner: TrialRunner, config: dict[str, Any], epochs: int, fused: bool) -> dict:
    loop.FUSED = fused
    with tempfile.TemporaryDirectory(prefix="hpotext-fused-") as tmp:
        start = time.perf_counter()
        result = runner(Suggestion(0, config, epochs), None, Path(tmp))
        wall = time.perf_counter() - start
        saved = torch.load(sorted(Path(tmp).glob("epoch*.pt"))[-1], weights_only=False)
    seconds = [r["seconds"] for r in saved["history"]]
    return {
        "epoch_seconds": float(np.median(seconds)),
        "wall": wall,
        "val_accuracy": result.metrics["accuracy"],
        "fused_state": bool(saved["optimizer"]["param_groups"][0].get("fused")),
    }


def measure(args: argparse.Namespace) -> pd.DataFrame:
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="hpotext-fused-work-") as work:
        for name in args.datasets:
            cfg = prepare(name, Path(args.cache), Path(work) / name)
            space = space_mod.load(ROOT / cfg["search"]["space"])
            data = load_train_data(subset_files(Path(work) / name / "data"), cfg["text"]["max_len"])
            for family in args.families:
                config = family_prior(space, family)
                for seed in range(args.seeds):
                    runner = TrialRunner(space, data, cfg["train"], seed, torch.device("cpu"))
                    order = list(VARIANTS.items())[:: 1 if seed % 2 == 0 else -1]
                    for variant, fused in order:  # which goes first alternates over seeds
                        row = run_one(runner, config, args.epochs, fused)
                        rows.append(
                            {"dataset": name, "family": family, "seed": seed,
                             "variant": variant, **row}
                        )  # fmt: skip
                        print(rows[-1], flush=True)
    loop.FUSED = True
    return pd.DataFrame(rows)


def table(runs: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (name, family), part in runs.groupby(["dataset", "family"], sort=False):
        by = {v: part[part.variant == v].sort_values("seed") for v in VARIANTS}
        slow, fast = by["default"].epoch_seconds.median(), by["fused"].epoch_seconds.median()
        diff = np.abs(by["default"].val_accuracy.to_numpy() - by["fused"].val_accuracy.to_numpy())
        acc = {v: f"{f.val_accuracy.mean():.4f} ± {f.val_accuracy.std(ddof=0):.4f}"
               for v, f in by.items()}  # fmt: skip
        out.append(
            {
                "dataset": name,
                "family": family,
                "default s/epoch": f"{slow:.2f}",
                "fused s/epoch": f"{fast:.2f}",
                "speed-up": f"{slow / fast:.2f}x",
                "default val acc": acc["default"],
                "fused val acc": acc["fused"],
                "largest per-seed acc difference": f"{diff.max():.4f}",
            }
        )
    return pd.DataFrame(out)


def plot(runs: pd.DataFrame, stem: Path) -> None:
    fig, panels = dataset_panels(runs)
    for ax, name, part in panels:
        families = list(dict.fromkeys(part.family))
        x = np.arange(len(families))
        for k, variant in enumerate(VARIANTS):
            med = [part[(part.family == f) & (part.variant == variant)].epoch_seconds.median()
                   for f in families]  # fmt: skip
            ax.bar(x + (k - 0.5) * 0.4, med, width=0.4, label=f"AdamW {variant}")
        ax.set_xticks(x, families)
        ax.set_ylabel("seconds per epoch (median)")
        ax.set_title(f"{name}: search subset, 1 thread")
        ax.legend()
    save_figure(fig, stem)


def write(runs: pd.DataFrame, args: argparse.Namespace, total: float) -> None:
    stem = Path(args.out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    runs.to_parquet(stem.with_suffix(".parquet"), index=False)
    plot(runs, stem)
    flags = ["datasets", "seeds", "epochs", "families"]
    slow = runs[runs.variant == "default"].epoch_seconds.sum()
    fast = runs[runs.variant == "fused"].epoch_seconds.sum()
    lines = [
        "# Fused optimizer kernels: seconds per epoch at the same accuracy",
        "",
        f"Machine: {machine()}. Date: {dt.date.today()}. {command('fused_optimizer', args, flags)}"
        f": every family of config/spaces/scratch.yaml at its prior config, trained on the search "
        f"subset for {args.epochs} epochs (one torch thread, CPU, hpotext's trainer as a search "
        f"worker runs it), torch's default AdamW against the fused kernel, {args.seeds} seeds, "
        "each seed's two variants back to back (which goes first alternates). "
        f"Total wall {total / 60:.1f} min.",
        "",
        table(runs).to_markdown(index=False),
        "",
        f"Summed over every run, an epoch took {fast / slow:.0%} of its default-kernel time with "
        "the fused kernel; the accuracy difference is float rounding (the updates are the same).",
        "",
    ]
    stem.with_suffix(".md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["vader", "trec"])
    parser.add_argument("--families", nargs="+", default=["boe", "cnn", "lstm", "transformer"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", default=str(OUT), help="output stem (.md, .parquet, .png)")
    parser.add_argument("--cache", default=str(ROOT / "resources"), help="data and wheels")
    args = parser.parse_args()
    start = time.perf_counter()
    runs = measure(args)
    write(runs, args, time.perf_counter() - start)


if __name__ == "__main__":
    main()
