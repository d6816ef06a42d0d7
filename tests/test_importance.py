"""Importance analysis: a planted dominant hyperparameter comes first, with either backend."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hpotext import space as space_mod
from hpotext.errors import ConfigError
from hpotext.report import boundary
from hpotext.report.importance import (
    Settings,
    analyse,
    choose_fidelity,
    observations,
    ranking,
    scopes,
)
from hpotext.report.marginals import marginals
from hpotext.report.render import importance_lines, to_html
from hpotext.report.steps import importance
from hpotext.report.steps import search_plots as search_figures
from tests.toy_search import SPACE as TOY

SPACE = {  # the store tests' toy space plus a categorical of numbers
    **TOY,
    "hyperparameters": {
        **TOY["hyperparameters"],
        "embed_dim": {"type": "categorical", "choices": [32, 64, 128], "prior": 64},
    },
}


def error(config: dict) -> float:
    """Validation error dominated by the learning rate (optimum at 10^-2.5)."""
    return 0.1 + 0.2 * (math.log10(config["lr"]) + 2.5) ** 2 + 0.01 * config["dropout"]


def trial_table(n: int, fidelities: tuple[int, ...] = (9,), seed: int = 0) -> pd.DataFrame:
    """A trials.parquet-like table: n random configs, each trained to each of ``fidelities``."""
    space = space_mod.from_dict(SPACE)
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        config = space.sample(rng)
        curve = [error(config) + 0.3 / e + rng.normal(0, 0.002) for e in range(1, 10)]
        for fid in fidelities:
            rows.append({
                "trial_id": len(rows), "fidelity": fid, "status": "completed",
                "objective": curve[fid - 1], "curve": curve[:fid], "cost_seconds": 1.0 * fid,
                "epochs_trained": fid, "finished_at": float(len(rows)),
                **{f"config.{k}": v for k, v in config.items()},
            })  # fmt: skip
    table = pd.DataFrame(rows)
    table["config.cnn__num_filters"] = table.get("config.cnn__num_filters", np.nan)
    return table


@pytest.fixture(scope="module")
def space() -> space_mod.Space:
    return space_mod.from_dict(SPACE)


def test_observations_keep_each_config_once_at_its_longest_curve(space) -> None:
    trials = trial_table(10, fidelities=(1, 3, 9))
    obs = observations(trials, space, 3)
    assert len(obs) == 10  # the 3- and 9-epoch trials of a config count once
    first = trials[trials.fidelity == 9].iloc[0]
    row = obs[obs.lr == first["config.lr"]].iloc[0]
    assert row["value"] == pytest.approx(first["curve"][2])
    assert len(observations(trials, space, 9)) == 10


def test_highest_fidelity_with_enough_configs_else_a_warning(space) -> None:
    many_low = pd.concat([trial_table(30, (3,)), trial_table(5, (9,), seed=1)], ignore_index=True)
    fid, obs, notes = choose_fidelity(many_low, space, min_trials=20)
    assert fid == 3 and len(obs) == 35 and "only 5 configs reached 9 epochs" in notes[0]
    fid, obs, notes = choose_fidelity(trial_table(25, (9,)), space, min_trials=20)
    assert fid == 9 and notes == []
    fid, obs, notes = choose_fidelity(trial_table(4, (9,)), space, min_trials=20)
    assert fid == 9 and "rough" in notes[0]


def test_optuna_fanova_ranks_the_planted_hyperparameter_first(space) -> None:
    records, info = analyse(trial_table(60), space, Settings(min_trials=20, pairs=3))
    assert info["fidelity"] == 9 and info["n_configs"] == 60
    assert info["top"][0]["param"] == "lr" and info["top"][0]["importance"] > 0.5
    pairs = [r for r in records if r.scope == "all" and len(r.params) == 2]
    assert len(pairs) == 3 and all(0.0 <= r.importance <= 1.0 for r in pairs)
    assert sum(r.importance for r in records if r.scope == "all") <= 1.0 + 1e-6
    assert {r.scope for r in records} == {"all", "cnn"}  # cnn has >= 20 configs: its own scope
    cnn = ranking(records, "optuna", scope="cnn")
    assert cnn[0]["param"] == "lr" and "cnn__num_filters" in {r["param"] for r in cnn}
    assert not any(r.method == "ped_anova" for r in records)  # fewer than 100 configs


def test_ped_anova_joins_for_large_trial_counts(space) -> None:
    settings = Settings(min_trials=20, pairs=0, ped_anova_min_trials=50)
    records, _ = analyse(trial_table(80), space, settings)
    ped = {r.params[0]: r.importance for r in records
           if r.method == "ped_anova" and r.scope == "all"}  # fmt: skip
    assert max(ped, key=lambda k: ped[k]) == "lr"


def test_too_few_configs_give_a_warning_not_a_crash(space) -> None:
    records, info = analyse(trial_table(2), space, Settings())
    assert records == [] and "too few" in info["warnings"][-1]


def test_unknown_backend_is_one_clear_error(space) -> None:
    with pytest.raises(ConfigError, match="importance.backend"):
        analyse(trial_table(5), space, Settings(backend="shap"))


def test_fanova_package_ranks_the_planted_hyperparameter_first(space) -> None:
    """The optional backend; `make test` installs it and sets HPOTEXT_REQUIRE_EXTRAS=1."""
    if not os.environ.get("HPOTEXT_REQUIRE_EXTRAS"):
        pytest.importorskip("fanova")
    records, info = analyse(trial_table(60), space, Settings(backend="both", pairs=2))
    fan = ranking(records, "fanova")
    assert fan[0]["param"] == "lr" and fan[0]["importance"] > 0.5
    assert info["top"][0]["param"] == "lr"  # the optuna ranking comes first with "both"
    assert any(r.backend == "fanova" and len(r.params) == 2 for r in records)


def test_marginal_of_the_dominant_hyperparameter_has_its_optimum_inside(space) -> None:
    obs = observations(trial_table(60), space, 9)
    keys = scopes(obs, space, 20)["all"]
    (lr,) = marginals(obs, space, keys, ["lr"])
    best = lr.grid[int(np.argmin(lr.mean))]
    assert 1e-3 < best < 1e-2 and lr.log and not lr.categorical
    (emb,) = marginals(obs, space, keys, ["embed_dim"])
    assert emb.categorical and emb.grid == [32, 64, 128]


def test_importance_step_writes_table_summary_and_figures(tmp_path, space) -> None:
    trials_path, space_path = tmp_path / "trials.parquet", tmp_path / "space.yaml"
    trial_table(40).to_parquet(trials_path)
    space_path.write_text(json.dumps(SPACE))
    outs = {k: str(tmp_path / f"{k}") for k in ("table", "json", "bars", "marginals")}
    info = importance(str(trials_path), str(space_path), {"min_trials": 10},
                               outs["table"], outs["json"], outs["bars"] + ".png",
                               outs["marginals"] + ".png")  # fmt: skip
    table = pd.read_parquet(outs["table"])
    assert {"scope", "backend", "method", "params", "importance"} <= set(table.columns)
    assert json.loads((tmp_path / "json").read_text())["top"][0]["param"] == "lr"
    assert info["interactions"] and (tmp_path / "bars.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "marginals.png").stat().st_size > 0
    lines = "\n".join(importance_lines(info))
    assert "| lr |" in lines and "Strongest interactions" in lines


def test_boundary_check_flags_values_at_an_edge(space) -> None:
    edges = boundary.near_edges(space, {"model": "boe", "lr": 1.1e-4, "dropout": 0.25,
                                        "embed_dim": 64})  # fmt: skip
    assert [(e.param, e.side) for e in edges] == [("lr", "lower")]
    assert "widen the range" in edges[0].warning()
    top = boundary.near_edges(space, {"model": "cnn", "lr": 1e-2, "dropout": 0.5,
                                      "cnn__num_filters": 8, "embed_dim": 64})  # fmt: skip
    assert {(e.param, e.side) for e in top} == {("dropout", "upper"), ("cnn__num_filters", "lower")}
    assert boundary.position(space.by_key()["lr"], 10**-2.5) == pytest.approx(0.5)


def test_search_figures_are_drawn(tmp_path) -> None:
    trials = trial_table(12, fidelities=(1, 3, 9))
    trials.loc[3, "status"] = "stopped"
    trials.loc[4, ["status", "objective"]] = ["failed", np.inf]
    trials.to_parquet(tmp_path / "trials.parquet")
    (tmp_path / "space.yaml").write_text(json.dumps(SPACE))
    best = trials[trials.fidelity == 9].sort_values("objective").iloc[0]
    config = {k[7:]: getattr(v, "item", lambda v=v: v)() for k, v in best.items()
              if k.startswith("config.") and pd.notna(v)}  # fmt: skip
    (tmp_path / "inc.json").write_text(json.dumps({"config": config}))
    outs = [str(tmp_path / f"{n}.png") for n in ("trace", "curves", "boundary")]
    search_figures(str(tmp_path / "trials.parquet"), str(tmp_path / "space.yaml"),
                            str(tmp_path / "inc.json"), *outs)  # fmt: skip
    assert all(Path(p).read_bytes()[:4] == b"\x89PNG" for p in outs)


def test_summary_page_is_html_with_tables() -> None:
    page = to_html("# study\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n```json\n{}\n```\n", "t")
    assert "<table>" in page and "<h1>study</h1>" in page and "<code" in page
