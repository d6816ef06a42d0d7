"""Does the proxy predict? Every optimizer run live on the real search, ranked like on the proxy.

``proxy.validate: true`` adds one ``validate_run`` job per (optimizer, seed): a one-worker search
on the study's own space and search subset with a small epoch budget and a store of its own.
``validate_proxy`` turns each run into a trajectory (incumbent validation error against epochs
trained), ranks the optimizers on normalized regret AUC exactly as the selection stage does, and
reports the Spearman rank correlation between the proxy's mean ranks and the live ones.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import pandas as pd

from hpotext.io import canonical_json
from hpotext.optimizers.records import Trial
from hpotext.proxy.trajectory import TRAJECTORY, Incumbent, better_incumbent

log = logging.getLogger(__name__)


POOR_AGREEMENT = 0.5  # below this Spearman the proxy's ordering did not carry over
BOOTSTRAP = 2000  # resamples of the live seeds for the Spearman CI
SPLITS = 500  # random halvings of the live seeds for the split-half reliability


def live_trajectory(trials: dict[int, Trial], optimizer: str, seed: int) -> pd.DataFrame:
    """One row per finished trial in the order they finished, as ``surrogate.run_optimizer``
    writes it, with cost = cumulative epochs trained and incumbent_true = the observed
    validation error of the incumbent (best objective at the highest fidelity reached so far)."""
    done = [t for t in trials.values() if t.status != "pending"]
    done.sort(key=lambda t: (t.finished_at or math.inf, t.trial_id))
    best: Incumbent | None = None
    spent, rows = 0, []
    for t in done:
        spent += t.epochs_trained
        value = t.objective if t.objective is not None else math.nan
        if t.status in ("completed", "stopped") and math.isfinite(value):
            best = better_incumbent(best, (t.fidelity, value, t.trial_id))
        rows.append(
            {
                "optimizer": optimizer,
                "seed": int(seed),
                "trial": t.trial_id,
                "fidelity": t.fidelity,
                "epochs_trained": t.epochs_trained,
                "cost": float(spent),
                "objective": value,
                "incumbent_trial": best[2] if best else -1,
                "incumbent_true": best[1] if best else math.nan,
                "config": canonical_json(t.config),
            }
        )
    return pd.DataFrame(rows, columns=list(TRAJECTORY))


def spearman(a: dict[str, float], b: dict[str, float]) -> float | None:
    """Spearman rank correlation of two scores over their common keys (None if undefined)."""
    from scipy import stats

    keys = sorted(set(a) & set(b))
    x, y = [a[k] for k in keys], [b[k] for k in keys]
    if len(keys) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    return float(stats.spearmanr(x, y).statistic)


def _seed_ranks(live_auc: pd.DataFrame) -> tuple[list[str], Any]:
    """The optimizers and their rank on every live seed (rows of the seeds x optimizers AUC
    table, ranked within each row)."""
    per_seed = live_auc.rank(axis=1, method="average").to_numpy(float)
    return [str(c) for c in live_auc.columns], per_seed


def _mean_ranks(names: list[str], per_seed: Any, rows: Any) -> dict[str, float]:
    """Each optimizer's mean rank over the seeds ``rows`` (indices into ``per_seed``)."""
    return dict(zip(names, per_seed[rows].mean(axis=0), strict=True))


def spearman_ci(
    proxy_ranks: dict[str, float], live_auc: pd.DataFrame, level: float = 0.95, seed: int = 0
) -> list[float] | None:
    """Percentile bootstrap CI of the proxy-vs-live Spearman: the live seeds (rows of the seeds x
    optimizers AUC table) resampled with replacement, ranked per seed and averaged again; None
    when fewer than 2 seeds or no resample gives a defined correlation."""
    import numpy as np

    if len(live_auc) < 2:
        return None
    names, per_seed = _seed_ranks(live_auc)
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(BOOTSTRAP):
        rows = rng.integers(len(per_seed), size=len(per_seed))
        rho = spearman(proxy_ranks, _mean_ranks(names, per_seed, rows))
        if rho is not None:
            found.append(rho)
    if not found:
        return None
    tail = 100 * (1 - level) / 2
    return [float(np.percentile(found, tail)), float(np.percentile(found, 100 - tail))]


def split_half(live_auc: pd.DataFrame, seed: int = 0) -> dict[str, float] | None:
    """How well the live ranking agrees with itself: the live seeds (rows of the seeds x
    optimizers AUC table) split at random into two halves, each half ranked per seed and
    averaged, and the Spearman between the halves' mean ranks averaged over ``SPLITS`` splits.

    ``ceiling`` is the most a proxy (or any predictor) can be expected to correlate with the
    mean rank over all the seeds: sqrt of the split-half value stepped up to the full seed count
    (Spearman-Brown, 2r / (1 + r)), 0 when the halves do not agree; an approximation for rank
    correlations. None when fewer than 4 seeds or no split gives a defined correlation.
    """
    import numpy as np

    if len(live_auc) < 4:
        return None
    names, per_seed = _seed_ranks(live_auc)
    rng = np.random.default_rng(seed)
    half = len(per_seed) // 2
    found = []
    for _ in range(SPLITS):
        order = rng.permutation(len(per_seed))
        rho = spearman(_mean_ranks(names, per_seed, order[:half]),
                       _mean_ranks(names, per_seed, order[half : 2 * half]))  # fmt: skip
        if rho is not None:
            found.append(rho)
    if not found:
        return None
    r = float(np.mean(found))
    full = 2 * r / (1 + r) if r > 0 else 0.0
    return {"spearman": r, "ceiling": math.sqrt(full), "seeds_per_half": float(half)}


def live_top(live_ranks: dict[str, float], name: str) -> int | None:
    """1 + how many optimizers ranked strictly better live than ``name`` (None if not run)."""
    if name not in live_ranks:
        return None
    return 1 + sum(r < live_ranks[name] for r in live_ranks.values())


def agreement(proxy: dict[str, Any], traj: pd.DataFrame, budget: float) -> dict[str, Any]:
    """Live ranks of the optimizers and how well the proxy's ranks (``optimizer.json``) agree."""
    from hpotext.selection import stats as compare

    reference = float(traj["incumbent_true"].min())
    metrics = compare.run_metrics(traj, reference, budget)
    live = compare.ranks(metrics, "auc").set_index("optimizer")["mean_rank"]
    live_ranks = {str(k): float(v) for k, v in live.items()}
    proxy_ranks = {k: float(v) for k, v in proxy["mean_ranks"].items()}
    rho = spearman(proxy_ranks, live_ranks)
    live_best = min(live_ranks, key=lambda o: (live_ranks[o], o))
    final = metrics.groupby("optimizer")["final_regret"].mean()
    place = live_top(live_ranks, proxy["name"])
    live_auc = compare.metric_blocks(metrics, "auc")
    out: dict[str, Any] = {
        "spearman": rho,
        "spearman_ci95": spearman_ci(proxy_ranks, live_auc),
        "live_split_half": split_half(live_auc),
        "selected": proxy["name"],
        "rule": proxy.get("rule", "proxy"),
        "proxy_best": proxy.get("proxy_best", proxy["name"]),
        "live_best": live_best,
        "selected_live_rank": live_ranks.get(proxy["name"]),
        "selected_live_place": place,
        "selected_in_live_top2": place is not None and place <= 2,
        "proxy_mean_ranks": proxy_ranks,
        "live_mean_ranks": live_ranks,
        "live_final_regret": {str(k): float(v) for k, v in final.items()},
        "live_best_val_accuracy": 1.0 - reference,
        "seeds": sorted(int(s) for s in traj["seed"].unique()),
        "budget_epochs": float(budget),
    }
    if rho is None:
        out["warning"] = (
            "the rank correlation is undefined (fewer than 3 optimizers or all ranks tied); "
            "add optimizers or proxy.validate_seeds"
        )
    elif rho < POOR_AGREEMENT:
        out["warning"] = (
            f"the proxy's ordering of the optimizers did not carry over to the live search "
            f"(Spearman {rho:.2f} < {POOR_AGREEMENT}); treat the selection with care"
        )
    else:
        out["warning"] = None
    return out


def _ci(ci: list[float] | None) -> str:
    return "undefined" if ci is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def _reliability(half: dict[str, float] | None) -> str:
    if half is None:
        return "The live ranking's split-half agreement needs at least 4 live seeds.\n"
    return (
        f"The live ranking agrees with itself at Spearman {half['spearman']:.2f} (one half of the "
        f"live seeds against the other, {half['seeds_per_half']:g} each): a proxy can be expected "
        f"to reach about {half['ceiling']:.2f} against the live mean ranks at best.\n"
    )


def to_markdown(report: dict[str, Any]) -> str:
    rho = report["spearman"]
    lines = [
        "# Does the proxy predict the live search?\n",
        f"Spearman rank correlation between the proxy's and the live mean ranks: "
        f"{'undefined' if rho is None else f'{rho:.2f}'}. The proxy selected "
        f"**{report['selected']}**; live, **{report['live_best']}** ranked best "
        f"({len(report['seeds'])} seeds, {report['budget_epochs']:g} epochs each).\n",
        f"Spearman 95 % bootstrap CI over the live seeds: {_ci(report.get('spearman_ci95'))}; "
        f"the selected optimizer placed {report.get('selected_live_place')} live "
        f"({'within' if report.get('selected_in_live_top2') else 'outside'} the live top 2; "
        f"decided by the {report.get('rule', 'proxy')} rule, the proxy's best "
        f"{report.get('proxy_best', report['selected'])}).\n",
        _reliability(report.get("live_split_half")),
        "| optimizer | proxy mean rank | live mean rank | live final regret |",
        "|---|---|---|---|",
    ]
    for opt, rank in sorted(report["live_mean_ranks"].items(), key=lambda kv: (kv[1], kv[0])):
        proxy_rank = report["proxy_mean_ranks"].get(opt, math.nan)
        regret = report["live_final_regret"][opt]
        lines.append(f"| {opt} | {proxy_rank:.2f} | {rank:.2f} | {regret:.4f} |")
    if report["warning"]:
        lines.append(f"\n**Warning:** {report['warning']}.")
    return "\n".join(lines) + "\n"
