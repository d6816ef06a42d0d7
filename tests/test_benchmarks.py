"""Benchmark scripts' own logic: peers.py's measures on hand-made evaluations and the NePS
space it passes; proxy_validation.py's targets and limits lines."""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.fused_optimizer import family_prior
from benchmarks.fused_optimizer import table as fused_table
from benchmarks.peers import (
    VARIANTS,
    best_peer_of,
    best_so_far,
    dataset_lines,
    hpotext_options,
    own_tempdir,
    pipeline_space,
    ratio,
    seed_top10,
    summary,
    targets,
    time_to,
    times,
    top10,
)
from benchmarks.proxy_cv import table as cv_table
from benchmarks.proxy_cv import verdict as cv_verdict
from benchmarks.proxy_surrogates import summarize as summarize_surrogates
from benchmarks.proxy_validation import frame_of, verdict
from benchmarks.proxy_validation import write as write_validation
from hpotext import space as space_mod

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 100.0


def evals() -> pd.DataFrame:
    """Two seeds; per variant (t, config, val accuracy) evaluations, hpotext faster to 0.8."""
    plan = {
        "optuna": [(20, "a", 0.6), (60, "a", 0.8), (90, "b", 0.7)],
        "dehb": [(30, "c", 0.5), (80, "d", 0.75)],
        "neps": [(40, "e", 0.7)],
        "hpotext_1w": [(25, "f", 0.7), (50, "g", 0.8)],
        "hpotext_2w": [(10, "h", 0.81), (30, "i", 0.82), (120, "j", 0.99)],  # 120 s: too late
    }
    rows = [
        {"t": t, "config": c, "epochs": 3, "trained": 3, "val_accuracy": acc,
         "dataset": "x", "variant": v, "seed": seed}
        for seed in (0, 1) for v, events in plan.items() for t, c, acc in events
        if t <= BUDGET
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_time_to_and_best_so_far() -> None:
    run = evals().query("variant == 'optuna' and seed == 0")
    assert time_to(run, 0.8) == 60 and time_to(run, 0.9) is None
    assert best_so_far(run, 25) == 0.6 and best_so_far(run, BUDGET) == 0.8
    assert math.isnan(best_so_far(run, 10))


def test_ratio_counts_never_reached_as_the_budget() -> None:
    assert ratio(30.0, 60.0, BUDGET) == 0.5
    assert ratio(None, 50.0, BUDGET) == 2.0 and ratio(math.nan, 50.0, BUDGET) == 2.0
    assert math.isnan(ratio(10.0, None, BUDGET))


def test_summary_times_and_targets() -> None:
    e = evals()
    tests = pd.DataFrame(
        [{"variant": v, "seed": s, "test_accuracy": 0.8} for v in VARIANTS for s in (0, 1)]
    )
    table = summary(e, tests, BUDGET)
    row = table.set_index("variant").loc["optuna"]
    assert row["best_25"] == [0.6, 0.6] and row["best_100"] == [0.8, 0.8]
    assert row["evaluations"] == 3 and row["configs"] == 2 and row["epochs"] == 9
    # the joint top 10 is per (run, config): hpotext_2w's two configs in both seeds lead
    top = top10(e)
    assert list(top["variant"][:4]) == ["hpotext_2w"] * 4
    assert table.set_index("variant").loc["hpotext_2w", "top10"] == 4
    tt = times(e, BUDGET).set_index(["peer", "seed"])
    assert tt.loc[("optuna", 0), "peer_t"] == 60 and tt.loc[("optuna", 0), "hpotext_2w"] == 10
    assert tt.loc[("optuna", 0), "hpotext_1w"] == 50
    # per seed every variant's configs fit in the seed's top 10: hpotext_2w and optuna 2 + 2
    assert table.set_index("variant").loc[["hpotext_2w", "optuna"], "top10_seed"].tolist() == [4, 4]
    verdict = targets(table, {"optuna/hpotext_2w": 10 / 60}, "optuna")
    assert verdict["fast"] and verdict["top_pooled"] and "17 %" in verdict["line"]
    assert not verdict["top"] and "per seed (each seed's runs head to head" in verdict["line"]
    assert "4 vs 4 (+0 %): missed; pooled over all seeds' runs 4 vs 2 (+100 %): met" in (
        verdict["line"]
    )
    lead = table.assign(top10_seed=[6 if v == "hpotext_2w" else 3 for v in table.variant])
    assert targets(lead, {"optuna/hpotext_2w": 10 / 60}, "optuna")["top"]
    slow = targets(table, {"optuna/hpotext_2w": 0.9}, "optuna")
    assert not slow["fast"] and "missed" in slow["line"]


def test_seed_top10_ranks_each_seeds_runs_on_their_own() -> None:
    """One lucky run fills the pooled top 10; per seed the other seed's runs count too."""
    rows = [{"variant": "optuna", "seed": 0, "config": f"o{i}", "val_accuracy": 0.9 + i / 100}
            for i in range(10)]  # fmt: skip
    rows += [{"variant": "hpotext_2w", "seed": s, "config": f"h{s}{i}", "val_accuracy": 0.8}
             for s in (0, 1) for i in range(10)]  # fmt: skip
    rows += [{"variant": "optuna", "seed": 1, "config": "x", "val_accuracy": 0.85}]
    e = pd.DataFrame(rows)
    assert set(top10(e).variant) == {"optuna"}
    counts = seed_top10(e).variant.value_counts()
    assert counts["optuna"] == 11 and counts["hpotext_2w"] == 9


def test_a_subset_of_variants_picks_the_best_peer_among_those_that_ran() -> None:
    """--variants optuna hpotext_2w: the peers left out are not asked for; without hpotext_2w
    or a peer the targets say they were not evaluated instead of failing."""
    e = evals()
    tests = pd.DataFrame(
        [{"variant": v, "seed": s, "test_accuracy": 0.8} for v in VARIANTS for s in (0, 1)]
    )
    only = e[e.variant.isin(["optuna", "hpotext_2w"])]
    table = summary(only, tests, BUDGET)
    assert best_peer_of(table) == "optuna"
    lines, verdict = dataset_lines("x", table, times(only, BUDGET), BUDGET)
    assert verdict["best_peer"] == "optuna" and "Best peer" in verdict["line"]
    mine = e[e.variant.isin(["hpotext_1w", "hpotext_2w"])]
    table = summary(mine, tests, BUDGET)
    assert best_peer_of(table) is None
    _, verdict = dataset_lines("x", table, times(mine, BUDGET), BUDGET)
    assert "not evaluated" in verdict["line"] and not verdict["fast"]


def test_peers_portfolio_leaves_out_the_searched_dataset() -> None:
    """--portfolio N: hpotext's jobs get N configs of the other datasets; the ablation none."""
    from hpotext.space import portfolio

    cfg = {"search": {"space": "config/spaces/scratch.yaml"}}
    job = {"variant": "hpotext_2w", "dataset": "trec", "portfolio": 4, "config": cfg}
    initial = hpotext_options(job)["initial"]
    space = space_mod.load(str(ROOT / "config/spaces/scratch.yaml"))
    entries = portfolio.read(ROOT / "config/portfolio.yaml")
    assert initial == portfolio.select(entries, space, 4, ("trec",)) and len(initial) == 4
    assert hpotext_options({**job, "portfolio": 0}) == {}
    assert hpotext_options({**job, "variant": "hpotext_1w_noprior"}) == {"prior_first": False}


def test_pipeline_space_keeps_every_prior() -> None:
    """NePS's own converter drops priors that are 0 (label_smoothing's); ours keeps them."""
    from neps.space.neps_spaces.neps_space import convert_neps_to_classic_search_space

    from hpotext.optimizers._convert import to_neps

    space = space_mod.load(ROOT / "config" / "spaces" / "scratch.yaml")
    classic = to_neps(space).elements
    back = convert_neps_to_classic_search_space(pipeline_space(space))
    assert back is not None and set(back.elements) == set(classic)
    for name, p in classic.items():
        q = back.elements[name]
        assert q.prior == p.prior, name
        if not getattr(p, "is_fidelity", False):
            assert q.prior_confidence == p.prior_confidence, name
    assert back.elements["label_smoothing"].prior == pytest.approx(0.0)


def validation(dataset: str, live: dict[str, float], selected: str, rho: float) -> dict:
    ranked = sorted(live, key=live.__getitem__)
    return {
        "dataset": dataset,
        "quality": {"spearman": 0.8},
        "validation": {
            "selected": selected, "spearman": rho, "spearman_ci95": [0.2, 0.9],
            "live_mean_ranks": live, "proxy_mean_ranks": {o: 2.0 for o in live},
            "live_final_regret": {o: 0.01 for o in live}, "live_best": ranked[0],
            "selected_live_place": ranked.index(selected) + 1,
            "selected_in_live_top2": ranked.index(selected) < 2,
        },
    }  # fmt: skip


def test_proxy_validation_verdict_names_each_target_and_the_fallback_order() -> None:
    found = [
        validation("a", {"tpe": 1.0, "asha": 2.0, "random": 3.0}, "asha", 0.8),
        validation("b", {"tpe": 1.5, "asha": 2.5, "random": 2.0}, "asha", 0.5),
    ]
    lines = verdict(found, frame_of(found), seeds=3)
    text = "\n".join(lines)
    assert "a 0.80, CI low end 0.20 (met)" in text and "b 0.50, CI low end 0.20 (missed)" in text
    assert "a: asha places 2 (met)" in text and "b: asha places 3 (missed)" in text
    assert "**What limits it**: 3 live seeds" in text
    assert "the live best tpe has proxy mean rank 2.00" in text
    # 3 optimizers, 3 seeds: CD 1.91, so on dataset a all three are within it of tpe's 1.0
    assert "3 of 3 optimizers are within the live ranking's own Nemenyi critical " in text
    assert "critical difference 1.91 of its best" in text
    assert "tpe 1.25, asha 2.25, random 2.50." in lines[-1]
    assert "half of the live seeds" not in text  # no split-half measured: none claimed
    found[1]["validation"]["live_split_half"] = {"spearman": 0.36, "ceiling": 0.72,
                                                 "seeds_per_half": 5.0}  # fmt: skip
    text = "\n".join(verdict(found, frame_of(found), seeds=3))
    assert "half of the live seeds against the other half agree at Spearman 0.36, so about " \
        "0.72 is the most any proxy can be expected to reach" in text


def test_proxy_validation_header_names_every_changed_proxy_setting(tmp_path: Path) -> None:
    found = [validation("a", {"tpe": 1.0, "asha": 2.0, "random": 3.0}, "asha", 0.8)]
    found[0].update(seconds=1.0, selection={"reason": "asha by the fallback."})
    args = argparse.Namespace(space="scratch", seeds=3, budget=45.0, proxy_configs=45,
                              proxy_rows=2400, out=str(tmp_path / "pv"))  # fmt: skip
    write_validation(found, args)
    text = (tmp_path / "pv.md").read_text()
    assert "--budget 45 --proxy-configs 45 --proxy-rows 2400`" in text
    assert "the schema's proxy defaults but 45 proxy configs and 2400 proxy rows," in text
    assert "| a | 0.80 | 0.80 | [0.20, 0.90] | undefined | asha (proxy) |" in text
    assert text.splitlines()[6].endswith("| tpe | 1 |")  # wall seconds, nothing kept
    found[0].update(kept_runs=4)
    found[0]["validation"]["seeds"] = [0, 1, 2]
    write_validation(found, args)
    assert "| tpe | 1 (resumed: 4 of 9 live runs kept) |" in (tmp_path / "pv.md").read_text()
    write_validation(found, argparse.Namespace(**{**vars(args), "proxy_configs": None,
                                                  "proxy_rows": None}))  # fmt: skip
    assert "--budget 45`: the scratch space" in (tmp_path / "pv.md").read_text()


def test_peer_processes_keep_temporary_files_in_their_run_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A peer ended by SIGTERM cleans nothing up: its checkpoints must sit where the
    benchmark's own work folder removes them, not in the system's /tmp."""
    monkeypatch.setattr(tempfile, "tempdir", None)
    run = tmp_path / "runs" / "optuna_seed0"
    own_tempdir({"tmp": str(run / "tmp")})
    made = Path(tempfile.mkdtemp(prefix="hpotext-peer-"))
    assert made.parent == run / "tmp"


def test_proxy_surrogates_scores_each_draw_against_live_and_against_the_other_draws() -> None:
    live = {"a": 1.0, "b": 2.0, "c": 3.0}
    rows = pd.DataFrame([
        {"dataset": "d", "members": 1, "draw": 0, "proxy_ranks": live, "seconds": 2.0},
        {"dataset": "d", "members": 1, "draw": 1, "proxy_ranks": {"a": 3.0, "b": 2.0, "c": 1.0},
         "seconds": 4.0},
        {"dataset": "d", "members": 5, "draw": 0, "proxy_ranks": live, "seconds": 3.0},
        {"dataset": "d", "members": 5, "draw": 1, "proxy_ranks": {"a": 1.0, "b": 3.0, "c": 2.0},
         "seconds": 3.0},
    ])  # fmt: skip
    table = summarize_surrogates(rows, {"d": live}).set_index("members")
    one, five = table.loc[1], table.loc[5]
    assert one.vs_live_mean == pytest.approx(0.0) and one.vs_live_min == pytest.approx(-1.0)
    assert one.draws_agree == pytest.approx(-1.0) and one.proxy_best == "a, c"
    assert five.vs_live_mean == pytest.approx(0.75) and five.draws_agree == pytest.approx(0.5)
    assert one.seconds == pytest.approx(3.0) and int(five.draws) == 2


def test_command_prints_the_flags_as_typed_and_leaves_out_the_unset_ones() -> None:
    from benchmarks.common import command

    args = argparse.Namespace(datasets=["vader"], budget=45.0, rows=None, reuse=True,
                              quick=False, source="/tmp/k", portfolio=0)  # fmt: skip
    text = command("x", args, ["datasets", "budget", "rows", "reuse", "quick", "from=source",
                               "portfolio", "missing"], {"portfolio": 0})  # fmt: skip
    assert text == "`python benchmarks/x.py --datasets vader --budget 45 --reuse --from /tmp/k`"
    args.datasets = ["vader", "trec"]
    assert command("x", args, ["datasets"], {"datasets": ["vader", "trec"]}) == (
        "`python benchmarks/x.py`"
    )


def test_fused_optimizer_trains_each_family_at_its_prior_and_tables_the_speed_up() -> None:
    space = space_mod.load(ROOT / "config" / "spaces" / "scratch.yaml")
    lstm = family_prior(space, "lstm")
    space.validate(lstm)
    assert lstm["model"] == "lstm" and lstm["lstm__hidden_dim"] == 128
    assert not any(key.startswith("cnn__") for key in lstm)
    runs = pd.DataFrame(
        [{"dataset": "x", "family": "boe", "seed": seed, "variant": variant,
          "epoch_seconds": seconds, "val_accuracy": acc}
         for seed, variant, seconds, acc in [(0, "default", 2.0, 0.70), (0, "fused", 1.0, 0.70),
                                             (1, "fused", 0.5, 0.80), (1, "default", 1.0, 0.81)]]
    )  # fmt: skip
    row = fused_table(runs).iloc[0]
    assert row["default s/epoch"] == "1.50" and row["fused s/epoch"] == "0.75"
    assert row["speed-up"] == "2.00x" and row["largest per-seed acc difference"] == "0.0100"


def test_seed_lines_give_each_seeds_runs_and_their_time_to_the_peers_best() -> None:
    from benchmarks.peers import seed_lines

    e = evals()
    tests = pd.DataFrame(
        [{"dataset": "x", "variant": v, "seed": s, "test_accuracy": 0.5 + s / 10}
         for s in (0, 1) for v in VARIANTS]
    )  # fmt: skip
    lines = seed_lines(e, tests, times(e, BUDGET), BUDGET, "optuna")
    rows = [line.split(" | ") for line in lines if line.startswith(("| 0 ", "| 1 "))]
    assert [(r[0], r[1]) for r in rows][:2] == [("| 0", "optuna"), ("| 0", "dehb")]
    by = {(r[0], r[1]): r for r in rows}
    # optuna reaches its best 0.8 at 60 s; hpotext_2w has 0.81 at 10 s: ratio 10 / 60
    assert by[("| 0", "hpotext_2w")][8:] == ["10", "0.17 |"]
    assert by[("| 0", "optuna")][8:] == ["60", "- |"]
    assert by[("| 1", "neps")][2:5] == ["-", "0.7000", "0.7000"]  # one evaluation, at 40 s
    assert by[("| 1", "dehb")][8] == "-"  # never reaches 0.8
    assert seed_lines(e, tests, times(e, BUDGET), BUDGET, None) == []


def test_proxy_cv_reports_the_default_table_and_the_spread_over_tables() -> None:
    runs = pd.DataFrame(
        [{"dataset": "x", "table_seed": seed, "configs": 30, "rows": 1200, "table_seconds": 9.0,
          "single": single, "stage": stage, "stage_sd": 0.01}
         for seed, single, stage in [(0, [0.6, 0.8, 0.9], 0.75), (1, [0.5, 0.4, 0.6], 0.45)]]
    )  # fmt: skip
    rows = cv_table(runs).splitlines()
    assert rows[2] == "| x | 0 | 0.600 | 0.600-0.900 | 0.767 ± 0.125 | 0.750 ± 0.010 | 9 |"
    (line,) = cv_verdict(runs)
    assert line.startswith("x: the default table (proxy seed 0) 0.75 (met); over 2 tables 0.60")
    assert "1 of 2 at or above 0.7" in line
    (line,) = cv_verdict(runs[runs.table_seed == 1])
    assert "not measured (missed)" in line
