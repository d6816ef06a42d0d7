"""The search, collect and retrain stages on a tiny prepared dataset, with every optimizer."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from hpotext.data import steps as pipeline
from hpotext.data.info import SplitFiles
from hpotext.errors import ConfigError, NoResultError
from hpotext.final.steps import retrain
from hpotext.optimizers import OPTIMIZERS
from hpotext.optimizers.records import Result, Suggestion
from hpotext.search.events import Event
from hpotext.search.steps import collect_search as collect
from hpotext.search.steps import default_config, runner_up
from hpotext.search.steps import search as search_worker
from hpotext.search.store import TrialStore
from tests.test_pipeline import DATA_CFG, TEXT_CFG

SPLIT_FILES = ("train.parquet", "val.parquet", "vocab.json", "dataset.json")
SPACE = {
    "fidelity": {"name": "epochs", "min": 1, "max": 4, "eta": 2},
    "hyperparameters": {
        "model": {"type": "categorical", "choices": ["boe", "cnn"], "prior": "boe"},
        "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True, "prior": 0.03},
        "token_drop": {"type": "float", "low": 0.0, "high": 0.3, "prior": 0.0},
    },
    "families": {"cnn": {"num_filters": {"type": "int", "low": 2, "high": 8, "log": True}}},
    "fixed": {"embed_dim": 8, "batch_size": 16},
}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("study")
    good, bad = ["great", "fun", "superb"], ["dull", "awful", "weak"]
    rows = [
        {"text": f"a {(good if i % 2 else bad)[i % 3]} film", "label": "pos" if i % 2 else "neg"}
        for i in range(200)
    ]
    pd.DataFrame(rows).to_csv(root / "reviews.csv", index=False)
    pipeline.prepare(str(root / "reviews.csv"), "reviews", str(root / "data"), DATA_CFG, TEXT_CFG)
    (root / "space.yaml").write_text(yaml.safe_dump(SPACE))
    return root


def run_worker(root: Path, store: Path, optimizer: str, amount: float, worker: str = "w0",
               space: Path | None = None, **options) -> int:  # fmt: skip
    d = root / "data"
    return search_worker(
        space_path=str(space or root / "space.yaml"),
        files=SplitFiles(*(str(d / n) for n in SPLIT_FILES)),
        store_dir=str(store),
        optimizer=optimizer,
        seed=0,
        budget={"kind": "epochs", "amount": amount},
        base_train={"batch_size": 16},
        max_len=16,
        worker=worker,
        workers=[worker],
        max_consecutive_failures=3,
        done_out=str(store / "workers" / f"{worker}.json"),
        **options,
    )


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_runs_a_real_search(data: Path, tmp_path: Path, optimizer: str) -> None:
    store = tmp_path / "search"
    finished = run_worker(data, store, optimizer, amount=16)
    trials = TrialStore(store).trials()
    assert finished == len(trials)
    assert all(t.status in ("completed", "stopped") for t in trials.values())
    assert sum(t.epochs_trained for t in trials.values()) >= 16
    for t in trials.values():  # continued trials train only the epochs their parent lacks
        if t.parent is not None and (t.epochs_trained < t.fidelity):
            assert t.epochs_trained == t.fidelity - trials[t.parent].fidelity
    collect(
        str(store),
        str(data / "space.yaml"),
        str(tmp_path / "t.parquet"),
        str(tmp_path / "inc.json"),
    )
    best = json.loads((tmp_path / "inc.json").read_text())
    assert best["optimizer"] == optimizer and best["val_accuracy"] > 0.5
    assert len(pd.read_parquet(tmp_path / "t.parquet")) == len(trials)


def test_a_portfolio_starts_the_search_and_a_changed_one_is_refused(
    data: Path, tmp_path: Path
) -> None:
    """search.portfolio: the other datasets' configs are the first trials; the setting is part
    of what identifies the search, so a rerun with another portfolio stops with the fix."""
    cells = [("other", 0.9, 0.01), ("reviews", 0.95, 0.05), ("third", 0.8, 0.002)]
    rows = [{"dataset": d, "family": "cnn", "val_accuracy": acc,
             "config": {"lr": lr, "token_drop": 0.1, "cnn__num_filters": 4}}
            for d, acc, lr in cells]  # fmt: skip
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"entries": rows}))
    store = tmp_path / "search"
    portfolio = {"size": 2, "file": str(tmp_path / "p.yaml")}
    run_worker(data, store, "hyperband", 8, portfolio=portfolio, dataset="reviews")
    first = [TrialStore(store).trials()[i].config for i in (0, 1)]
    assert [(c["model"], c["lr"]) for c in first] == [("cnn", 0.01), ("cnn", 0.002)]
    assert TrialStore(store).meta()["portfolio"] == portfolio
    run_worker(data, store, "hyperband", 12, portfolio=portfolio, dataset="reviews")  # continues
    with pytest.raises(ConfigError, match=r"search.portfolio .*--config search='\{portfolio"):
        run_worker(data, store, "hyperband", 16, portfolio={**portfolio, "size": 1},
                   dataset="reviews")  # fmt: skip


def test_multi_fidelity_search_continues_checkpoints(data: Path, tmp_path: Path) -> None:
    store = tmp_path / "search"
    run_worker(data, store, "dehb", amount=24)
    trials = TrialStore(store).trials()
    continued = [t for t in trials.values() if t.parent is not None]
    assert continued, "DEHB promotions are matched to their lower-fidelity checkpoints"
    for t in continued:
        assert trials[t.parent].config == t.config
    assert any(t.epochs_trained == t.fidelity - trials[t.parent].fidelity for t in continued)
    for t in trials.values():  # every epoch a trial trained was reported as it finished
        epochs = [epoch for epoch, _, _ in t.reports]
        assert epochs == list(range(t.fidelity - t.epochs_trained + 1, t.fidelity + 1))
        assert [obj for _, obj, _ in t.reports] == pytest.approx(t.curve[-t.epochs_trained :])
        assert all(t.asked_at <= at <= (t.finished_at or 0) for _, _, at in t.reports)


def test_bad_trials_are_stopped_early_and_recorded(data: Path, tmp_path: Path) -> None:
    """Learning rates down to 1e-7 make trials that cannot learn: diagnosis stops them."""
    raw = {**SPACE, "hyperparameters": {**SPACE["hyperparameters"]}}
    raw["hyperparameters"]["lr"] = {"type": "float", "low": 1e-7, "high": 1e-1, "log": True}
    raw["fidelity"] = {"name": "epochs", "min": 1, "max": 6, "eta": 3}
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(raw))
    store = tmp_path / "search"
    stopping = {"min_comparable": 2, "ema": {"enabled": False}}
    run_worker(data, store, "random", 36, space=tmp_path / "space.yaml", stopping=stopping)
    table = TrialStore(store).table()
    stopped = table[table.status == "stopped"]
    assert len(stopped) >= 1 and (stopped.stopped_by == "diagnosis").all()
    assert (stopped.epochs_trained < stopped.fidelity).all()
    assert stopped.symptoms.str.contains("VG|SC|NMG|HO|EG|DR|OF").all()
    assert (table[table.status == "completed"].stopped_by.isna()).all()
    # the same search with stopping off trains every trial to its fidelity
    off = {"diagnosis": {"enabled": False}, "ema": {"enabled": False}}
    run_worker(data, tmp_path / "plain", "random", 12, space=tmp_path / "space.yaml", stopping=off)
    plain = TrialStore(tmp_path / "plain").table()
    assert (plain.status == "completed").all() and (plain.epochs_trained == plain.fidelity).all()


def test_a_changed_setting_refuses_to_mix_searches(data: Path, tmp_path: Path) -> None:
    store = tmp_path / "search"
    run_worker(data, store, "random", amount=4)
    first = (store / "journal.jsonl").read_bytes()
    with pytest.raises(ConfigError, match='search.optimizer "random" -> "asha"') as err:
        run_worker(data, store, "asha", amount=4)
    assert "--config search='{optimizer: \"random\"}'" in str(err.value)
    assert f"keep this one as {tmp_path / 'search.1'}" in str(err.value)
    assert (store / "journal.jsonl").read_bytes() == first  # refused: nothing written
    assert run_worker(data, store, "random", amount=8) >= 1  # a bigger budget continues it
    kept = (store / "journal.jsonl").read_bytes()
    # search.on_change: new keeps the whole search next to it and starts a new one
    assert run_worker(data, store, "asha", amount=4, on_change="new") >= 1
    assert (tmp_path / "search.1" / "journal.jsonl").read_bytes() == kept
    assert TrialStore(store).meta()["optimizer"] == "asha"
    assert TrialStore(tmp_path / "search.1").meta()["optimizer"] == "random"
    assert yaml.safe_load((store / "space.yaml").read_text()) == TrialStore(store).meta()["space"]


def test_retrain_and_default_config(data: Path, tmp_path: Path) -> None:
    default_config(str(data / "space.yaml"), str(tmp_path / "default.json"))
    config = json.loads((tmp_path / "default.json").read_text())["config"]
    assert config == {"model": "boe", "lr": 0.03, "token_drop": 0.0}
    d = data / "data"
    retrain(
        str(tmp_path / "default.json"),
        str(data / "space.yaml"),
        SplitFiles(*(str(d / n) for n in SPLIT_FILES)),
        {"batch_size": 16},
        16,
        0,
        str(tmp_path / "model.pt"),
        str(tmp_path / "curve.parquet"),
        str(tmp_path / "work"),
    )
    curve = pd.read_parquet(tmp_path / "curve.parquet")
    assert list(curve["epoch"]) == [1, 2, 3, 4]  # the space's maximum fidelity
    assert (tmp_path / "model.pt").exists() and not (tmp_path / "work").exists()


def test_collect_without_a_successful_trial_is_one_clear_error(tmp_path: Path) -> None:
    TrialStore(tmp_path).open({"optimizer": "random"})
    with pytest.raises(NoResultError, match="no trial of the search"):
        collect(str(tmp_path), "unused.yaml", str(tmp_path / "t.parquet"), "i.json")
    assert not (tmp_path / "t.parquet").exists()


def test_runners_up_are_the_next_distinct_configs_ranked_like_the_incumbent(tmp_path: Path) -> None:
    store = TrialStore(tmp_path)
    store.open({"optimizer": "random"})
    # (config lr, fidelity, objective): lr 1 is promoted from 1 to 3 epochs (one config, twice)
    runs = [(1, 1, 0.30), (2, 1, 0.10), (1, 3, 0.20), (3, 3, 0.25), (4, 3, 0.15), (5, 1, None)]
    for i, (lr, fidelity, objective) in enumerate(runs):
        store.append(Event("ask", worker="w0", suggestion=Suggestion(i, {"lr": lr}, fidelity)))
        result = (Result(objective, 1.0, fidelity) if objective is not None else
                  Result(float("inf"), 0.0, 0, status="failed", stop_reason="boom"))  # fmt: skip
        store.append(Event("tell", trial_id=i, result=result))
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(SPACE))
    collect(str(tmp_path), str(tmp_path / "space.yaml"), str(tmp_path / "t.parquet"),
            str(tmp_path / "i.json"))  # fmt: skip
    assert json.loads((tmp_path / "i.json").read_text())["config"] == {"lr": 4}
    found = [runner_up(str(tmp_path), rank, str(tmp_path / f"r{rank}.json")) for rank in (1, 2, 3)]
    # the highest fidelity first, then validation error; lr 1 once, at its 3-epoch trial
    assert [(f["config"], f["trial_id"], f["fidelity"]) for f in found] == [
        ({"lr": 1}, 2, 3), ({"lr": 3}, 3, 3), ({"lr": 2}, 1, 1)]  # fmt: skip
    assert found[0]["val_accuracy"] == pytest.approx(0.8)
    assert json.loads((tmp_path / "r1.json").read_text()) == found[0]
    with pytest.raises(NoResultError, match="finished 4 distinct config.*for runner-up 4; lower "
                       "final.ensemble_top_k to 4 or raise search.budget"):  # fmt: skip
        runner_up(str(tmp_path), 4, str(tmp_path / "r4.json"))
    assert not (tmp_path / "r4.json").exists()
