"""proxy.validate: live trajectories from a trial store and the proxy-vs-live rank agreement."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from hpotext.errors import ConfigError
from hpotext.optimizers.records import Trial
from hpotext.selection.steps import validate_proxy
from hpotext.selection.validate import agreement, live_trajectory, spearman, to_markdown
from hpotext.workflow.config import validate_config


def trial(tid: int, fidelity: int, objective: float | None, epochs: int, finished: float,
          status: str = "completed") -> Trial:  # fmt: skip
    return Trial(
        trial_id=tid,
        config={"lr": 0.01 * (tid + 1)},
        fidelity=fidelity,
        parent=None,
        worker="w0",
        asked_at=0.0,
        status=status,
        objective=objective,
        epochs_trained=epochs,
        finished_at=finished,
    )


def test_live_trajectory_orders_by_finish_and_keeps_the_highest_fidelity_incumbent() -> None:
    trials = {
        0: trial(0, 1, 0.30, 1, finished=1.0),
        1: trial(1, 1, 0.20, 1, finished=3.0),
        2: trial(2, 3, 0.25, 2, finished=2.0),  # finished before trial 1
        3: trial(3, 3, None, 3, finished=4.0, status="failed"),
        4: trial(4, 3, math.nan, 3, finished=5.0, status="diverged"),
        5: Trial(5, {"lr": 0.5}, 1, None, "w0", 0.0),  # pending: not in the trajectory
    }
    traj = live_trajectory(trials, "asha", 7)
    assert list(traj["trial"]) == [0, 2, 1, 3, 4]
    assert list(traj["cost"]) == [1.0, 3.0, 4.0, 7.0, 10.0]  # cumulative epochs trained
    # trial 1's lower error is at fidelity 1; the incumbent stays trial 2 at fidelity 3
    assert list(traj["incumbent_trial"]) == [0, 2, 2, 2, 2]
    assert list(traj["incumbent_true"]) == [0.30, 0.25, 0.25, 0.25, 0.25]
    assert set(traj["optimizer"]) == {"asha"} and set(traj["seed"]) == {7}
    assert json.loads(traj["config"].iloc[0]) == {"lr": 0.01}


def runs(order: list[str], seeds: int = 3) -> pd.DataFrame:
    """Live runs where the optimizer listed first reaches low error fastest on every seed."""
    rows = []
    for rank, opt in enumerate(order):
        for seed in range(seeds):
            for step, cost in enumerate((2.0, 5.0, 9.0)):
                err = 0.2 + 0.05 * rank + 0.1 * (2 - step) + 0.001 * seed
                rows.append({"optimizer": opt, "seed": seed, "cost": cost,
                             "incumbent_true": err})  # fmt: skip
    return pd.DataFrame(rows)


def proxy(ranks: dict[str, float]) -> dict[str, object]:
    return {"name": min(ranks, key=ranks.__getitem__), "mean_ranks": ranks}


def test_agreement_is_one_when_the_live_ranking_matches_the_proxy() -> None:
    report = agreement(proxy({"a": 1.0, "b": 2.0, "c": 3.0}), runs(["a", "b", "c"]), 10.0)
    assert report["spearman"] == pytest.approx(1.0)
    assert report["live_mean_ranks"] == {"a": 1.0, "b": 2.0, "c": 3.0}
    assert report["selected"] == report["live_best"] == "a"
    assert report["selected_live_rank"] == 1.0 and report["warning"] is None
    assert report["seeds"] == [0, 1, 2]
    assert report["live_best_val_accuracy"] == pytest.approx(0.8)
    # every seed ranks alike, so every bootstrap resample does too
    assert report["spearman_ci95"] == pytest.approx([1.0, 1.0])
    assert report["selected_live_place"] == 1 and report["selected_in_live_top2"] is True
    assert report["rule"] == "proxy" and report["proxy_best"] == "a"


def test_spearman_ci_spreads_when_the_live_seeds_disagree() -> None:
    from hpotext.selection.validate import spearman_ci

    # seed 0 agrees with the proxy, seed 1 reverses it
    auc = pd.DataFrame({"a": [0.1, 0.3], "b": [0.2, 0.2], "c": [0.3, 0.1]}, index=[0, 1])
    lo, hi = spearman_ci({"a": 1.0, "b": 2.0, "c": 3.0}, auc)
    assert lo == pytest.approx(-1.0) and hi == pytest.approx(1.0)
    assert spearman_ci({"a": 1.0, "b": 2.0, "c": 3.0}, auc.iloc[:1]) is None


def test_split_half_is_one_for_seeds_that_agree_and_undefined_below_four_seeds() -> None:
    from hpotext.selection.validate import split_half

    same = pd.DataFrame({"a": [0.1] * 4, "b": [0.2] * 4, "c": [0.3] * 4}, index=range(4))
    half = split_half(same)
    assert half == {"spearman": pytest.approx(1.0), "ceiling": pytest.approx(1.0),
                    "seeds_per_half": 2.0}  # fmt: skip
    assert split_half(same.iloc[:3]) is None


def test_split_half_is_low_when_half_the_seeds_reverse_the_order() -> None:
    from hpotext.selection.validate import split_half

    # seeds 0, 2, 4 rank a < b < c, seeds 1, 3, 5 the reverse: most halvings mix them
    rows = [[0.1, 0.2, 0.3] if s % 2 == 0 else [0.3, 0.2, 0.1] for s in range(6)]
    half = split_half(pd.DataFrame(rows, columns=["a", "b", "c"]))
    assert half is not None and half["seeds_per_half"] == 3.0
    assert -1.0 <= half["spearman"] < 0.5 and 0.0 <= half["ceiling"] < 0.85
    # a ceiling is never below the split-half agreement it was stepped up from
    assert half["ceiling"] >= max(0.0, half["spearman"])


def test_agreement_reports_the_live_split_half() -> None:
    report = agreement(proxy({"a": 1.0, "b": 2.0, "c": 3.0}), runs(["a", "b", "c"], 4), 10.0)
    assert report["live_split_half"]["spearman"] == pytest.approx(1.0)
    assert "agrees with itself at Spearman 1.00" in to_markdown(report)
    report = agreement(proxy({"a": 1.0, "b": 2.0, "c": 3.0}), runs(["a", "b", "c"]), 10.0)
    assert report["live_split_half"] is None
    assert "needs at least 4 live seeds" in to_markdown(report)


def test_agreement_warns_when_the_live_ranking_is_reversed() -> None:
    report = agreement(proxy({"a": 1.0, "b": 2.0, "c": 3.0}), runs(["c", "b", "a"]), 10.0)
    assert report["spearman"] == pytest.approx(-1.0)
    assert report["live_best"] == "c" and report["selected_live_rank"] == 3.0
    assert report["selected_live_place"] == 3 and report["selected_in_live_top2"] is False
    assert "did not carry over" in report["warning"]


def test_spearman_is_undefined_for_two_optimizers_or_ties() -> None:
    assert spearman({"a": 1, "b": 2}, {"a": 1, "b": 2}) is None
    assert spearman({"a": 1, "b": 2, "c": 3}, {"a": 2, "b": 2, "c": 2}) is None
    assert spearman({"a": 1, "b": 2, "c": 3, "x": 9}, {"a": 1, "b": 3, "c": 2}) == pytest.approx(
        0.5
    )
    report = agreement(proxy({"a": 1.0, "b": 2.0}), runs(["a", "b"]), 10.0)
    assert report["spearman"] is None and "undefined" in report["warning"]


def test_validate_proxy_writes_json_and_markdown(tmp_path) -> None:
    sel = tmp_path / "optimizer.json"
    sel.write_text(json.dumps(proxy({"a": 1.0, "b": 2.5, "c": 2.5})))
    paths = []
    for opt, part in runs(["b", "a", "c"]).groupby("optimizer"):
        paths.append(str(tmp_path / f"{opt}.parquet"))
        part.to_parquet(paths[-1])
    out_json, out_md = tmp_path / "v.json", tmp_path / "v.md"
    report = validate_proxy(str(sel), paths, 10.0, str(out_json), str(out_md))
    assert json.loads(out_json.read_text())["spearman"] == pytest.approx(report["spearman"])
    md = out_md.read_text()
    assert "| b | 2.50 | 1.00 |" in md and "live, **b** ranked best" in md


def test_validate_needs_the_auto_optimizer() -> None:
    cfg = {"dataset": "vader", "search": {"optimizer": "dehb"}, "proxy": {"validate": True}}
    with pytest.raises(ConfigError, match="set search.optimizer to auto or proxy.validate"):
        validate_config(cfg)
    ok = validate_config({"dataset": "vader", "proxy": {"validate": True}})
    assert ok["proxy"]["validate_seeds"] == 2 and ok["proxy"]["validate_budget"] == 45
