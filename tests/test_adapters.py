"""The DEHB, PriorBand (NePS) and Optuna TPE adapters: validity, determinism, replay, failures."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from hpotext import space as S
from hpotext.errors import ReplayError
from hpotext.optimizers import make_optimizer
from hpotext.optimizers.records import Result, Suggestion

ADAPTERS = ("dehb", "priorband", "optuna_tpe")
DEFAULT = S.load("config/spaces/default.yaml")  # the encoder beside the from-scratch families
TOY = S.from_dict(
    {
        "fidelity": {"name": "epochs", "min": 1, "max": 9, "eta": 3},
        "hyperparameters": {
            "model": {"type": "categorical", "choices": ["boe", "cnn"], "prior": "cnn"},
            "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True, "prior": 3e-3},
            "dropout": {"type": "float", "low": 0.0, "high": 0.5, "prior": 0.2},
        },
        "families": {"cnn": {"num_filters": {"type": "int", "low": 16, "high": 256,
                                             "log": True, "prior": 64}}},
    }
)  # fmt: skip
Event = tuple[str, Suggestion, Result | None]


def quality(config: dict[str, Any]) -> float:
    """A toy validation error at full training: best near lr=1e-2, dropout=0.1, cnn, 128."""
    lr = config["lr"] if "lr" in config else config["encoder__lr"]  # the encoder has its own
    q = (math.log10(lr) + 2) ** 2 + 4 * (config["dropout"] - 0.1) ** 2
    if config["model"] == "cnn":
        return q + 0.05 * (math.log2(config["cnn__num_filters"]) - 7) ** 2
    return q + 0.3


def result_for(s: Suggestion, failed: bool = False) -> Result:
    if failed:
        return Result(math.inf, cost=1.0, epochs_trained=1, status="failed")
    value = quality(s.config) + 0.3 / s.fidelity
    return Result(value, cost=float(s.fidelity), epochs_trained=s.fidelity, curve=(value,))


def ask(opt: Any) -> Suggestion:
    s = opt.ask()
    assert isinstance(s, Suggestion)
    return s


def stored(s: Suggestion) -> Suggestion:
    """The suggestion as the trial store gives it back (through JSON)."""
    return Suggestion.from_dict(json.loads(json.dumps(s.to_dict())))


def drive(opt: Any, n_asks: int, seed: int = 0, fail_every: int = 0) -> list[Event]:
    """Ask ``n_asks`` times with up to 3 trials pending, telling them in a random order."""
    rng = np.random.default_rng(seed)
    journal: list[Event] = []
    pending: list[Suggestion] = []
    asks = 0
    while asks < n_asks or pending:
        if asks < n_asks and len(pending) < int(rng.integers(1, 4)):
            s = ask(opt)
            journal.append(("ask", stored(s), None))
            pending.append(s)
            asks += 1
        else:
            s = pending.pop(int(rng.integers(len(pending))))
            r = result_for(s, failed=bool(fail_every) and s.trial_id % fail_every == 1)
            opt.tell(s, r)
            journal.append(("tell", stored(s), r))
    return journal


def rebuild(name: str, space: S.Space, seed: int, journal: list[Event]) -> Any:
    opt = make_optimizer(name, space, seed)
    for kind, s, r in journal:
        if kind == "ask":
            opt.replay(s)
        else:
            assert r is not None
            opt.tell(s, r)
    return opt


@pytest.mark.parametrize("name", ADAPTERS)
def test_suggestions_are_valid(name: str) -> None:
    for space in (DEFAULT, TOY):
        opt = make_optimizer(name, space, seed=1)
        assert opt.name == name
        seen: dict[int, Suggestion] = {}
        for s in (e[1] for e in drive(opt, 25) if e[0] == "ask"):
            space.validate(s.config)
            assert space.fidelity.min <= s.fidelity <= space.fidelity.max
            assert type(s.fidelity) is int and s.trial_id == len(seen)
            json.dumps(s.to_dict())  # info must survive the store
            if s.parent is not None:  # a continuation: same config, more epochs
                parent = seen[s.parent]
                assert parent.config == s.config and parent.fidelity < s.fidelity
            seen[s.trial_id] = s
        assert {s.fidelity for s in seen.values()} <= set(space.fidelity.rungs())


@pytest.mark.parametrize("name", ADAPTERS)
def test_same_seed_same_suggestions(name: str) -> None:
    first = drive(make_optimizer(name, TOY, seed=3), 15)
    np.random.seed(12345)  # the global generator must not matter
    second = drive(make_optimizer(name, TOY, seed=3), 15)
    assert [e[1] for e in first] == [e[1] for e in second]
    other = drive(make_optimizer(name, TOY, seed=4), 15)
    assert [e[1].config for e in first] != [e[1].config for e in other]


@pytest.mark.parametrize("name", ADAPTERS)
def test_replay_reproduces_the_next_ask(name: str) -> None:
    """A fresh instance replaying any prefix of the journal (tells out of order, failures)
    asks what the original asked next."""
    journal = drive(make_optimizer(name, TOY, seed=11), 30, seed=5, fail_every=7)
    cuts = [i for i, (kind, _, _) in enumerate(journal) if kind == "ask"][1::3]
    for cut in cuts:
        assert ask(rebuild(name, TOY, 11, journal[:cut])) == journal[cut][1], cut


@pytest.mark.parametrize("name", ADAPTERS)
def test_replayed_instances_agree_after_pending_tells(name: str) -> None:
    """Rebuilt with trials still pending, two instances stay in step once those are told."""
    journal = drive(make_optimizer(name, TOY, seed=11), 12, seed=5)
    head = journal[:15]
    told = {s.trial_id for kind, s, _ in head if kind == "tell"}
    pending = [s for kind, s, _ in head if kind == "ask" and s.trial_id not in told]
    assert pending
    fresh, replica = rebuild(name, TOY, 11, head), rebuild(name, TOY, 11, head)
    for s in reversed(pending):
        fresh.tell(s, result_for(s))
        replica.tell(s, result_for(s))
    for _ in range(4):
        a, b = ask(fresh), ask(replica)
        assert a == b
        fresh.tell(a, result_for(a))
        replica.tell(b, result_for(b))


@pytest.mark.parametrize("name", ADAPTERS)
def test_replay_matches_continuing_original(name: str) -> None:
    original = make_optimizer(name, TOY, seed=2)
    journal = drive(original, 20, seed=9)
    fresh = rebuild(name, TOY, 2, journal)
    for _ in range(8):
        a, b = ask(original), ask(fresh)
        assert a == b
        original.tell(a, result_for(a))
        fresh.tell(b, result_for(b))


@pytest.mark.parametrize("name", ADAPTERS)
def test_replay_detects_divergence(name: str) -> None:
    s = ask(make_optimizer(name, TOY, seed=0))
    other = make_optimizer(name, TOY, seed=0)
    wrong = Suggestion(s.trial_id, {**s.config, "dropout": 0.49}, s.fidelity, s.parent, s.info)
    with pytest.raises(ReplayError, match="journal"):
        other.replay(wrong)


@pytest.mark.parametrize("name", ADAPTERS)
def test_duplicate_tells_are_ignored_unknown_ones_rejected(name: str) -> None:
    opt, twin = make_optimizer(name, TOY, seed=0), make_optimizer(name, TOY, seed=0)
    for o in (opt, twin):
        s = ask(o)
        o.tell(s, result_for(s))
    opt.tell(s, result_for(s, failed=True))  # the store may deliver a result twice
    assert ask(opt) == ask(twin)
    with pytest.raises(ValueError, match="never suggested"):
        opt.tell(Suggestion(7, s.config, s.fidelity), result_for(s))


def test_priorband_replay_needs_its_info() -> None:
    s = ask(make_optimizer("priorband", TOY, seed=0))
    with pytest.raises(ReplayError, match="out of order"):
        make_optimizer("priorband", TOY, seed=0).replay(stored(Suggestion(5, s.config, 1)))
    with pytest.raises(ReplayError, match="info lacks"):
        make_optimizer("priorband", TOY, seed=0).replay(Suggestion(0, s.config, 1))


@pytest.mark.parametrize("name", ADAPTERS)
def test_beats_random_on_toy_objective(name: str) -> None:
    opt = make_optimizer(name, TOY, seed=0)
    asked = [e[1] for e in drive(opt, 40, seed=1) if e[0] == "ask"]
    best = min(quality(s.config) for s in asked)
    rng = np.random.default_rng(0)
    random_mean = float(np.mean([quality(TOY.sample(rng)) for _ in range(500)]))
    assert best < random_mean
    assert best < 0.5 * random_mean  # by a clear margin, not by luck


@pytest.mark.parametrize("name", ADAPTERS)
def test_failed_results_are_handled(name: str) -> None:
    opt = make_optimizer(name, TOY, seed=0)
    journal = drive(opt, 30, fail_every=2)
    failed = {s.trial_id for kind, s, r in journal if kind == "tell" and r and not r.ok}
    assert failed
    for kind, s, _ in journal:
        if kind == "ask":
            TOY.validate(s.config)
            assert s.parent not in failed  # never continue a failed trial's checkpoint
    TOY.validate(ask(opt).config)


def test_optuna_continues_then_prunes_or_completes() -> None:
    opt = make_optimizer("optuna_tpe", TOY, seed=0)
    first = ask(opt)
    assert first.fidelity == 1 and first.parent is None
    opt.tell(first, result_for(first))
    second = ask(opt)  # the first trial of a rung is always promoted
    assert (second.config, second.fidelity, second.parent) == (first.config, 3, first.trial_id)
    third = ask(opt)  # nothing queued while `second` runs: a new trial
    assert third.parent is None and third.fidelity == 1


@pytest.mark.parametrize("space", [TOY, DEFAULT], ids=["toy", "default"])
def test_optuna_starts_at_the_prior_config_unless_told_not_to(space: Any) -> None:
    first = ask(make_optimizer("optuna_tpe", space, seed=0))
    assert first.config == space.default() and first.fidelity == space.fidelity.min
    second = ask(make_optimizer("optuna_tpe", space, seed=0))  # the same again: replayable
    assert second == first
    sampled = [ask(make_optimizer("optuna_tpe", space, seed=s, prior_first=False)).config
               for s in range(3)]  # fmt: skip
    assert space.default() not in sampled


def test_dehb_leaves_no_files_and_prints_nothing(
    tmp_path: Any, monkeypatch: Any, capsys: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    opt = make_optimizer("dehb", TOY, seed=0)
    drive(opt, 10)
    assert list(tmp_path.iterdir()) == []
    assert capsys.readouterr().out == ""
    s = ask(opt)
    assert s.parent is None and set(s.info["dehb"]) == {
        "config_id", "parent_id", "bracket_id", "fidelity"
    }  # fmt: skip
