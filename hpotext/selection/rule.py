"""The selection rule: the optimizer with the best mean rank on the proxy when the proxy can tell
it from the rest, else the first of a fixed fallback order among those it cannot tell apart; its
report, and which rule decided.

The fallback order (``proxy.fallback``) defaults to the optimizers by their mean live rank over
the committed proxy validation's datasets (benchmarks/results/proxy_validation_scratch*.md: the
mean over datasets of each one's live mean rank on normalized regret AUC, ties by name).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hpotext.errors import ConfigError
from hpotext.io import json_safe, read_json, write_json, write_text
from hpotext.selection.stats import (
    check,
    critical_difference,
    friedman,
    initial_regret,
    mean_std,
    metric_blocks,
    ranks,
    ranks_at_budgets,
    run_metrics,
)


@dataclass
class Selection:
    """The chosen optimizer, why, and the statistics behind the choice."""

    name: str
    reason: str
    mean_ranks: dict[str, float]
    mean_auc: dict[str, float]
    friedman: dict[str, Any]
    cd: float
    tied_with: list[str] = field(default_factory=list)
    rule: str = "proxy"  # "proxy": the proxy's best mean rank; "fallback": proxy.fallback
    proxy_best: str = ""


def select(
    metrics: pd.DataFrame,
    quality: dict[str, Any] | None = None,
    fallback: list[str] | tuple[str, ...] = (),
) -> Selection:
    """Rank the optimizers by mean rank on normalized AUC (ties: lower mean AUC, then name) and
    say whether the best is significantly better than the runner-up (Nemenyi + Friedman).

    The best is selected when it is significantly better, or when ``fallback`` is empty. Else
    the proxy cannot tell some candidates apart: every one of them when the surrogate ranks
    held-out configs poorly (``quality["poor"]``) or the Friedman test finds no difference, the
    best and those within the critical difference of it otherwise; the first of them in the
    ``fallback`` order is selected (the best when none of them is in it).
    """
    chosen = _rank(metrics)
    if not fallback:
        return chosen
    p = chosen.friedman["p_value"]
    quality = quality or {}
    poor = bool(quality.get("poor"))
    significant = len(chosen.mean_ranks) == 1 or (
        p is not None and p < 0.05 and not chosen.tied_with
    )
    if significant and not poor:
        return chosen
    order = list(chosen.mean_ranks)
    if poor:
        why = f"its surrogate ranks held-out configs poorly (Spearman {quality['spearman']:.2f})"
        pool = order
    elif p is None or p >= 0.05:
        why = (
            f"the Friedman test finds no difference, p = {p:.3g}"
            if p is not None
            else f"no Friedman test: {chosen.friedman['reason']}"
        )
        pool = order
    else:
        why = f"they are within the critical difference {chosen.cd:.2f} of the best mean rank"
        pool = [chosen.name, *chosen.tied_with]
    ranked = [o for o in fallback if o in pool]
    if not ranked:
        return chosen
    chosen.name, chosen.rule = ranked[0], "fallback"
    chosen.reason += (
        f" The proxy cannot tell {', '.join(pool)} apart ({why}), so the fallback order "
        f"decides: {ranked[0]}, the first of them in proxy.fallback ({', '.join(fallback)})."
    )
    return chosen


def _rank(metrics: pd.DataFrame) -> Selection:
    """The proxy's best mean rank and whether it is significantly better than the rest."""
    table = metric_blocks(metrics, "auc")
    n, k = table.shape
    rank = ranks(metrics, "auc").set_index("optimizer")["mean_rank"]
    auc = table.mean(axis=0)
    order = sorted(auc.index.astype(str), key=lambda o: (rank[o], auc[o], o))
    mean_ranks = {o: float(rank[o]) for o in order}
    mean_auc = {o: float(auc[o]) for o in order}
    test = friedman(metrics, "auc")
    win = order[0]
    head = (
        f"{win} has the best mean rank on normalized AUC ({mean_ranks[win]:.2f} of {k}, "
        f"mean AUC {mean_auc[win]:.3f}, {n} seed{'s' * (n != 1)})"
    )
    if k == 1:
        return Selection(win, f"{head} and was the only optimizer compared.", mean_ranks,
                         mean_auc, test, float("nan"), [], proxy_best=win)  # fmt: skip
    cd = critical_difference(k, n)
    tied = [o for o in order[1:] if mean_ranks[o] - mean_ranks[win] <= cd]
    second = order[1]
    if mean_ranks[second] == mean_ranks[win] and mean_auc[second] != mean_auc[win]:
        head += f", tied on rank with {second} but lower in mean AUC"
    elif mean_ranks[second] == mean_ranks[win]:
        head += f", tied with {second} on rank and mean AUC and first by name"
    gap = mean_ranks[second] - mean_ranks[win]
    p = test["p_value"]
    p_text = f"Friedman p = {p:.3g}" if p is not None else f"no Friedman test as {test['reason']}"
    if p is not None and p < 0.05 and gap > cd:
        tail = (
            f"significantly better than the runner-up {second} (mean rank "
            f"{mean_ranks[second]:.2f}, difference {gap:.2f} > CD {cd:.2f}, {p_text})"
        )
    else:
        others = tied if p is not None and p < 0.05 else order[1:]
        if gap <= cd:
            why = f"rank difference to {second} {gap:.2f} <= CD {cd:.2f}"
        else:
            why = f"rank difference to {second} {gap:.2f} > CD {cd:.2f} but Friedman not < 0.05"
        tail = f"not significantly different from {', '.join(others)} ({why}; {p_text})"
    return Selection(
        win, f"{head}; it is {tail}.", mean_ranks, mean_auc, test, cd, tied, proxy_best=win
    )


def selection_report(
    traj: pd.DataFrame,
    best_true: float,
    budget: float,
    out_json: str | Path,
    out_md: str | Path,
    unit: str = "epochs",
    quality: dict[str, Any] | None = None,
    fallback: list[str] | tuple[str, ...] = (),
) -> Selection:
    """Compute every statistic, select an optimizer (``select``), write ``out_json`` and
    ``out_md`` (``unit``: what ``cost`` and ``budget`` count, simulated epochs or seconds)."""
    metrics = run_metrics(traj, best_true, budget)
    chosen = select(metrics, quality, fallback)
    at_budgets = ranks_at_budgets(traj, best_true, budget)
    per_opt: dict[str, Any] = {}
    for opt, part in metrics.groupby("optimizer", sort=True):
        per_opt[str(opt)] = {
            "n_seeds": len(part),
            "auc": mean_std(part["auc"]),
            "final_regret": mean_std(part["final_regret"]),
            "time_to_target": mean_std(part["time_to_target"]),
            "reached_fraction": float(part["reached"].mean()),
        }
    budgets = {
        f"{frac:g}": dict(zip(part["optimizer"], part["mean_rank"].astype(float), strict=True))
        for frac, part in at_budgets.groupby("fraction", sort=True)
    }
    report = {
        **asdict(chosen),
        "budget": float(budget),
        "cost_unit": unit,
        "best_true": float(best_true),
        "initial_regret": initial_regret(check(traj, budget), best_true),
        "target": float(metrics["target"].iloc[0]),
        "optimizers": per_opt,
        "ranks_at_budgets": budgets,
        "definitions": {
            "regret": "incumbent_true at the last trial with cost <= t minus best_true, >= 0",
            "initial_regret": "worst incumbent_true of any run after its first trial - best_true",
            "auc": "exact area under the regret step function over [0, budget] / "
            "(budget * initial_regret, or the worst regret reached if larger); lower is better",
            "target": "median over all runs of the final regret; time_to_target = budget if "
            "never reached",
            "ranks": "seeds are blocks, rank 1 = lowest value, ties get average ranks",
            "significance": "rank difference > Nemenyi CD (alpha 0.05) and Friedman p < 0.05",
            "rule": "proxy: the best mean rank, significantly better than the rest (or no "
            "fallback order); fallback: the first in proxy.fallback among the candidates the "
            "proxy cannot tell apart",
        },
    }
    Path(out_json).parent.mkdir(parents=True, exist_ok=True)
    write_json(json_safe(report), out_json, allow_nan=False)
    Path(out_md).parent.mkdir(parents=True, exist_ok=True)
    write_text(out_md, _markdown(report))
    return chosen


def _pm(stat: dict[str, float], digits: int) -> str:
    std = stat["std"]
    return f"{stat['mean']:.{digits}f}" + ("" if math.isnan(std) else f" ± {std:.{digits}f}")


def _markdown(report: dict[str, Any]) -> str:
    ranks_at, test = report["ranks_at_budgets"], report["friedman"]
    head = ["optimizer", "mean rank (AUC)", "AUC", "final regret", "time to target (s)",
            "reached"] + [f"rank @ {float(f):.0%} budget" for f in ranks_at]  # fmt: skip
    decided = "the proxy" if report.get("rule", "proxy") == "proxy" else "the fallback order"
    lines = [f"# Optimizer comparison\n\n**Selected: {report['name']}** (decided by {decided}). "
             f"{report['reason']}\n",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]  # fmt: skip
    for opt, rank in report["mean_ranks"].items():
        row = report["optimizers"][opt]
        cells = [opt, f"{rank:.2f}", _pm(row["auc"], 3), _pm(row["final_regret"], 4),
                 _pm(row["time_to_target"], 1), f"{row['reached_fraction']:.0%}"]  # fmt: skip
        cells += [f"{at.get(opt, float('nan')):.2f}" for at in ranks_at.values()]
        lines.append("| " + " | ".join(cells) + " |")
    stat = "n/a" if test["statistic"] is None else f"{test['statistic']:.3f}"
    p = "n/a" if test["p_value"] is None else f"{test['p_value']:.3g}"
    note = f"; {test['reason']}" if test["reason"] else ""
    lines += [
        f"\nFriedman chi² = {stat}, p = {p} (k = {test['k']} optimizers, {test['n_blocks']} "
        f"seeds{note}). Nemenyi critical difference (alpha 0.05) = {report['cd']:.3f}.",
        f"Budget {report['budget']:g} simulated {report.get('cost_unit', 'seconds')}; "
        f"initial regret {report['initial_regret']:.4g}; "
        f"time-to-target target regret {report['target']:.4g}.\n",
        "Definitions: " + "; ".join(f"*{k}*: {v}" for k, v in report["definitions"].items()),
        "",
    ]
    return "\n".join(lines)


def optimizer_choice(configured: str, selection_path: str | None) -> dict[str, str]:
    """name, reason and rule (config, proxy or fallback) of the search's optimizer: the
    configured one, or the selection stage's when it is 'auto'."""
    if configured != "auto":
        reason = "named by search.optimizer in the config (no proxy selection)"
        return {"name": configured, "reason": reason, "rule": "config"}
    if not selection_path:
        raise ConfigError("search.optimizer is auto but no selection file was given")
    picked = read_json(selection_path)
    rule = str(picked.get("rule", "proxy"))
    return {"name": str(picked["name"]), "reason": str(picked["reason"]), "rule": rule}


def chosen_optimizer(configured: str, selection_path: str | None) -> tuple[str, str]:
    """(name, reason): the configured optimizer, or the selection stage's when it is 'auto'."""
    found = optimizer_choice(configured, selection_path)
    return found["name"], found["reason"]
