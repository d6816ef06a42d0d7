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
    out: dict[str, Any] = {
        "spearman": rho,
        "selected": proxy["name"],
        "live_best": live_best,
        "selected_live_rank": live_ranks.get(proxy["name"]),
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


def to_markdown(report: dict[str, Any]) -> str:
    rho = report["spearman"]
    lines = [
        "# Does the proxy predict the live search?\n",
        f"Spearman rank correlation between the proxy's and the live mean ranks: "
        f"{'undefined' if rho is None else f'{rho:.2f}'}. The proxy selected "
        f"**{report['selected']}**; live, **{report['live_best']}** ranked best "
        f"({len(report['seeds'])} seeds, {report['budget_epochs']:g} epochs each).\n",
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
