"""Search progress (budget, ETA, incumbent) in the worker log and ``python -m hpotext.status``."""

from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path

import pytest

from hpotext.optimizers.records import Suggestion
from hpotext.search.driver import Budget
from hpotext.search.events import Event
from hpotext.search.progress import duration, progress
from hpotext.search.store import TrialStore
from hpotext.status.__main__ import main
from hpotext.status.study import study_status
from tests.toy_search import ToyRunner, make_worker


def finished_search(folder: Path, budget: float = 30) -> TrialStore:
    worker = make_worker(str(folder / "search"), "w0", "hyperband", budget)
    worker.run(ToyRunner(0.0))
    return worker.store


def test_duration_reads_like_a_clock() -> None:
    assert duration(45.4) == "45 s" and duration(130) == "2 min 10 s"
    assert duration(3900) == "1 h 05 min"


def test_worker_logs_budget_eta_and_incumbent(tmp_path, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="hpotext.search.driver"):
        store = finished_search(tmp_path)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("trial ")]
    assert lines and all("budget " in line and "/30 epochs (" in line for line in lines)
    assert "ETA" in lines[1] and "incumbent trial" in lines[-1]
    used = sum(t.epochs_trained for t in store.trials().values())
    assert f"budget {used}/30 epochs" in lines[-1]


def test_progress_values_and_eta_from_the_recent_rate(tmp_path) -> None:
    store = TrialStore(tmp_path)
    store.open({"optimizer": "random", "seed": 0})
    from hpotext.optimizers.records import Result

    for i in range(3):  # 3 trials of 2 epochs, one every 10 s
        s = Suggestion(i, {"lr": 0.01 * (i + 1)}, 2)
        store.append(Event("ask", worker="w0", suggestion=s, time=100.0 + 10 * i))
        store.append(
            Event("tell", trial_id=i, result=Result(0.5 - 0.1 * i, 1.0, 2), time=110.0 + 10 * i)
        )
    events = store.read()
    p = progress(store.trials(events), events, Budget("epochs", 12), 2, now=130.0)
    assert p.used == 6 and p.fraction == 0.5 and p.by_status == {"completed": 3}
    assert p.incumbent == 2 and p.objective == pytest.approx(0.3)
    assert p.eta_seconds == pytest.approx(30.0)  # 6 epochs left at 4 epochs per 20 s
    assert p.line() == "budget 6/12 epochs (50 %), ETA 30 s | incumbent trial 2: 0.3000"
    spent = progress(store.trials(events), events, Budget("epochs", 6), 2, now=130.0)
    assert spent.line().startswith("budget 6/6 epochs (100 %), spent")


def test_status_of_a_finished_search(tmp_path, capsys) -> None:
    study = tmp_path / "results" / "toy"
    store = finished_search(study)
    (study / "search" / "incumbent.json").write_text("{}")
    status = study_status(study)
    assert status.stage == "final" and status.done == ["search"]
    assert status.workers == ["w0"] and status.optimizer == "hyperband"
    trials = store.trials()
    assert status.search is not None and sum(status.search.by_status.values()) == len(trials)
    assert status.search.used == sum(t.epochs_trained for t in trials.values())
    assert status.incumbent_config == trials[status.search.incumbent].config
    assert main([str(study)]) == 0
    out = capsys.readouterr().out
    assert "at stage final" in out and "budget " in out and "incumbent trial" in out


def test_status_mid_run_counts_pending_work_and_failures(tmp_path) -> None:
    from hpotext.optimizers.records import Result

    study = tmp_path / "toy"
    store = finished_search(study, budget=30)
    n = len(store.trials())
    store.append(
        Event(
            "session",
            worker="w1",
            session="s1",
            meta={"budget": {"kind": "epochs", "amount": 60}, "max_epochs": 9},
        )
    )
    store.append(Event("ask", worker="w1", session="s1", suggestion=Suggestion(n, {"lr": 0.1}, 9)))
    store.append(Event("report", trial_id=n, epoch=4, objective=0.25, worker="w1", session="s1"))
    store.append(
        Event("ask", worker="w1", session="s1", suggestion=Suggestion(n + 1, {"lr": 1}, 3))
    )
    store.append(
        Event(
            "tell",
            trial_id=n + 1,
            result=Result(math.inf, 0.0, 0, status="failed", stop_reason="ValueError: bad lr"),
        )
    )
    status = study_status(study)
    assert status.stage == "search" and status.workers == ["w0", "w1"]
    assert status.search is not None and status.search.by_status["pending"] == 1
    assert status.search.amount == 60  # the newest session's budget
    done = sum(t.epochs_trained for t in store.trials().values())
    assert status.search.used == done + 9  # a pending trial's epochs are committed
    assert status.failures == [f"trial {n + 1} (failed): ValueError: bad lr"]
    assert any(line.startswith("failed: trial") for line in status.lines())
    assert status.running == [f"trial {n} [w1]: epoch 4 of 9, val accuracy 0.7500"]


def test_status_of_an_older_journal_without_budget(tmp_path) -> None:
    study = tmp_path / "toy"
    finished_search(study)
    journal = study / "search" / "journal.jsonl"
    lines = [ln for ln in journal.read_text().splitlines() if '"event": "session"' not in ln]
    journal.write_text("\n".join(lines) + "\n")
    status = study_status(study)
    assert status.search is not None and "the journal records no budget" in status.search.line()


def test_status_of_something_that_is_not_a_study(tmp_path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "missing"):
        assert main([str(folder)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "is not a study folder" in err
        assert err.count("\n") == 1
    shutil.rmtree(tmp_path / "empty")


def test_optuna_mirror_holds_the_store_trials_values_and_curves(tmp_path) -> None:
    from optuna.trial import TrialState

    from hpotext.status.mirror import open_mirror, sync

    store = finished_search(tmp_path / "toy")
    table = store.table().set_index("trial_id")
    path = tmp_path / "mirror" / "optuna.jsonl"
    assert sync(store.root, open_mirror(path, "toy")) == len(table)
    assert sync(store.root, open_mirror(path, "toy")) == 0  # only new trials are added
    mirrored = {t.user_attrs["hpotext_trial"]: t for t in open_mirror(path, "toy").trials}
    assert set(mirrored) == set(table.index)
    for trial_id, row in table.iterrows():
        t = mirrored[trial_id]
        assert t.state == TrialState.COMPLETE and t.value == pytest.approx(row["objective"])
        assert t.intermediate_values == {
            i + 1: pytest.approx(e) for i, e in enumerate(row["curve"])
        }
        assert (
            t.user_attrs["worker"] == row["worker"] and t.user_attrs["fidelity"] == row["fidelity"]
        )
        family = {k[len("config.") :]: v for k, v in row.items() if k.startswith("config.")}
        assert t.params == {
            k: v for k, v in family.items() if isinstance(v, str) or not math.isnan(v)
        }


def test_optuna_mirror_states_of_stopped_and_failed_trials(tmp_path) -> None:
    from optuna.trial import TrialState

    from hpotext.optimizers.records import Result
    from hpotext.status.mirror import open_mirror, sync

    store = finished_search(tmp_path / "toy")
    n = len(store.trials())
    config = {"model": "boe", "lr": 0.01, "dropout": 0.1}
    for i, result in enumerate([
        Result(0.4, 1.0, 1, status="stopped", stop_reason="ema: trend", curve=(0.5, 0.4)),
        Result(math.inf, 0.0, 0, status="failed", stop_reason="ValueError: x"),
    ]):  # fmt: skip
        store.append(Event("ask", worker="w0", suggestion=Suggestion(n + i, config, 3)))
        store.append(Event("tell", trial_id=n + i, result=result))
    store.append(Event("ask", worker="w0", suggestion=Suggestion(n + 2, config, 3)))  # pending
    path = tmp_path / "optuna.jsonl"
    assert sync(store.root, open_mirror(path, "toy")) == n + 2
    by_id = {t.user_attrs["hpotext_trial"]: t for t in open_mirror(path, "toy").trials}
    stopped, failed = by_id[n], by_id[n + 1]
    assert stopped.state == TrialState.PRUNED and stopped.intermediate_values == {1: 0.5, 2: 0.4}
    assert stopped.user_attrs["stop_reason"] == "ema: trend"
    assert failed.state == TrialState.FAIL and n + 2 not in by_id
