"""Optimizer comparison: regret, AUC, time to target, ranks, tests, selection, report, plots."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from hpotext.errors import ConfigError
from hpotext.report.plots import selection as plots_compare
from hpotext.selection.rule import optimizer_choice, select, selection_report
from hpotext.selection.stats import (
    anytime_curves,
    critical_difference,
    friedman,
    initial_regret,
    ranks,
    ranks_at_budgets,
    regret_curve,
    run_metrics,
)

BEST, BUDGET = 0.1, 10.0


def tiny() -> pd.DataFrame:
    """Two runs. a/0: trials at cost 2 (incumbent 0.5) and 6 (0.3).
    b/0: trial at cost 3 (0.7) and at cost 12 (0.1, past the budget so ignored)."""
    return pd.DataFrame(
        {
            "optimizer": ["a", "a", "b", "b"],
            "seed": [0, 0, 0, 0],
            "cost": [2.0, 6.0, 3.0, 12.0],
            "incumbent_true": [0.5, 0.3, 0.7, 0.1],
        }
    )


def synthetic(quality: dict[str, float], seeds: int = 6, trials: int = 8) -> pd.DataFrame:
    """Runs whose incumbent decays towards BEST; a lower quality value converges faster."""
    rng = np.random.default_rng(0)
    rows = []
    for opt, q in quality.items():
        for seed in range(seeds):
            cost, inc = 0.0, 0.9
            for _ in range(trials):
                cost += float(rng.uniform(0.5, 1.5))
                inc = min(inc, BEST + (0.8 * q + 0.05) * float(rng.uniform(0.2, 1.0)))
                rows.append({"optimizer": opt, "seed": seed, "cost": cost, "incumbent_true": inc})
    return pd.DataFrame(rows)


def metrics_table(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"optimizer": opt, "seed": seed, "auc": v}
        for opt, vals in values.items()
        for seed, v in enumerate(vals)
    ]
    return pd.DataFrame(rows)


def test_initial_and_regret_curve_step_function() -> None:
    traj = tiny()
    # Worst first-trial incumbent is b's 0.7 -> initial regret 0.7 - 0.1 = 0.6.
    assert initial_regret(traj, BEST) == pytest.approx(0.6)
    run = traj[traj["optimizer"] == "a"]
    grid = np.array([0.0, 1.99, 2.0, 5.0, 6.0, 10.0])
    curve = regret_curve(run, grid, BEST, 0.6)
    np.testing.assert_allclose(curve, [0.6, 0.6, 0.4, 0.4, 0.2, 0.2])


def test_regret_is_clipped_and_follows_a_worse_incumbent() -> None:
    run = pd.DataFrame({"cost": [1.0, 2.0], "incumbent_true": [0.05, 0.3]})
    # 0.05 is below best_true -> regret 0; the later, truly worse incumbent counts as 0.2.
    np.testing.assert_allclose(regret_curve(run, [1.0, 3.0], BEST, 0.5), [0.0, 0.2])


def test_auc_final_regret_and_time_to_target_by_hand() -> None:
    m = run_metrics(tiny(), BEST, BUDGET, target=0.3).set_index("optimizer")
    # a: regret 0.6 on [0,2), 0.4 on [2,6), 0.2 on [6,10]:
    #    area = 0.6*2 + 0.4*4 + 0.2*4 = 1.2 + 1.6 + 0.8 = 3.6; AUC = 3.6 / (10 * 0.6) = 0.6.
    # b: regret 0.6 on [0,3) and 0.6 on [3,10] (cost-12 trial is past the budget):
    #    area = 6.0; AUC = 6.0 / 6.0 = 1.0.
    assert m.loc["a", "auc"] == pytest.approx(0.6)
    assert m.loc["b", "auc"] == pytest.approx(1.0)
    assert m.loc["a", "final_regret"] == pytest.approx(0.2)
    assert m.loc["b", "final_regret"] == pytest.approx(0.6)
    # Target 0.3: a first gets regret <= 0.3 at cost 6; b never does -> budget, not reached.
    assert m.loc["a", "time_to_target"] == pytest.approx(6.0)
    assert bool(m.loc["a", "reached"])
    assert m.loc["b", "time_to_target"] == BUDGET
    assert not bool(m.loc["b", "reached"])


def test_default_target_is_median_final_regret() -> None:
    m = run_metrics(tiny(), BEST, BUDGET).set_index("optimizer")
    # Final regrets 0.2 and 0.6 -> target 0.4, which a reaches at its first trial (cost 2).
    assert m.loc["a", "target"] == pytest.approx(0.4)
    assert m.loc["a", "time_to_target"] == pytest.approx(2.0)


def test_auc_stays_in_unit_interval_when_incumbent_worsens() -> None:
    traj = pd.DataFrame(
        {"optimizer": ["a", "a"], "seed": [0, 0], "cost": [1.0, 5.0], "incumbent_true": [0.3, 0.5]}
    )
    # initial 0.2, but regret 0.4 after cost 5 -> scale 0.4:
    # area = 0.2*1 + 0.2*4 + 0.4*5 = 3.0; AUC = 3.0 / (10 * 0.4) = 0.75.
    m = run_metrics(traj, BEST, BUDGET)
    assert m["auc"].iloc[0] == pytest.approx(0.75)


def test_anytime_curves_mean_and_t_interval() -> None:
    traj = synthetic({"x": 0.5, "y": 0.1}, seeds=4)
    curves = anytime_curves(traj, BEST, BUDGET, points=11)
    assert set(curves["optimizer"]) == {"x", "y"}
    assert len(curves) == 22
    x = curves[curves["optimizer"] == "x"].reset_index(drop=True)
    initial = initial_regret(traj, BEST)
    grid = np.linspace(0, BUDGET, 11)
    runs = [regret_curve(r, grid, BEST, initial) for _, r in traj[traj.optimizer == "x"]
            .groupby("seed")]  # fmt: skip
    values = np.vstack(runs)
    half = 3.182446305284263 * values.std(axis=0, ddof=1) / 2  # t_{0.975, 3}, sqrt(4) = 2
    np.testing.assert_allclose(x["mean"], values.mean(axis=0))
    np.testing.assert_allclose(x["high"] - x["mean"], half)
    assert x["mean"].iloc[0] == pytest.approx(initial)


def test_ranks_average_ties() -> None:
    metrics = metrics_table({"a": [0.1, 0.2], "b": [0.1, 0.1], "c": [0.3, 0.1]})
    # seed 0: a, b tie at 0.1 -> 1.5, 1.5; c -> 3. seed 1: b, c tie -> 1.5, 1.5; a -> 3.
    r = ranks(metrics, "auc").set_index("optimizer")["mean_rank"]
    assert r.to_dict() == {"b": 1.5, "a": 2.25, "c": 2.25}
    assert list(r.index) == ["b", "a", "c"]


def test_ranks_drop_incomplete_seeds() -> None:
    metrics = metrics_table({"a": [0.1, 0.2], "b": [0.2, 0.1]}).iloc[:-1]
    r = ranks(metrics, "auc")
    assert r["n_blocks"].iloc[0] == 1
    assert r.set_index("optimizer")["mean_rank"].to_dict() == {"a": 1.0, "b": 2.0}


def test_ranks_at_budgets() -> None:
    out = ranks_at_budgets(tiny(), BEST, BUDGET, fractions=(0.1, 0.5))
    # At cost 1 both runs are at the initial regret (tie 1.5); at cost 5 a has 0.4 < b's 0.6.
    got = {(r.fraction, r.optimizer): r.mean_rank for r in out.itertuples()}
    assert got == {(0.1, "a"): 1.5, (0.1, "b"): 1.5, (0.5, "a"): 1.0, (0.5, "b"): 2.0}


def test_friedman_detects_a_dominant_optimizer() -> None:
    rng = np.random.default_rng(1)
    noise = rng.uniform(0, 0.05, size=(3, 10))
    metrics = metrics_table(
        {"best": list(0.1 + noise[0]), "mid": list(0.5 + noise[1]), "bad": list(0.6 + noise[2])}
    )
    out = friedman(metrics)
    # Ranks are 1, 2, 3 on every seed: chi2 = 12n/(k(k+1)) * sum(R^2) - 3n(k+1) = 20.
    assert out["statistic"] == pytest.approx(20.0)
    assert out["p_value"] < 1e-3
    assert (out["n_blocks"], out["k"], out["reason"]) == (10, 3, None)


def test_friedman_identical_and_too_small() -> None:
    same = friedman(metrics_table({o: [0.3] * 5 for o in "abc"}))
    assert (same["statistic"], same["p_value"]) == (0.0, 1.0)
    rng = np.random.default_rng(2)
    noisy = friedman(metrics_table({o: list(rng.uniform(size=12)) for o in "abc"}))
    assert noisy["p_value"] > 0.05
    two = friedman(metrics_table({"a": [0.1, 0.2], "b": [0.2, 0.3]}))
    assert two["p_value"] is None and "3 optimizers" in two["reason"]
    one_seed = friedman(metrics_table({o: [0.1] for o in "abc"}))
    assert one_seed["p_value"] is None and "2 complete seeds" in one_seed["reason"]


def test_critical_difference() -> None:
    assert critical_difference(4, 10) == pytest.approx(2.569 * math.sqrt(4 * 5 / 60))
    assert critical_difference(4, 10) == pytest.approx(1.483, abs=1e-3)
    for k in (1, 11):
        with pytest.raises(ConfigError, match="2 to 10"):
            critical_difference(k, 10)


def test_select_significant_winner() -> None:
    rng = np.random.default_rng(3)
    values = {o: list(base + rng.uniform(0, 0.05, 20)) for o, base in
              {"tpe": 0.1, "rs": 0.5, "hb": 0.6}.items()}  # fmt: skip
    sel = select(metrics_table(values))
    assert sel.name == "tpe"
    assert sel.mean_ranks == {"tpe": 1.0, "rs": 2.0, "hb": 3.0}
    # CD = 2.343 * sqrt(3 * 4 / (6 * 20)) = 0.741 < rank gap 1 (10 seeds would give 1.048).
    assert sel.cd == pytest.approx(2.343 * math.sqrt(3 * 4 / 120))
    assert sel.tied_with == []
    assert "significantly better than the runner-up rs" in sel.reason


def test_select_not_significant_lists_close_optimizers() -> None:
    rng = np.random.default_rng(4)
    values = {o: list(rng.uniform(size=6)) for o in ("a", "b", "c")}
    sel = select(metrics_table(values))
    others = [o for o in sel.mean_ranks if o != sel.name]
    assert f"not significantly different from {', '.join(others)}" in sel.reason


def test_select_tie_breaks_on_mean_auc_then_name() -> None:
    # Equal mean ranks (1.5 each); b has the lower mean AUC (0.25 vs 0.3).
    sel = select(metrics_table({"a": [0.1, 0.5], "b": [0.2, 0.3]}))
    assert sel.name == "b" and "lower in mean AUC" in sel.reason
    assert sel.friedman["p_value"] is None and sel.tied_with == ["a"]
    # Identical everything: the name decides.
    sel = select(metrics_table({"z": [0.2, 0.3], "m": [0.3, 0.2]}))
    assert sel.name == "m" and "first by name" in sel.reason


FALLBACK = ("c", "b", "a", "x")


def clear_winner() -> pd.DataFrame:
    """a is best on each of 20 seeds, significantly."""
    rng = np.random.default_rng(3)
    values = {o: list(base + rng.uniform(0, 0.05, 20)) for o, base in
              {"a": 0.1, "b": 0.5, "c": 0.6}.items()}  # fmt: skip
    return metrics_table(values)


def test_fallback_leaves_a_significant_winner_alone() -> None:
    sel = select(clear_winner(), {"poor": False, "spearman": 0.8}, FALLBACK)
    assert (sel.name, sel.rule, sel.proxy_best) == ("a", "proxy", "a")


def test_fallback_decides_when_friedman_finds_no_difference() -> None:
    rng = np.random.default_rng(4)
    values = {o: list(rng.uniform(size=6)) for o in ("a", "b", "c")}
    plain = select(metrics_table(values))
    assert plain.friedman["p_value"] > 0.05 and plain.rule == "proxy"
    sel = select(metrics_table(values), {"poor": False, "spearman": 0.8}, FALLBACK)
    assert (sel.name, sel.rule, sel.proxy_best) == ("c", "fallback", plain.name)
    assert "cannot tell" in sel.reason and "the Friedman test finds no difference" in sel.reason
    assert sel.reason.startswith(plain.reason)  # the proxy's verdict is kept, then the rule


def test_fallback_decides_when_the_surrogate_is_poor() -> None:
    sel = select(clear_winner(), {"poor": True, "spearman": 0.31}, FALLBACK)
    assert (sel.name, sel.rule, sel.proxy_best) == ("c", "fallback", "a")
    assert "Spearman 0.31" in sel.reason


def test_fallback_only_among_those_within_the_critical_difference() -> None:
    # 20 seeds: a and b swap ranks 1/2, c and d are always 3/4; CD(4, 20) = 1.05 > gap a-b.
    values = {"a": [0.1, 0.2] * 10, "b": [0.2, 0.1] * 10, "c": [0.5] * 20, "d": [0.6] * 20}
    metrics = metrics_table(values)
    plain = select(metrics)
    assert plain.friedman["p_value"] < 0.05 and set(plain.tied_with) <= {"b", "c"}
    pool = {plain.name, *plain.tied_with}
    sel = select(metrics, None, ("d", "b", "a", "c"))
    assert sel.rule == "fallback" and sel.name == "b" and "d" not in pool
    assert "within the critical difference" in sel.reason
    # none of the tied ones in the order: the proxy's best stays
    assert select(metrics, None, ("d",)).name == plain.name


def test_optimizer_choice_says_which_rule_decided(tmp_path) -> None:
    assert optimizer_choice("asha", None)["rule"] == "config"
    path = tmp_path / "optimizer.json"
    path.write_text(json.dumps({"name": "c", "reason": "r.", "rule": "fallback"}))
    assert optimizer_choice("auto", str(path)) == {"name": "c", "reason": "r.", "rule": "fallback"}
    with pytest.raises(ConfigError, match="no selection file"):
        optimizer_choice("auto", None)


def test_default_fallback_order_is_the_committed_live_mean_rank() -> None:
    """proxy.fallback's default: mean over the proxy validation's datasets of each optimizer's
    live mean rank (benchmarks/results/proxy_validation_scratch*.md, ties by name); rerunning
    the validation updates it."""
    import re
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[1]
    row = r"^\| (\w+) \| [0-9.]+ \| ([0-9.]+) \| [0-9.]+ \|$"
    per_dataset = [
        dict(re.findall(row, part, flags=re.M))
        for md in sorted((root / "benchmarks/results").glob("proxy_validation_scratch*.md"))
        for part in md.read_text().split("\n## ")[1:]
    ]
    per_dataset = [d for d in per_dataset if d]
    assert len(per_dataset) >= 3
    names = set(per_dataset[0])
    assert all(set(d) == names for d in per_dataset)
    mean = {o: sum(float(d[o]) for d in per_dataset) / len(per_dataset) for o in names}
    expected = sorted(names, key=lambda o: (round(mean[o], 2), o))
    schema = yaml.safe_load((root / "config/schema.yaml").read_text())
    default = schema["properties"]["proxy"]["properties"]["fallback"]["default"]
    assert default == expected


def test_bad_input_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="incumbent_true"):
        run_metrics(tiny().drop(columns="incumbent_true"), BEST, BUDGET)
    with pytest.raises(ConfigError, match="budget"):
        run_metrics(tiny(), BEST, 0.0)


def test_selection_report_writes_json_and_markdown(tmp_path) -> None:
    traj = synthetic({"good": 0.05, "ok": 0.4, "bad": 0.9})
    out_json, out_md = tmp_path / "sel.json", tmp_path / "sel.md"
    sel = selection_report(traj, BEST, BUDGET, out_json, out_md)
    data = json.loads(out_json.read_text())
    assert data["name"] == sel.name == "good"
    assert data["reason"] == sel.reason
    assert set(data["optimizers"]) == {"good", "ok", "bad"}
    assert set(data["optimizers"]["good"]) >= {"auc", "final_regret", "time_to_target"}
    assert set(data["ranks_at_budgets"]) == {"0.25", "0.5", "1"}
    assert data["cd"] == pytest.approx(sel.cd)
    assert data["friedman"]["p_value"] < 0.05
    md = out_md.read_text()
    assert "| good |" in md and sel.reason in md
    # Deterministic: a second run writes the same bytes.
    selection_report(traj, BEST, BUDGET, tmp_path / "b.json", tmp_path / "b.md")
    assert (tmp_path / "b.json").read_text() == out_json.read_text()


def test_plots_write_png(tmp_path) -> None:
    traj = synthetic({"good": 0.05, "ok": 0.4, "bad": 0.9, "worse": 1.0}, seeds=3)
    curves = anytime_curves(traj, BEST, BUDGET, points=20)
    plots_compare.anytime_plot(curves, tmp_path / "anytime.png")
    sel = select(run_metrics(traj, BEST, BUDGET))
    plots_compare.cd_diagram(sel.mean_ranks, sel.cd, tmp_path / "cd.png")
    for name in ("anytime.png", "cd.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
