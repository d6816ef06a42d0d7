"""Does replaying over several surrogates of the proxy table steady the proxy's verdict?

Reads the studies a proxy validation kept (`benchmarks/proxy_validation.py --keep DIR`): per
dataset the proxy table, its replay budget and the live mean ranks of every optimizer
(selection/validation.json). For each --members count and --draws draws, fits that many
surrogates of the same table (hpotext.proxy.surrogate.members: the whole-table fit with forest
seed = the draw, then bootstrap resamples of its configs), replays every optimizer for --seeds
seeds (seed s on member s mod count, as the proxy stage would) and ranks them on normalized
regret AUC as the selection does. Per dataset and count it reports the proxy-vs-live Spearman
over the draws (mean, sd, range), how alike the draws rank the optimizers (mean pairwise
Spearman: the proxy's own reliability), and which optimizer each draw puts first. Draw 0 with
one member is the proxy stage's own surrogate.

Writes benchmarks/results/proxy_surrogates.{md,parquet,png}.

    python benchmarks/proxy_surrogates.py --from /tmp/pv/work     # 2 CPU cores: ~20 min
    python benchmarks/proxy_surrogates.py --from /tmp/pv/work --datasets trec --members 1 2 \\
        --draws 2 --seeds 3 --out /tmp/ps/ps                                  # a quick check
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, command, fixed_hash_seed, machine, save_figure  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "proxy_surrogates"
DATASETS = ["vader", "trec"]


def study_folder(root: Path, dataset: str) -> Path:
    """The kept study of ``dataset`` under a proxy validation's --keep folder."""
    found = sorted((root / "hpotext" / "results").glob(f"{dataset}_*/selection/validation.json"))
    if not found:
        raise SystemExit(
            f"{root} holds no proxy validation of {dataset}; run benchmarks/proxy_validation.py "
            f"--datasets {dataset} --keep {root} first"
        )
    return found[0].parents[1]


def unit(job: tuple[str, str, int, int, int]) -> dict[str, Any]:
    """One (dataset, count, draw): fit the members, replay, rank; the proxy's mean ranks."""
    from hpotext import space as space_mod
    from hpotext.proxy.replay import best_true, run_optimizer
    from hpotext.proxy.settings import ProxySettings, proxy_space
    from hpotext.proxy.surrogate import members
    from hpotext.selection.stats import ranks, run_metrics

    folder, dataset, count, draw, seeds = job
    res = Path(folder)
    work = res.parents[1]
    cfg = yaml.safe_load((work / f"{res.name}.yaml").read_text())
    opts = ProxySettings.from_dict(cfg.get("proxy"))
    space = proxy_space(space_mod.load(work / cfg["search"]["space"]), opts)
    table = pd.read_parquet(res / "proxy" / "table.parquet")
    quality = json.loads((res / "proxy" / "quality.json").read_text())
    validation = json.loads((res / "selection" / "validation.json").read_text())
    optimizers = sorted(validation["live_mean_ranks"])
    start = time.perf_counter()
    kind = quality.get("surrogate", "extra_trees")
    fitted = members(table, space, seed=draw, kind=kind, count=count)
    budget, cost = float(quality["budget"]), str(quality["cost_unit"])
    runs = []
    for seed in range(seeds):
        member = fitted[seed % count]
        for name in optimizers:
            runs.append(run_optimizer(name, member.space, member, seed, budget, cost=cost))
    reference = min(best_true(m, table) for m in fitted)
    metrics = run_metrics(pd.concat(runs, ignore_index=True), reference, budget)
    mean = ranks(metrics, "auc").set_index("optimizer")["mean_rank"]
    return {"dataset": dataset, "members": count, "draw": draw,
            "proxy_ranks": {str(k): float(v) for k, v in mean.items()},
            "seconds": time.perf_counter() - start}  # fmt: skip


def summarize(rows: pd.DataFrame, live: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Per (dataset, members): proxy-vs-live Spearman over draws and the draws' own agreement."""
    from hpotext.selection.validate import spearman

    out = []
    for (dataset, count), part in rows.groupby(["dataset", "members"], sort=True):
        rhos = [spearman(r, live[dataset]) for r in part.proxy_ranks]
        rhos = [r for r in rhos if r is not None]
        pairs = [spearman(a, b) for a, b in itertools.combinations(part.proxy_ranks, 2)]
        pairs = [p for p in pairs if p is not None]
        firsts = [min(r, key=lambda o: (r[o], o)) for r in part.proxy_ranks]
        out.append({"dataset": dataset, "members": int(count), "draws": len(part),
                    "vs_live_mean": pd.Series(rhos).mean(), "vs_live_sd": pd.Series(rhos).std(),
                    "vs_live_min": min(rhos, default=float("nan")),
                    "vs_live_max": max(rhos, default=float("nan")),
                    "draws_agree": pd.Series(pairs).mean(),
                    "proxy_best": ", ".join(firsts), "seconds": part.seconds.mean()})  # fmt: skip
    return pd.DataFrame(out)


def write(rows: pd.DataFrame, live: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table = summarize(rows, live)
    rows.assign(proxy_ranks=rows.proxy_ranks.map(json.dumps)).to_parquet(
        out.with_suffix(".parquet")
    )
    lines = [
        "# Replaying over several surrogates of the proxy table",
        "",
        f"Measured {dt.date.today()} on {machine()}; "
        + command("proxy_surrogates", args, ["from=source", "datasets", "members", "draws",
                  "seeds"], {"datasets": DATASETS})  # fmt: skip
        + f": each kept study's proxy table, {args.seeds} replay seeds per "
        "optimizer (seed s on member s mod members), ranked on normalized regret AUC; live: the "
        "study's validation.json mean ranks. vs live: Spearman of the proxy's and the live mean "
        "ranks over the draws; draws agree: mean Spearman between two draws' proxy rankings.",
        "",
        "| dataset | surrogates | draws | vs live mean ± sd | vs live range | draws agree "
        "| proxy's best per draw | replay s per draw |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.dataset} | {r.members} | {r.draws} | {r.vs_live_mean:.2f} ± {r.vs_live_sd:.2f} "
            f"| [{r.vs_live_min:.2f}, {r.vs_live_max:.2f}] | {r.draws_agree:.2f} "
            f"| {r.proxy_best} | {r.seconds:.0f} |"
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    fig, axes = plt.subplots(1, len(live), figsize=(4.2 * len(live), 3.6), squeeze=False)
    for ax, dataset in zip(axes[0], sorted(live), strict=True):
        from hpotext.selection.validate import spearman

        part = rows[rows.dataset == dataset]
        for count, group in part.groupby("members"):
            rhos = [spearman(r, live[dataset]) for r in group.proxy_ranks]
            ax.scatter([count] * len(rhos), rhos, alpha=0.7)
        ax.set_xlabel("surrogates replayed over")
        ax.set_title(dataset, fontsize=9)
    axes[0][0].set_ylabel("proxy vs live Spearman")
    save_figure(fig, out)


def main() -> None:
    fixed_hash_seed()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", required=True,
                        help="a proxy validation's --keep folder")  # fmt: skip
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--members", nargs="+", type=int, default=[1, 5])
    parser.add_argument("--draws", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=10, help="replay seeds per optimizer")
    parser.add_argument("--jobs", type=int, default=2, help="units replayed at once")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    root = Path(args.source)
    folders = {d: study_folder(root, d) for d in args.datasets}
    live = {d: json.loads((f / "selection" / "validation.json").read_text())["live_mean_ranks"]
            for d, f in folders.items()}  # fmt: skip
    jobs = [(str(folders[d]), d, m, k, args.seeds)
            for d in args.datasets for m in args.members for k in range(args.draws)]  # fmt: skip
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = pd.DataFrame(list(pool.map(unit, jobs)))
    write(rows, live, args)


if __name__ == "__main__":
    main()
