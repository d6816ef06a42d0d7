"""The proxy/selection stages as functions: surrogate fit, replays, selection, the choice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from hpotext.errors import ConfigError
from hpotext.proxy.steps import proxy_run
from hpotext.proxy.steps import proxy_surrogate as fit_surrogate
from hpotext.proxy.surrogate import proxy_budget
from hpotext.selection.rule import chosen_optimizer
from hpotext.selection.steps import select_optimizer
from hpotext.workflow.config import split_optimizers
from tests.test_proxy import TOY, known_error, make_table, toy_space
from tests.test_workflow import ROOT

SETTINGS = {"max_epochs": 4, "width_cap": 64, "seed": 0}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("selection")
    (root / "space.yaml").write_text(yaml.safe_dump(TOY))
    make_table(toy_space(), 40, lambda c, e, rng: known_error(c, e)).to_parquet(root / "t.parquet")
    fit_surrogate(
        str(root / "t.parquet"),
        str(root / "space.yaml"),
        SETTINGS,
        10,
        str(root / "s.pkl"),
        str(root / "q.json"),
    )
    return root


def test_budget_is_evaluations_of_the_median_config() -> None:
    table = pd.DataFrame(
        {"config_id": [0, 0, 1, 1, 2, 2], "epoch_seconds": [1, 1, 2, 2, 5, 5.0]}
    )  # totals 2, 4, 10: median 4
    assert proxy_budget(table, 10) == pytest.approx(40.0)


def test_fit_surrogate_reports_quality_and_budget(fitted: Path) -> None:
    quality = json.loads((fitted / "q.json").read_text())
    assert quality["spearman"] > 0.8 and not quality["poor"] and quality["warning"] is None
    # 10 evaluations of the proxy's 4 epochs: replays count epochs, as an epochs budget does
    assert quality["budget_evaluations"] == 10 and quality["budget"] == 40.0
    assert quality["cost_unit"] == "epochs"
    assert 0.0 < quality["best_true"] < 0.5


def test_split_optimizers_balances_the_replay_cost() -> None:
    names = ["random", "successive_halving", "hyperband", "asha", "dehb", "priorband", "optuna_tpe"]
    assert split_optimizers(names, 2) == [
        ["asha", "priorband"],  # 1 + 6
        ["random", "successive_halving", "hyperband", "dehb", "optuna_tpe"],  # 0.5+1+1+2.5+2
    ]
    assert split_optimizers(names[:3], 9) == [["successive_halving"], ["hyperband"], ["random"]]
    assert split_optimizers(names, 1) == [names]


def test_replays_are_deterministic_and_selection_picks_a_candidate(fitted: Path) -> None:
    runs = []
    for i, names in enumerate(split_optimizers(["random", "asha", "hyperband"], 2)):
        out = fitted / f"part{i}.parquet"
        proxy_run(str(fitted / "s.pkl"), str(fitted / "q.json"), names, [0, 1, 2],
                            str(out))  # fmt: skip
        runs.append(str(out))
    again = fitted / "again.parquet"
    proxy_run(str(fitted / "s.pkl"), str(fitted / "q.json"), ["asha"], [0, 1, 2], str(again))
    first = pd.read_parquet(runs[0])  # random and asha (hyperband in the other job)
    pd.testing.assert_frame_equal(
        pd.read_parquet(again), first[first.optimizer == "asha"].reset_index(drop=True)
    )
    assert set(first["seed"]) == {0, 1, 2} and set(first["optimizer"]) == {"random", "asha"}
    files = [fitted / n for n in ("o.json", "o.md", "curves.png", "cd.png")]
    name = select_optimizer(runs, str(fitted / "q.json"), *map(str, files))
    report = json.loads(files[0].read_text())
    assert name == report["name"] and name in ("random", "asha", "hyperband")
    assert report["surrogate_quality"]["spearman"] > 0.8 and report["warning"] is None
    assert set(report["mean_ranks"]) == {"random", "asha", "hyperband"}
    assert files[2].read_bytes()[:4] == b"\x89PNG" and files[3].read_bytes()[:4] == b"\x89PNG"
    # the search takes the selected name when search.optimizer is auto
    assert chosen_optimizer("auto", str(files[0]))[0] == name
    assert chosen_optimizer("dehb", None) == (
        "dehb",
        "named by search.optimizer in the config (no proxy selection)",
    )
    with pytest.raises(ConfigError, match="auto"):
        chosen_optimizer("auto", None)


def test_a_poor_surrogate_is_flagged(tmp_path: Path) -> None:
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(TOY))
    noise = make_table(toy_space(), 30, lambda c, e, rng: rng.uniform(0.2, 0.8))
    noise.to_parquet(tmp_path / "t.parquet")
    quality = fit_surrogate(
        str(tmp_path / "t.parquet"),
        str(tmp_path / "space.yaml"),
        SETTINGS,
        5,
        str(tmp_path / "s.pkl"),
        str(tmp_path / "q.json"),
    )
    assert quality["poor"] and "ranks held-out proxy configs poorly" in quality["warning"]


def _replay_in_process(root: Path, optimizers: list[str], out: Path, hash_seed: str) -> None:
    """proxy_run in a fresh process, as a Snakemake job runs it."""
    code = (
        "import sys; from hpotext.proxy.steps import proxy_run; "
        "proxy_run(sys.argv[1], sys.argv[2], sys.argv[3].split(','), [0, 1], sys.argv[4])"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    args = [str(root / "s.pkl"), str(root / "q.json"), ",".join(optimizers), str(out)]
    subprocess.run([sys.executable, "-c", code, *args], check=True, cwd=ROOT, env=env)


def test_selection_is_a_function_of_the_table_errors_and_seeds(tmp_path: Path) -> None:
    """Two builds of the proxy table differ in their measured epoch times (load, warm-up), not
    in their errors. Replayed in different job layouts, process orders and hash seeds, both
    give the same replays and the same selection, byte for byte."""
    table = make_table(toy_space(), 30, lambda c, e, rng: known_error(c, e))
    jitter = np.random.default_rng(7).uniform(0.3, 3.0, len(table))
    tables = {"a": table, "b": table.assign(epoch_seconds=table.epoch_seconds * jitter)}
    names = ["random", "asha", "dehb", "optuna_tpe"]
    layouts = {"a": [(names, "0")], "b": [(names[:1:-1], "1"), (names[1::-1], "0")]}
    outputs = {}
    for key, built in tables.items():
        root = tmp_path / key
        root.mkdir()
        (root / "space.yaml").write_text(yaml.safe_dump(TOY))
        built.to_parquet(root / "t.parquet")
        fit_surrogate(str(root / "t.parquet"), str(root / "space.yaml"), SETTINGS, 6,
                                str(root / "s.pkl"), str(root / "q.json"))  # fmt: skip
        parts = []
        for i, (optimizers, hash_seed) in enumerate(layouts[key]):
            parts.append(root / f"part{i}.parquet")
            _replay_in_process(root, optimizers, parts[-1], hash_seed)
        files = [root / n for n in ("o.json", "o.md", "curves.png", "cd.png")]
        select_optimizer([str(p) for p in reversed(parts)], str(root / "q.json"),
                                   *map(str, files))  # fmt: skip
        runs = pd.concat([pd.read_parquet(p) for p in parts])
        outputs[key] = (
            runs.sort_values(["optimizer", "seed", "trial"]).reset_index(drop=True),
            [f.read_bytes() for f in [root / "q.json", *files]],
        )
    assert set(outputs["a"][0].optimizer) == set(names)
    pd.testing.assert_frame_equal(outputs["a"][0], outputs["b"][0])
    for first, second in zip(outputs["a"][1], outputs["b"][1], strict=True):
        assert first == second
