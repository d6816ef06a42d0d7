"""How large must the proxy replay's budget be? The replayed optimizers' ranks on the proxy at
several simulated budgets, against the live ranks of the committed proxy validation.

Issue 18 found that the proxy replay ranks Optuna TPE mid-field while the live searches rank it
first on vader, trec and sms_spam. The replay's budget (proxy.budget_evaluations, then 20
full-fidelity proxy evaluations of the median config, 80 since this table) buys few trials per
replay, and TPE samples its first ``n_startup_trials`` (10) at random, so a short replay sees
TPE as random search. This script builds each dataset's proxy (the from-scratch space's proxy
table and surrogate, through the workflow's own rules, as benchmarks/proxy_validation.py's
studies did), replays every optimizer over --seeds seeds at each --budgets value, and reports per
budget: the median trials per replay, each optimizer's proxy mean rank on the normalized regret
AUC (the selection's own metric), and the Spearman correlation of that ranking with the
committed live mean ranks (benchmarks/results/proxy_validation_scratch*.parquet). Those live
runs predate optuna_tpe's start at the prior config, so the replays run TPE without it
(search.options.prior_first: false); its rank with the prior start is a column of its own.

Writes benchmarks/results/proxy_budget.{md,parquet,png}.

    python benchmarks/proxy_budget.py                       # the committed table
    python benchmarks/proxy_budget.py --datasets trec --budgets 20 40 --seeds 2 --out /tmp/pb/p
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    ROOT,
    SCRATCH_SPACE,
    command,
    fixed_hash_seed,
    machine,
    save_figure,
)
from benchmarks.ensemble import work_copy  # noqa: E402
from hpotext import schema  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "proxy_budget"
LIVE = ("proxy_validation_scratch.parquet", "proxy_validation_scratch_sms_spam.parquet")


def schema_default() -> float:
    """The schema's default proxy.budget_evaluations."""
    return float(schema.default("proxy.budget_evaluations"))


def live_ranks() -> pd.DataFrame:
    """dataset, optimizer, live_rank from the committed proxy validations."""
    found = [pd.read_parquet(ROOT / "benchmarks" / "results" / name) for name in LIVE]
    return pd.concat(found, ignore_index=True)[["dataset", "optimizer", "live_rank"]]


def build_proxy(work: Path, dataset: str) -> Path:
    """The dataset's proxy table, surrogate and quality (the workflow's rules); its folder."""
    exp = f"{dataset}_proxy"
    cfg = {"dataset": dataset, "experiment": exp,
           "search": {"space": SCRATCH_SPACE, "optimizer": "auto"}}  # fmt: skip
    (work / f"{exp}.yaml").write_text(yaml.safe_dump(cfg))
    cmd = [sys.executable, "-m", "snakemake", f"results/{exp}/proxy/quality.json", "--cores",
           "2", "--configfile", f"{exp}.yaml", "--quiet", "rules"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"proxy of {dataset} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    return work / "results" / exp / "proxy"


def replays(folder: Path, optimizers: list[str], seeds: int, budget_evals: float) -> dict:
    """Every optimizer replayed at ``budget_evals`` on the surrogate in ``folder``, Optuna TPE
    without its prior start (as the live validation ran it): the optimizers' mean ranks, the
    trials per run, and TPE's mean rank when it does start at the prior config (its runs
    swapped in for the ones without)."""
    from hpotext.io import read_json
    from hpotext.proxy.replay import run_optimizer
    from hpotext.proxy.surrogate import Surrogate, proxy_budget
    from hpotext.selection.stats import ranks, run_metrics

    surrogate = Surrogate.load(folder / "surrogate.pkl")
    quality = read_json(folder / "quality.json")
    cost = str(quality["cost_unit"])
    if cost == "seconds":
        budget = proxy_budget(pd.read_parquet(folder / "table.parquet"), budget_evals)
    else:
        budget = budget_evals * surrogate.space.fidelity.max
    runs = []
    start = time.perf_counter()
    prior = []
    for optimizer in optimizers:
        for seed in range(seeds):
            tpe = optimizer == "optuna_tpe"
            opts = {"prior_first": False} if tpe else None
            runs.append(run_optimizer(optimizer, surrogate.space, surrogate, seed, budget,
                                      cost=cost, options=opts))  # fmt: skip
            if tpe:
                prior.append(run_optimizer(optimizer, surrogate.space, surrogate, seed, budget,
                                           cost=cost))  # fmt: skip
    traj = pd.concat(runs, ignore_index=True)
    best_true = float(quality["best_true"])
    metrics = run_metrics(traj, best_true, budget)
    swapped = pd.concat([traj[traj.optimizer != "optuna_tpe"], *prior], ignore_index=True)
    with_prior = ranks(run_metrics(swapped, best_true, budget), "auc").set_index("optimizer")
    trials = traj.groupby(["optimizer", "seed"]).size().groupby("optimizer").median()
    return {"ranks": ranks(metrics, "auc").set_index("optimizer")["mean_rank"],
            "tpe_prior_rank": float(with_prior.loc["optuna_tpe", "mean_rank"]),
            "trials": trials, "budget": budget, "unit": cost,
            "seconds": time.perf_counter() - start}  # fmt: skip


def main() -> None:
    fixed_hash_seed()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["vader", "trec", "sms_spam"])
    parser.add_argument("--budgets", type=float, nargs="+", default=[20, 80, 320],
                        help="replay budgets in full-fidelity proxy evaluations")  # fmt: skip
    parser.add_argument("--seeds", type=int, default=10, help="replay seeds (the schema's 10)")
    parser.add_argument("--keep", help="keep the work folder here")
    parser.add_argument("--out", default=str(OUT), help="output stem")
    args = parser.parse_args()
    from hpotext.selection.validate import spearman

    live = live_ranks()
    root, work = work_copy(args.keep, "hpotext-proxy-budget-")
    rows: list[dict[str, Any]] = []
    for dataset in args.datasets:
        folder = build_proxy(work, dataset)
        truth = live[live.dataset == dataset].set_index("optimizer")["live_rank"]
        for budget_evals in args.budgets:
            found = replays(folder, list(truth.index), args.seeds, budget_evals)
            rho = spearman(found["ranks"].to_dict(), truth.to_dict())
            for opt in truth.index:
                rows.append({"dataset": dataset, "budget_evaluations": budget_evals,
                             "budget": found["budget"], "unit": found["unit"], "optimizer": opt,
                             "proxy_rank": float(found["ranks"][opt]),
                             "live_rank": float(truth[opt]),
                             "trials": float(found["trials"][opt]), "spearman": rho,
                             "tpe_prior_rank": found["tpe_prior_rank"],
                             "replay_seconds": found["seconds"]})  # fmt: skip
            print(dataset, budget_evals, f"rho {rho}", found["ranks"].round(2).to_dict(),
                  flush=True)  # fmt: skip
    write(pd.DataFrame(rows), args)
    if not args.keep:
        shutil.rmtree(root)


def write(frame: pd.DataFrame, args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stem = Path(args.out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(stem.with_suffix(".parquet"))
    lines = [
        "# Proxy replay budget: proxy ranks against live ranks",
        "",
        f"Measured {dt.date.today()} on {machine()}; "
        + command("proxy_budget", args, ["datasets", "budgets", "seeds"])
        + ". The from-scratch space's proxy (the workflow's proxy_table and "
        "proxy_surrogate rules with the schema's defaults), every optimizer replayed over "
        f"{args.seeds} seeds per budget; proxy rank: mean rank of the normalized regret AUC "
        "(the selection's metric); live rank: the committed proxy validation's "
        "(benchmarks/results/proxy_validation_scratch*.md, 3 live seeds each). Budgets in "
        "full-fidelity proxy evaluations of the median config (proxy.budget_evaluations; the "
        f"default is {schema_default():g}).",
        "",
        "| dataset | budget (evaluations) | simulated budget | median trials per replay "
        "(random / optuna_tpe / hyperband) | optuna_tpe proxy rank | proxy best "
        "| Spearman with live | optuna_tpe rank with its prior start | replay s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (dataset, b), part in frame.groupby(["dataset", "budget_evaluations"], sort=False):
        by = part.set_index("optimizer")
        trials = " / ".join(f"{by.loc[o, 'trials']:.0f}" if o in by.index else "-"
                            for o in ("random", "optuna_tpe", "hyperband"))  # fmt: skip
        best = by["proxy_rank"].idxmin()
        rho = part["spearman"].iloc[0]
        lines.append(
            f"| {dataset} | {b:g} | {part['budget'].iloc[0]:.1f} {part['unit'].iloc[0]} "
            f"| {trials} | {by.loc['optuna_tpe', 'proxy_rank']:.2f} of {len(by)} | {best} "
            f"| {'-' if rho is None or rho != rho else f'{rho:.2f}'} "
            f"| {part['tpe_prior_rank'].iloc[0]:.2f} | {part['replay_seconds'].iloc[0]:.0f} |"
        )
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    datasets = list(dict.fromkeys(frame["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        part = frame[frame.dataset == dataset]
        for opt, runs in part.groupby("optimizer"):
            ax.plot(runs["budget_evaluations"], runs["proxy_rank"], marker="o", label=str(opt))
        ax.set(title=dataset, xscale="log", xlabel="replay budget (proxy evaluations)",
               ylabel="proxy mean rank (1 = best)")  # fmt: skip
        ax.invert_yaxis()
        ax.legend(fontsize=7)
    save_figure(fig, stem)


if __name__ == "__main__":
    main()
