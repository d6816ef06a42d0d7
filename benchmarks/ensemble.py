"""Do the final stage's ensembles pay: single seed vs seed ensemble vs top-k ensemble, and the
study's choice among them, on vader, trec and sms_spam over several study seeds.

Each (dataset, study seed) is one real study through Snakemake (the workflow's own rules, up to
results/<exp>/final/chosen.json: no importance, figures or report), on a cheap from-scratch space
so that the many retrains fit a 2-core CPU: config/spaces/scratch.yaml restricted to bag of
embeddings and CNN with 1..3 epochs as fidelity (the retrains train 3 epochs). The search is ASHA
(no proxy stage) with a budget of --budget epochs over two workers and search.seed = the study
seed; the final stage retrains the tuned and the default config over seeds 0, 1, 2 and the
search's two runners-up (final.ensemble_top_k: 3) on seed 0, as the default study does.

Per study, from the workflow's records: the tuned config's single-seed test accuracy (mean over
its 3 seeds), its seed ensemble (their probabilities averaged), the top-k ensemble (greedy
selection with replacement over the tuned, default and runner-up seed ensembles on validation),
and the candidate the study chose on validation; extra compute = retrain seconds beyond one seed
of the tuned config (the seed ensemble: its seeds 1 and 2; the top-k ensemble: those plus the
runners-up; the default config's seeds are trained for the comparison anyway and are not
counted). Mean ± std over study seeds. Then `python -m hpotext.predict` labels 10,000 texts (the
first dataset's test texts repeated) with the first study's bundles: texts/s on this machine.

Writes benchmarks/results/ensemble.{md,parquet,png}.

    python benchmarks/ensemble.py                                  # the committed table
    python benchmarks/ensemble.py --study-bundle results/vader/bundle   # after make run
    python benchmarks/ensemble.py --datasets trec --seeds 0 --budget 12 --out /tmp/ens/e  # smoke
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, SCRATCH_SPACE, fixed_hash_seed, machine, save_figure  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "ensemble"
METHODS = ("single seed", "seed ensemble", "top-k ensemble", "study's choice")
COPIED = ("Snakefile", "rules", "scripts", "config", "envs", "profiles", "report", "hpotext")


def space() -> dict[str, Any]:
    """The from-scratch space with bag of embeddings and CNN only, 1..3 epochs."""
    found = yaml.safe_load((ROOT / SCRATCH_SPACE).read_text())
    found["fidelity"] = {"name": "epochs", "min": 1, "max": 3, "eta": 3}
    found["hyperparameters"]["model"] = {"type": "categorical", "choices": ["boe", "cnn"],
                                         "prior": "cnn", "confidence": "low"}  # fmt: skip
    found["families"] = {k: v for k, v in found["families"].items() if k in ("boe", "cnn")}
    return found


def workdir(root: Path) -> Path:
    """A copy of the workflow (resources/ shared with the checkout: the fetched wheels)."""
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, root / name)
    (ROOT / "resources").mkdir(exist_ok=True)
    (root / "resources").symlink_to(ROOT / "resources")
    (root / "bench_space.yaml").write_text(yaml.safe_dump(space(), sort_keys=False))
    return root


def work_copy(keep: str | None, prefix: str) -> tuple[Path, Path]:
    """(root, root/hpotext): ``keep`` or a new temporary folder, with the workflow copied once."""
    root = Path(keep or tempfile.mkdtemp(prefix=prefix))
    root.mkdir(parents=True, exist_ok=True)
    work = root / "hpotext"
    if not work.exists():
        work.mkdir()
        workdir(work)
    return root, work


def study(work: Path, dataset: str, seed: int, budget: int) -> str:
    """Run one study up to its chosen bundle; returns its experiment name."""
    exp = f"{dataset}_s{seed}"
    cfg = {
        "dataset": dataset,
        "experiment": exp,
        "search": {
            "space": "bench_space.yaml",
            "optimizer": "asha",
            "workers": 2,
            "seed": seed,
            "budget": {"kind": "epochs", "amount": budget},
        },  # fmt: skip
        "final": {"seeds": [0, 1, 2], "ensemble_top_k": 3},
    }
    (work / f"{exp}.yaml").write_text(yaml.safe_dump(cfg))
    cmd = [sys.executable, "-m", "snakemake", f"results/{exp}/final/chosen.json", "--cores", "2",
           "--configfile", f"{exp}.yaml", "--quiet", "rules"]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"study {exp} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    print(f"{exp}: {time.perf_counter() - start:.0f} s", flush=True)
    return exp


def seconds(res: Path, variant: str, seed: int) -> float:
    return float(
        pd.read_csv(res / f"benchmarks/retrain_{variant}_seed{seed}.tsv", sep="\t")["s"][0]
    )


def rows(work: Path, exp: str, dataset: str, seed: int) -> list[dict[str, Any]]:
    """The four methods' test scores and extra retrain seconds of one study."""
    res = work / "results" / exp
    read = lambda p: json.loads((res / p).read_text())  # noqa: E731
    tuned = read("final/tuned/ensemble.json")["test"]
    top = read("final/ensemble/ensemble.json")
    chosen = read("final/chosen.json")
    picked = read(f"final/{chosen['variant']}/ensemble.json")["test"]["ensemble"]
    seeds_extra = seconds(res, "tuned", 1) + seconds(res, "tuned", 2)
    runners = seconds(res, "runner1", 0) + seconds(res, "runner2", 0)
    common = {"dataset": dataset, "study_seed": seed}
    return [
        {**common, "method": "single seed", "accuracy": tuned["single"]["accuracy"]["mean"],
         "macro_f1": tuned["single"]["macro_f1"]["mean"], "extra_seconds": 0.0},
        {**common, "method": "seed ensemble", "accuracy": tuned["ensemble"]["accuracy"],
         "macro_f1": tuned["ensemble"]["macro_f1"], "extra_seconds": seeds_extra},
        {**common, "method": "top-k ensemble", "accuracy": top["test"]["ensemble"]["accuracy"],
         "macro_f1": top["test"]["ensemble"]["macro_f1"], "extra_seconds": seeds_extra + runners,
         "weights": json.dumps(top["weights"])},
        {**common, "method": "study's choice", "accuracy": picked["accuracy"],
         "macro_f1": picked["macro_f1"], "extra_seconds": seeds_extra + runners,
         "chosen": chosen["variant"]},
    ]  # fmt: skip


def predict_speed(work: Path, exp: str, n: int) -> list[dict[str, Any]]:
    """Texts per second of `python -m hpotext.predict` on ``n`` texts with each bundle."""
    res = work / "results" / exp
    texts = pd.read_parquet(res / "data/test.parquet")["text"]
    return [
        {"bundle": name, **time_predict(res / folder, texts, n, work)}
        for name, folder in (
            ("tuned seed ensemble", "final/tuned/bundle"),
            ("top-k ensemble", "final/ensemble/bundle"),
            ("study's bundle", "bundle"),
        )
    ]


def time_predict(bundle: Path, texts: pd.Series, n: int, work: Path) -> dict[str, Any]:
    """Wall seconds of the whole `python -m hpotext.predict` command on ``n`` of ``texts``
    (repeated), with the bundle's members and model families."""
    frame = pd.DataFrame({"text": [texts.iloc[i % len(texts)] for i in range(n)]})
    frame.to_csv(work / "texts.csv", index=False)
    manifest = json.loads((bundle / "bundle.json").read_text())
    cmd = [sys.executable, "-m", "hpotext.predict", str(bundle), str(work / "texts.csv"), "-o",
           str(work / "out.csv")]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - start
    families = "+".join(sorted({m["family"] for m in manifest["models"]}))
    return {"members": len(manifest["members"]), "families": families, "texts": n,
            "seconds": wall, "texts_per_second": n / wall}  # fmt: skip


def study_speed(bundle: Path, n: int, out: Path) -> None:
    """<out>_study.md: hpotext.predict on ``n`` test texts of the study that wrote ``bundle``."""
    texts = pd.read_parquet(bundle.parent / "data/test.parquet")["text"]
    with tempfile.TemporaryDirectory() as tmp:
        found = time_predict(bundle, texts, n, Path(tmp))
    chosen = json.loads((bundle / "bundle.json").read_text()).get("chosen", {})
    name = bundle.relative_to(bundle.parents[2])  # results/<exp>/bundle
    lines = [
        "# Prediction speed of a study's bundle",
        "",
        f"Machine: {machine()}; {dt.date.today()}; `python benchmarks/ensemble.py "
        f"--study-bundle {name} --texts {n}`: the whole `python -m hpotext.predict` command "
        "(start-up, loading, csv in and out) on the study's test texts, repeated.",
        "",
        "| bundle | chosen | families | members | texts | seconds | texts/s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| {name} | {chosen.get('variant', '?')} | {found['families']} | {found['members']} | "
        f"{n:,} | {found['seconds']:.1f} | {found['texts_per_second']:.1f} |",
        "",
    ]
    out = out.parent / f"{out.name}_study.md"
    out.write_text("\n".join(lines))
    print(out.read_text())


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    table = frame.groupby(["dataset", "method"], sort=False).agg(
        accuracy=("accuracy", "mean"), std=("accuracy", "std"), macro_f1=("macro_f1", "mean"),
        extra_seconds=("extra_seconds", "mean"), studies=("accuracy", "size"),
    )  # fmt: skip
    return table.reset_index()


def write(frame: pd.DataFrame, speed: list[dict[str, Any]], args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out.with_suffix(".parquet"))
    table = summarise(frame)
    single = table[table["method"] == "single seed"].set_index("dataset")["accuracy"]
    lines = [
        "# Ensembles of the final stage",
        "",
        f"Machine: {machine()}; {dt.date.today()}; `python benchmarks/ensemble.py "
        f"--datasets {' '.join(args.datasets)} --seeds {' '.join(map(str, args.seeds))} "
        f"--budget {args.budget}`. Each row: mean ± std of test accuracy over "
        f"{len(args.seeds)} studies (search seeds); extra = retrain seconds beyond one seed of "
        "the tuned config (see the script's docstring).",
        "",
        "| dataset | method | test accuracy | vs single seed | macro-F1 | extra retrain s |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in table.itertuples():
        spread = 0.0 if pd.isna(r.std) else r.std
        lines.append(
            f"| {r.dataset} | {r.method} | {r.accuracy:.4f} ± {spread:.4f}"
            f" | {r.accuracy - single[r.dataset]:+.4f} | {r.macro_f1:.4f} | {r.extra_seconds:.0f} |"
        )
    chosen = frame[frame["method"] == "study's choice"]
    picks = ", ".join(f"{d}: {'/'.join(g['chosen'])}" for d, g in chosen.groupby("dataset"))
    worse = [
        d for d in single.index
        if table.query("dataset == @d and method == 'seed ensemble'")["accuracy"].iloc[0]
        < single[d]
    ]  # fmt: skip
    lines += [
        "",
        f"The study's choice per study seed: {picks}.",
        f"Seed ensemble below the single-seed mean on: {', '.join(worse) or 'no dataset'}.",
        "",
        f"`python -m hpotext.predict` on {speed[0]['texts']:,} texts ({args.datasets[0]}, the "
        "first study's bundles; the whole command: start-up, loading, reading and writing the "
        "csv):",
        "",
        "| bundle | members | seconds | texts/s |",
        "| --- | --- | --- | --- |",
        *(
            f"| {s['bundle']} | {s['members']} | {s['seconds']:.1f} | {s['texts_per_second']:.0f} |"
            for s in speed
        ),  # fmt: skip
        "",
    ]
    out.with_suffix(".md").write_text("\n".join(lines))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    datasets = list(dict.fromkeys(table["dataset"]))
    width = 0.8 / len(METHODS)
    for k, method in enumerate(METHODS):
        part = table[table["method"] == method].set_index("dataset").reindex(datasets)
        ax.bar([i + k * width for i in range(len(datasets))], part["accuracy"], width,
               yerr=part["std"].fillna(0), label=method, capsize=2)  # fmt: skip
    ax.set_xticks([i + width * (len(METHODS) - 1) / 2 for i in range(len(datasets))], datasets)
    low = table["accuracy"].min()
    ax.set_ylim(max(0.0, low - 0.05), min(1.0, table["accuracy"].max() + 0.02))
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=8, loc="lower right")
    save_figure(fig, out)
    print(out.with_suffix(".md").read_text())


def main() -> None:
    fixed_hash_seed()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["vader", "trec", "sms_spam"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=24, help="search epochs per study")
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--keep", help="run in this folder and keep it (default: a temp one)")
    parser.add_argument(
        "--study-bundle",
        help="only time hpotext.predict with this study's bundle on its test texts",
    )
    args = parser.parse_args()
    if args.study_bundle:
        study_speed(Path(args.study_bundle), args.texts, Path(args.out))
        return
    root, work = work_copy(args.keep, "hpotext_ensemble_")
    found, speed = [], []
    for dataset in args.datasets:
        for seed in args.seeds:
            exp = study(work, dataset, seed, args.budget)
            found += rows(work, exp, dataset, seed)
            if not speed:
                speed = predict_speed(work, exp, args.texts)
    write(pd.DataFrame(found), speed, args)
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
