"""Pretrained vs random embedding init for the from-scratch families (embed_init), after Kim
2014's CNN-static: test accuracy on the project's own split of each dataset, beside TF-IDF.

Each from-scratch family trains its prior config (config/spaces/default.yaml's priors with the
model fixed to it) on the full train split for --epochs epochs, once with ``embed_init: random``
and once with ``embed_init: pretrained`` (the study vocabulary's words given all-MiniLM-L6-v2's
input embeddings, as the workflow's vectors rule writes them), over the same seeds: a paired
comparison, so the gain is per seed. Test accuracy is taken at the epoch with the best
validation accuracy. Writes benchmarks/results/embed_init.{md,parquet,png}.

    python benchmarks/embed_init.py                        # the committed table
    python benchmarks/embed_init.py --datasets trec --families boe --seeds 0 --rows 500
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, command, epoch_scores, machine, save_figure  # noqa: E402
from benchmarks.pretrained import encoder_folder, splits  # noqa: E402

OUT = ROOT / "benchmarks" / "results"
FAMILIES = ("boe", "cnn", "lstm", "transformer")
INITS = ("random", "pretrained")
# the study's text settings (config/schema.yaml's defaults)
MIN_FREQ, MAX_SIZE, LOWERCASE, MAX_LEN = 2, 30000, True, 64


def prior_config(family: str) -> tuple[Any, Any]:
    """(ModelConfig, TrainConfig) of the default space's prior config with the model fixed to
    ``family``, as a retraining builds them."""
    from hpotext.space.parse import from_dict
    from hpotext.train.setup import training_setup

    space = from_dict(yaml.safe_load((ROOT / "config/spaces/default.yaml").read_text()))
    config: dict[str, Any] = {"model": family}
    for hp in space.hyperparameters:
        if hp.key != "model" and hp.active_for(family):
            config[hp.key] = hp.prior
    return training_setup(space, config, {"batch_size": 64, "schedule": "cosine"})


def dataset_inputs(dataset: str, folder: Path, rows: int | None) -> dict[str, Any]:
    """The split, vocabulary, encoded splits and word vectors of ``dataset`` in ``folder``."""
    from hpotext.data.info import DatasetInfo
    from hpotext.data.text import Vocab
    from hpotext.models.vectors import word_vectors
    from hpotext.train.setup import encode_split

    splits(dataset, folder, rows)
    train = pd.read_parquet(folder / "train.parquet")
    vocab = Vocab.build(train["text"], MIN_FREQ, MAX_SIZE, LOWERCASE)
    classes = DatasetInfo.from_json(folder / "dataset.json").classes
    encoded = {s: encode_split(str(folder / f"{s}.parquet"), vocab, classes, MAX_LEN)
               for s in ("train", "val", "test")}  # fmt: skip
    vectors, known = word_vectors(encoder_folder(), vocab.itos)
    return {"vocab": vocab, "classes": classes, "encoded": encoded, "vectors": vectors,
            "known": known}  # fmt: skip


def run_one(inputs: dict[str, Any], family: str, init: str, seed: int, epochs: int) -> dict:
    """Train one (family, init, seed) and score every epoch's checkpoint on test."""
    import torch

    from hpotext.train.loop import train
    from hpotext.train.records import TrainData

    (train_ids, train_y), (val_ids, val_y), (test_ids, test_y) = (
        inputs["encoded"][s] for s in ("train", "val", "test")
    )
    vocab_size, classes = len(inputs["vocab"]), len(inputs["classes"])
    data = TrainData(train_ids, train_y, val_ids, val_y, vocab_size, classes, MAX_LEN,
                     vectors=inputs["vectors"])  # fmt: skip
    model, cfg = prior_config(family)
    cfg = replace(cfg, epochs=epochs)  # the cosine schedule's horizon
    hparams = {**model.hparams, "embed_init": init}
    cpu = torch.device("cpu")
    with tempfile.TemporaryDirectory() as ckpts:
        result = train(family, hparams, cfg, data, epochs=epochs, seed=seed,
                       checkpoint_dir=ckpts, keep="all", device=cpu)  # fmt: skip
        scores = epoch_scores(result.history, Path(ckpts), data, test_ids, test_y)
    return {
        "family": family,
        "init": init,
        "seed": seed,
        **scores,
        "seconds": result.seconds,
    }


def tfidf_accuracy(folder: Path) -> float:
    from hpotext.final.steps import tfidf

    files = [str(folder / f"{s}.parquet") for s in ("train", "val", "test")]
    return float(tfidf(*files, str(folder / "dataset.json"), str(folder / "tfidf.json"))["test"]
                 ["accuracy"])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["vader", "trec"])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=3, help="the default space's fidelity max")
    parser.add_argument("--rows", type=int, help="only this many rows per split (a quick check)")
    parser.add_argument("--out", default=str(OUT / "embed_init"), help="output stem")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for dataset in args.datasets:
        with tempfile.TemporaryDirectory() as tmp:
            inputs = dataset_inputs(dataset, Path(tmp), args.rows)
            reference = tfidf_accuracy(Path(tmp))
            print(f"{dataset}: {100 * inputs['known']:.1f} % of {len(inputs['vocab'])} words "
                  f"fully known; TF-IDF {reference:.4f}", flush=True)  # fmt: skip
            for family in args.families:
                for seed in args.seeds:
                    for init in INITS:
                        row = run_one(inputs, family, init, seed, args.epochs)
                        row |= {"dataset": dataset, "tfidf": reference, "known": inputs["known"],
                                "vocab": len(inputs["vocab"])}  # fmt: skip
                        rows.append(row)
                        print({k: row[k] for k in ("dataset", "family", "init", "seed",
                              "test_at_best_val", "seconds")}, flush=True)  # fmt: skip
    write(pd.DataFrame(rows), args)


def gains(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, family, seed): pretrained minus random test accuracy."""
    wide = frame.pivot_table(index=["dataset", "family", "seed"], columns="init",
                             values="test_at_best_val").reset_index()  # fmt: skip
    wide["gain"] = wide["pretrained"] - wide["random"]
    return wide


def write(frame: pd.DataFrame, args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stem = Path(args.out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(stem.with_suffix(".parquet"))
    paired = gains(frame)
    lines = [
        "# Pretrained vs random embedding init (embed_init)",
        "",
        f"Measured {dt.date.today()} on {machine()}; "
        + command("embed_init", args, ["datasets", "families", "seeds", "epochs"]) + ".",
        "",
        "Each family's prior config in config/spaces/default.yaml (embed_dim 128, lr 2e-3, "
        f"batch 64, cosine schedule), {args.epochs} epochs on the full train split of the "
        "project's own split; pretrained = all-MiniLM-L6-v2's input embeddings of each word "
        "(mean of its WordPiece rows), reduced to embed_dim by PCA and scaled to unit variance. "
        "Test accuracy at the best validation epoch, mean ± std over the seeds; the gain is "
        "paired by seed.",
        "",
        "| dataset | family | random | pretrained | gain (paired) | seeds won | s / run random "
        "| s / run pretrained | TF-IDF |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (dataset, family), part in paired.groupby(["dataset", "family"], sort=False):
        runs = frame[(frame.dataset == dataset) & (frame.family == family)]
        secs = runs.groupby("init")["seconds"].mean()
        won = int((part["gain"] > 0).sum())
        lines.append(
            f"| {dataset} | {family} | {part['random'].mean():.4f} ± {part['random'].std():.4f} "
            f"| {part['pretrained'].mean():.4f} ± {part['pretrained'].std():.4f} "
            f"| {part['gain'].mean():+.4f} ± {part['gain'].std():.4f} | {won}/{len(part)} "
            f"| {secs['random']:.0f} | {secs['pretrained']:.0f} | {runs['tfidf'].iloc[0]:.4f} |"
        )
    for dataset, part in frame.groupby("dataset", sort=False):
        lines.append("")
        lines.append(f"{dataset}: vocabulary {int(part['vocab'].iloc[0])} words, "
                     f"{100 * part['known'].iloc[0]:.1f} % fully known to the encoder's "
                     "tokenizer.")  # fmt: skip
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    datasets = list(dict.fromkeys(frame["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(6 * len(datasets), 4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        part = frame[frame.dataset == dataset]
        for (family, init), runs in part.groupby(["family", "init"], sort=False):
            curve = [sum(v) / len(v) for v in zip(*runs["test_accuracy"], strict=False)]
            ax.plot(
                range(1, len(curve) + 1),
                curve,
                marker="o",
                linestyle="-" if init == "pretrained" else "--",
                label=f"{family} {init}",
            )
        ax.axhline(part["tfidf"].iloc[0], color="grey", linestyle=":", label="TF-IDF + LR")
        ax.set(title=dataset, xlabel="epoch", ylabel="test accuracy (mean over seeds)")
        ax.legend(fontsize=7)
    save_figure(fig, stem)


if __name__ == "__main__":
    main()
