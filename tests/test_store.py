"""The trial store and search driver: journal folding, crash safety, several workers, restarts."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hpotext.errors import ConfigError, SearchError, StaleFileError
from hpotext.optimizers.records import Result, Suggestion
from hpotext.search.driver import Budget, collect_checkpoints, wall_seconds
from hpotext.search.events import Event
from hpotext.search.store import TrialStore
from tests.toy_search import ToyRunner, make_worker

ROOT = Path(__file__).resolve().parent.parent


def tells(store: TrialStore) -> collections.Counter[int]:
    return collections.Counter(e.trial_id for e in store.read() if e.kind == "tell")


def start_worker(store: Path, worker: str, optimizer: str, budget: int, delay: float,
                 *peers: str) -> subprocess.Popen[bytes]:  # fmt: skip
    cmd = [sys.executable, "-m", "tests.toy_search", str(store), worker, optimizer,
           str(budget), str(delay), *peers]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE)


def test_journal_round_trip_and_table(tmp_path):
    store = TrialStore(tmp_path)
    store.open({"optimizer": "random", "seed": 1})
    s = Suggestion(0, {"lr": 0.01, "model": "boe"}, 3, None, {"rung": 0})
    store.append(Event("ask", worker="w0", suggestion=s))
    trials = store.trials()
    assert trials[0].status == "pending" and trials[0].worker == "w0"
    r = Result(0.25, 1.5, 3, curve=(0.4, 0.3, 0.25), metrics={"accuracy": 0.75})
    store.append(Event("tell", trial_id=0, result=r))
    store.append(Event("tell", trial_id=0, result=Result(0.9, 1, 1)))
    trial = store.trials()[0]
    assert trial.status == "completed" and trial.objective == 0.25  # the first tell wins
    assert trial.result == r and trial.suggestion == s
    table = store.table()
    assert table.loc[0, "config.lr"] == 0.01 and table.loc[0, "val_accuracy"] == 0.75
    assert list(table.loc[0, "curve"]) == [0.4, 0.3, 0.25]


def test_epoch_reports_fold_into_the_running_trial_only(tmp_path):
    store = TrialStore(tmp_path)
    store.open({"optimizer": "random", "seed": 1})
    store.append(Event("ask", worker="w0", suggestion=Suggestion(0, {"lr": 0.01}, 3)))
    store.append(
        Event("report", trial_id=0, epoch=1, objective=0.5, time=10.0),
        Event("report", trial_id=0, epoch=2, objective=0.4, time=11.0),
        Event("report", trial_id=7, epoch=1, objective=0.1),
    )  # no such trial
    trial = store.trials()[0]
    assert trial.status == "pending" and trial.reports == ((1, 0.5, 10.0), (2, 0.4, 11.0))
    store.append(
        Event("tell", trial_id=0, result=Result(0.3, 1.0, 3, curve=(0.5, 0.4, 0.3))),
        Event("report", trial_id=0, epoch=4, objective=0.2),
    )  # after the tell: ignored
    trial = TrialStore(tmp_path).trials()[0]  # read back from the journal's lines
    assert trial.status == "completed" and [r[0] for r in trial.reports] == [1, 2]
    assert "reports" not in store.table().columns
    line = Event("report", trial_id=0, epoch=2, objective=0.4, worker="w0", time=11.0)
    assert Event.from_dict(json.loads(json.dumps(line.to_dict()))) == line


def test_failed_result_stores_infinity_and_exports_missing(tmp_path):
    store = TrialStore(tmp_path)
    s = Suggestion(0, {"lr": 0.01}, 1)
    store.append(Event("ask", worker="w", suggestion=s))
    bad = Result(float("inf"), 0.0, 0, status="failed", stop_reason="ValueError: boom")
    store.append(Event("tell", trial_id=0, result=bad))
    assert store.trials()[0].result == bad
    assert store.table().loc[0, "objective"] is None or store.table()["objective"].isna().all()


def test_torn_last_line_is_ignored_then_cut(tmp_path):
    store = TrialStore(tmp_path)
    store.open({"optimizer": "random"})
    with open(store.path, "ab") as fh:
        fh.write(b'{"event": "ask", "worker": "w0", "sugg')  # a writer died mid-line
    assert len(store.read()) == 1
    store.append(Event("session", worker="w1"))
    events = store.read()
    assert [e.kind for e in events] == ["meta", "session"]
    assert store.path.read_bytes().endswith(b"\n")


def test_open_refuses_a_store_made_with_other_settings(tmp_path):
    TrialStore(tmp_path).open({"optimizer": "random", "seed": 0})
    TrialStore(tmp_path).open({"optimizer": "random", "seed": 0})  # same search: fine
    with pytest.raises(ConfigError, match="different settings \\(seed\\)"):
        TrialStore(tmp_path).open({"optimizer": "random", "seed": 1})


def test_wall_seconds_is_the_union_of_sessions():
    events = [
        Event("session", session=session, time=at)
        for session, at in [("a", 0.0), ("b", 5.0), ("a", 10.0), ("b", 12.0), ("c", 20.0),
                            ("c", 23.0)]
    ]  # fmt: skip
    assert wall_seconds(events) == pytest.approx(15.0)
    assert wall_seconds(events, now=30.0) == pytest.approx(22.0)


@pytest.mark.parametrize("optimizer", ["random", "asha", "hyperband"])
def test_single_worker_spends_the_budget_and_continues_checkpoints(tmp_path, optimizer):
    worker = make_worker(str(tmp_path), "w0", optimizer, budget=40)
    runner = ToyRunner(delay=0.0)
    worker.run(runner)
    trials = worker.store.trials()
    assert all(t.status == "completed" for t in trials.values())
    assert set(tells(worker.store).values()) == {1}
    used = sum(t.epochs_trained for t in trials.values())
    assert 40 <= used < 40 + 9
    starts = dict(runner.calls)  # trial id -> epoch its training started from
    for t in trials.values():
        assert t.epochs_trained == t.fidelity - starts[t.trial_id]  # cost: only epochs trained
        if t.parent is not None:
            assert trials[t.parent].config == t.config
    promoted = [t for t in trials.values() if t.parent is not None]
    if optimizer != "random":
        assert promoted, "multi-fidelity optimizers continue promoted trials"
        # promoted trials train only their missing epochs, from the parent's checkpoint (unless
        # the collector had deleted it as unpromotable: then they train from scratch)
        continued = [t for t in promoted if starts[t.trial_id] == trials[t.parent].fidelity]
        assert len(continued) >= 0.75 * len(promoted)


def test_without_continuation_promoted_trials_train_from_scratch(tmp_path):
    worker = make_worker(str(tmp_path), "w0", "hyperband", budget=30)
    worker.continuation = False
    runner = ToyRunner(delay=0.0)
    worker.run(runner)
    trials = worker.store.trials()
    assert any(t.parent is not None for t in trials.values())  # promotions still happen
    assert set(dict(runner.calls).values()) == {0}
    assert all(t.epochs_trained == t.fidelity for t in trials.values())


def test_accuracies_at_and_stopped_by(tmp_path):
    from hpotext.search.driver import accuracies_at, comparables
    from hpotext.search.store import stopped_by

    worker = make_worker(str(tmp_path), "w0", "random", budget=20)
    worker.run(ToyRunner(delay=0.0))
    trials = worker.store.trials()
    at1 = accuracies_at(trials, 1)
    assert len(at1) == sum(len(t.curve) >= 1 for t in trials.values()) > 0
    assert at1 == [1.0 - t.curve[0] for t in trials.values() if t.curve]
    assert comparables(worker.store)(1) == at1
    assert accuracies_at(trials, 99) == []
    assert stopped_by("diagnosis VG+SC: weights move ...; val acc ...") == ("diagnosis", "VG+SC")
    assert stopped_by("ema: smoothed val acc slope ...") == ("ema", None)
    assert stopped_by("diverged: non-finite training loss") == (None, None)
    assert stopped_by(None) == (None, None)


def test_checkpoints_stay_bounded(tmp_path):
    worker = make_worker(str(tmp_path), "w0", "asha", budget=60)
    worker.run(ToyRunner(delay=0.0))
    trials = worker.store.trials()
    kept = {int(p.name[5:]) for p in (tmp_path / "checkpoints").iterdir()}
    low = [t for t in trials.values() if t.fidelity == 1]
    assert len(kept) <= len(low) // 3 + 2
    assert not any(trials[i].fidelity == 9 for i in kept)  # full-fidelity ones can't be promoted
    assert collect_checkpoints(tmp_path, trials, 9, 3) == 0  # already collected


def test_a_restarted_worker_replays_and_continues(tmp_path):
    first = make_worker(str(tmp_path), "w0", "hyperband", budget=20)
    first.run(ToyRunner(0.0))
    n = len(first.store.trials())
    # a new process with a bigger budget rebuilds the optimizer from the journal and goes on
    second = make_worker(str(tmp_path), "w0", "hyperband", budget=50)
    second.run(ToyRunner(0.0))
    trials = second.store.trials()
    assert len(trials) > n
    assert sorted(trials) == list(range(len(trials)))
    assert set(tells(second.store).values()) == {1}


def test_too_many_consecutive_failures_stop_the_search(tmp_path):
    worker = make_worker(str(tmp_path), "w0", "random", budget=100)
    worker.max_failures = 3

    def broken(s, parent, own):
        return Result(float("inf"), 0.0, 0, status="failed", stop_reason="RuntimeError: boom")

    with pytest.raises(SearchError, match="last 3 trials failed.*boom"):
        worker.run(broken)
    assert len(worker.store.trials()) == 3


def test_two_worker_processes_lose_and_duplicate_nothing(tmp_path):
    procs = [start_worker(tmp_path, w, "asha", 60, 0.01, "w0", "w1") for w in ("w0", "w1")]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-2000:]
    store = TrialStore(tmp_path)
    trials = store.trials()
    assert sorted(trials) == list(range(len(trials)))  # ids unique, none lost
    assert set(tells(store).values()) == {1}  # every trial told exactly once
    assert all(t.status == "completed" for t in trials.values())
    assert {t.worker for t in trials.values()} == {"w0", "w1"}
    used = sum(t.epochs_trained for t in trials.values())
    assert 60 <= used < 60 + 2 * 9
    # a third replica replays the interleaved journal without a mismatch
    make_worker(str(tmp_path), "w2", "asha", budget=60).start()


def test_sigkilled_worker_restarts_and_keeps_every_finished_trial_once(tmp_path):
    proc = start_worker(tmp_path, "w0", "asha", 40, 0.05)
    store = TrialStore(tmp_path)
    deadline = time.time() + 60
    while time.time() < deadline:
        trials = store.trials() if store.path.exists() else {}
        pending = [t for t in trials.values() if t.status == "pending"]
        if sum(t.status == "completed" for t in trials.values()) >= 4 and pending:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {i: t.result for i, t in store.trials().items() if t.status != "pending"}
    in_flight = [i for i, t in store.trials().items() if t.status == "pending"]
    assert before and in_flight

    restart = start_worker(tmp_path, "w0", "asha", 40, 0.0)
    _, err = restart.communicate(timeout=120)
    assert restart.returncode == 0, err.decode()[-2000:]
    trials = store.trials()
    assert set(tells(store).values()) == {1}
    assert all(trials[i].result == r for i, r in before.items())  # kept, unchanged
    assert all(trials[i].status == "completed" for i in in_flight)  # re-run after the restart
    assert all(t.status == "completed" for t in trials.values())
    assert sum(t.epochs_trained for t in trials.values()) >= 40
    reissued = [e for e in store.read() if e.kind == "reissue"]
    assert [e.trial_id for e in reissued] == in_flight


def test_budget_in_evaluations_counts_full_fidelity_equivalents(tmp_path):
    worker = make_worker(str(tmp_path), "w0", "random", budget=1)
    worker.budget = Budget("evaluations", 3)
    worker.run(ToyRunner(0.0))
    assert sum(t.epochs_trained for t in worker.store.trials().values()) == 27
    assert json.loads(store_line(worker.store))["event"] == "meta"


def store_line(store: TrialStore) -> str:
    return store.path.read_text().splitlines()[0]


def test_budget_in_seconds_counts_wall_clock_over_restarts(tmp_path):
    first = make_worker(str(tmp_path), "w0", "random", budget=1)
    first.budget = Budget("seconds", 0.6)
    first.run(ToyRunner(delay=0.02))  # 9 epochs per random trial: ~0.2 s each
    events = first.store.read()
    assert wall_seconds(events) >= 0.6  # the journal records when the budget was found spent
    session = next(e.time for e in events if e.kind == "session")
    assert max(e.time for e in events if e.kind == "ask") - session < 0.6  # none after
    n = len(first.store.trials())
    second = make_worker(str(tmp_path), "w0", "random", budget=1)
    second.budget = Budget("seconds", 0.6)
    assert second.run(ToyRunner(delay=0.02)) == 0  # already spent: the restart adds nothing
    assert len(second.store.trials()) == n


def test_four_workers_share_eight_hundred_trials_without_loss_or_duplicates(tmp_path):
    """Stress: 4 worker processes x ~200 toy ASHA trials each on one store."""
    workers = ("w0", "w1", "w2", "w3")
    budget = 1500  # epochs: ASHA's rung-0 trials train 1 epoch, promotions 2 and 6 more
    procs = [start_worker(tmp_path, w, "asha", budget, 0.0, *workers) for w in workers]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err.decode()[-2000:]
    store = TrialStore(tmp_path)
    events = store.read()
    trials = store.trials()
    assert len(trials) >= 800
    assert sorted(trials) == list(range(len(trials)))  # ids unique and contiguous: none lost
    asked = [e.suggestion.trial_id for e in events if e.kind == "ask"]
    assert len(asked) == len(set(asked)) == len(trials)  # no id asked twice
    assert set(tells(store).values()) == {1}  # every trial told exactly once
    assert all(t.status == "completed" for t in trials.values())
    per_worker = collections.Counter(t.worker for t in trials.values())
    assert set(per_worker) == set(workers)  # all four took part (their shares vary with timing)
    used = sum(t.epochs_trained for t in trials.values())
    assert budget <= used < budget + len(workers) * 9
    # the optimizer state all workers built is one state: each promotion continues a finished
    # trial of the same config at a lower rung, and no trial is promoted to a rung twice
    promotions = collections.Counter()
    for t in trials.values():
        if t.parent is not None:
            parent = trials[t.parent]
            assert parent.config == t.config and parent.fidelity < t.fidelity
            assert parent.finished_at is not None and parent.finished_at <= t.asked_at
            promotions[(t.parent, t.fidelity)] += 1
    assert promotions and max(promotions.values()) == 1
    # two fresh replicas replay the interleaved journal without a mismatch and agree on what
    # comes next
    nxt = []
    for replica in ("r0", "r1"):
        worker = make_worker(str(tmp_path), replica, "asha", budget=budget + 100)
        with worker.store.locked():
            worker._sync()
        nxt.append(worker.optimizer.ask())
    assert nxt[0] is not None and nxt[0].to_dict() == nxt[1].to_dict()


def test_events_keep_the_journal_format(tmp_path):
    """Event records read and write the journal's JSON lines as before (a journal written by an
    earlier version reads the same); a line of an unknown kind is one clear error."""
    s = Suggestion(0, {"lr": 0.01, "model": "boe"}, 3, None, {"rung": 0})
    lines = [
        {"event": "meta", "optimizer": "random", "seed": 0, "time": 1.0},
        {"event": "ask", "worker": "w0", "session": "x", "suggestion": s.to_dict(), "time": 2.0},
        {"event": "tell", "trial_id": 0, "result": Result(0.2, 1.5, 3).to_dict(),
         "worker": "w0", "session": "x", "time": 3.0},
    ]  # fmt: skip
    (tmp_path / "journal.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    store = TrialStore(tmp_path)
    events = store.read()
    assert [e.kind for e in events] == ["meta", "ask", "tell"]
    assert store.meta() == {"optimizer": "random", "seed": 0} and store.started_at() == 1.0
    assert events[1].suggestion == s and events[1].parent is None  # no parent key: s.parent
    assert events[2].result == Result(0.2, 1.5, 3)
    written = [json.loads(json.dumps(e.to_dict())) for e in events]
    assert written == [lines[0], {**lines[1], "parent": None}, lines[2]]  # the same lines
    trial = store.trials()[0]
    assert (trial.status, trial.objective, trial.asked_at, trial.finished_at) == (
        "completed", 0.2, 2.0, 3.0)  # fmt: skip
    with open(tmp_path / "journal.jsonl", "a") as fh:
        fh.write(json.dumps({"event": "pause", "time": 4.0}) + "\n")
    with pytest.raises(StaleFileError, match="not one of meta, session, ask"):
        TrialStore(tmp_path).read()


def test_budget_from_the_config_section():
    assert Budget.from_dict({"kind": "seconds", "amount": 90}) == Budget("seconds", 90.0)
    assert Budget.from_dict({}).kind == "epochs"  # the schema's default
    with pytest.raises(ConfigError, match="search.budget.kind"):
        Budget.from_dict({"kind": "minutes", "amount": 3})
