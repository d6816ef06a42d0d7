"""The optimizer contract, run against every registered optimizer, plus halving specifics.

Every entry of ``OPTIMIZERS`` is driven on a toy space with a cheap synthetic objective, like
the search driver does with three workers: up to three trials pending, results told in a
shuffled, delayed order. An entry whose module cannot be imported yet is skipped.
"""

from __future__ import annotations

import importlib
import json
import math
import random
from typing import Any

import numpy as np
import pytest

from hpotext.errors import ConfigError, ReplayError
from hpotext.optimizers import OPTIMIZERS, Optimizer, Result, Suggestion, make_optimizer
from hpotext.optimizers.halving import bracket_sizes
from hpotext.space.core import Space
from hpotext.space.parse import from_dict

TOY: dict[str, Any] = {
    "fidelity": {"name": "epochs", "min": 1, "max": 9, "eta": 3},
    "hyperparameters": {
        "model": {"type": "categorical", "choices": ["boe", "cnn"], "prior": "cnn"},
        "lr": {
            "type": "float",
            "low": 1e-4,
            "high": 1e-1,
            "log": True,
            "prior": 3e-3,
            "confidence": "high",
        },  # fmt: skip
        "dropout": {"type": "float", "low": 0.0, "high": 0.6, "prior": 0.1},
    },
    "families": {
        "cnn": {"num_filters": {"type": "int", "low": 16, "high": 128, "log": True, "prior": 64}}
    },
    "fixed": {},
}
SPACE = from_dict(TOY)
RUNGS = SPACE.fidelity.rungs()
Event = tuple[str, Suggestion, Result | None]


def toy_space(**fidelity: int) -> Space:
    return from_dict({**TOY, "fidelity": {**TOY["fidelity"], **fidelity}})


def objective(config: dict[str, Any], fidelity: int) -> float:
    """Best near lr = 10**-2.5, no dropout, cnn with 64 filters, at full fidelity."""
    value = (math.log10(config["lr"]) + 2.5) ** 2 + 0.5 * config["dropout"] + 1.0 / fidelity
    if config["model"] == "cnn":
        return value + 0.05 * abs(math.log2(config["cnn__num_filters"] / 64))
    return value + 0.1


def result(s: Suggestion, failed: bool = False) -> Result:
    if failed:
        return Result(float("inf"), cost=0.1, epochs_trained=0, status="failed")
    value = objective(s.config, s.fidelity)
    return Result(value, cost=float(s.fidelity), epochs_trained=s.fidelity, curve=(value,))


def build(name: str, seed: int = 0) -> Optimizer:
    module = OPTIMIZERS[name].split(":")[0]
    try:
        importlib.import_module(module)
    except ImportError as err:
        pytest.skip(f"optimizer '{name}': module {module} cannot be imported yet ({err})")
    return make_optimizer(name, SPACE, seed, **CONTRACT_OPTIONS.get(name, {}))


# RUSH without hurdles is Hyperband: the contract runs it with two (a good and a poor config)
CONTRACT_OPTIONS: dict[str, dict[str, Any]] = {
    "rush": {
        "hurdles": [
            {"model": "cnn", "lr": 3e-3, "dropout": 0.05, "cnn__num_filters": 64},
            {"model": "boe", "lr": 1e-4, "dropout": 0.5},
        ]
    }
}


def drive(
    opt: Optimizer, n_asks: int, seed: int = 0, workers: int = 3, fail_every: int = 0
) -> list[Event]:
    """Ask ``n_asks`` trials with up to ``workers`` pending; tell a random pending one when full."""
    rng = random.Random(seed)
    events: list[Event] = []
    pending: list[Suggestion] = []
    asked = 0
    while asked < n_asks:
        s = opt.ask() if len(pending) < workers else None
        if s is not None:
            events.append(("ask", s, None))
            pending.append(s)
            asked += 1
            continue
        assert pending, f"{opt.name} returned None with no trial pending (deadlock)"
        s = pending.pop(rng.randrange(len(pending)))
        r = result(s, failed=fail_every > 0 and s.trial_id % fail_every == fail_every - 1)
        opt.tell(s, r)
        events.append(("tell", s, r))
    return events


def roundtrip(s: Suggestion) -> Suggestion:
    """A suggestion as the trial store reads it back from the JSON journal."""
    return Suggestion.from_dict(json.loads(json.dumps(s.to_dict())))


def same(a: Suggestion | None, b: Suggestion | None) -> bool:
    as_json = [None if s is None else json.dumps(s.to_dict(), sort_keys=True) for s in (a, b)]
    return as_json[0] == as_json[1]


_RUNS: dict[str, list[Event]] = {}


@pytest.fixture(params=list(OPTIMIZERS))
def name(request: pytest.FixtureRequest) -> str:
    build(request.param)  # skips when the adapter's module is not importable yet
    return str(request.param)


@pytest.fixture
def run(name: str) -> list[Event]:
    """One 60-ask run per optimizer (seed 0), shared by the read-only contract tests."""
    if name not in _RUNS:
        _RUNS[name] = drive(build(name), 60)
    return _RUNS[name]


def asks(events: list[Event]) -> list[Suggestion]:
    return [s for kind, s, _ in events if kind == "ask"]


# --- contract: every registered optimizer -------------------------------------------------------
def test_name_matches_registry(name: str) -> None:
    assert build(name).name == name


def test_suggestions_are_valid(run: list[Event]) -> None:
    suggestions = asks(run)
    assert len(suggestions) == 60
    for s in suggestions:
        SPACE.validate(s.config)
        assert isinstance(s.fidelity, int)
        assert SPACE.fidelity.min <= s.fidelity <= SPACE.fidelity.max
        json.dumps(s.to_dict())  # info and config must be journal-able


def test_trial_ids_count_from_zero_in_ask_order(run: list[Event]) -> None:
    assert [s.trial_id for s in asks(run)] == list(range(60))


def test_promotions_continue_a_told_parent(run: list[Event]) -> None:
    seen: dict[int, Suggestion] = {}
    told: set[int] = set()
    for kind, s, _ in run:
        if kind == "tell":
            told.add(s.trial_id)
            continue
        if s.parent is not None:
            parent = seen[s.parent]
            assert s.config == parent.config
            assert s.fidelity > parent.fidelity
            assert s.parent in told, "a promotion must wait for its parent's checkpoint"
        seen[s.trial_id] = s


def test_beats_random_configs(run: list[Event]) -> None:
    best = min(r.objective for kind, _, r in run if kind == "tell" and r is not None)
    gen = np.random.default_rng(1)
    randoms = [objective(SPACE.sample(gen), SPACE.fidelity.max) for _ in range(200)]
    assert best < sum(randoms) / len(randoms)


def test_replay_rebuilds_the_same_state(name: str) -> None:
    original = build(name)
    events = drive(original, 40, seed=3)
    rebuilt = build(name)
    for kind, s, r in events:  # as the store folds its JSON journal
        if kind == "ask":
            rebuilt.replay(roundtrip(s))
        else:
            assert r is not None
            rebuilt.tell(roundtrip(s), Result.from_dict(json.loads(json.dumps(r.to_dict()))))
    told = {s.trial_id for kind, s, _ in events if kind == "tell"}
    pending = [(s, roundtrip(s)) for s in asks(events) if s.trial_id not in told]
    for step in range(8):  # both go on identically, told in the same (delayed) order
        a, b = original.ask(), rebuilt.ask()
        assert same(a, b), f"step {step}: {a} != {b}"
        if a is not None and b is not None:
            pending.append((a, b))
        if pending and (a is None or step % 2):
            s, t = pending.pop(0)
            original.tell(s, result(s))
            rebuilt.tell(t, result(t))


def test_replay_of_a_foreign_journal_raises(name: str) -> None:
    first = build(name).ask()
    assert first is not None
    other = dict(first.config, dropout=0.123456789)
    with pytest.raises(ReplayError, match="journal"):
        build(name).replay(Suggestion(first.trial_id, other, first.fidelity, None, first.info))


def test_deterministic_given_the_seed(name: str) -> None:
    a, b = drive(build(name, seed=7), 25, seed=5), drive(build(name, seed=7), 25, seed=5)
    assert [(k, s.to_dict()) for k, s, _ in a] == [(k, s.to_dict()) for k, s, _ in b]


def test_different_seeds_differ(name: str) -> None:
    a, b = asks(drive(build(name, seed=1), 5)), asks(drive(build(name, seed=2), 5))
    assert [s.config for s in a] != [s.config for s in b]


def test_failed_results_are_handled(name: str) -> None:
    events = drive(build(name), 24, fail_every=3)
    assert any(r is not None and r.status == "failed" for _, _, r in events)
    failed = {s.trial_id for k, s, r in events if r is not None and r.status == "failed"}
    for s in asks(events):
        SPACE.validate(s.config)
        assert s.parent not in failed, "a failed trial has no checkpoint to continue"


# --- built-in specifics --------------------------------------------------------------------------
def ask_all(opt: Optimizer) -> list[Suggestion]:
    """Ask until the optimizer has to wait (None); at most 50."""
    out: list[Suggestion] = []
    while len(out) < 50 and (s := opt.ask()) is not None:
        out.append(s)
    return out


def tell_all(opt: Optimizer, suggestions: list[Suggestion], reverse: bool = False) -> None:
    for s in reversed(suggestions) if reverse else suggestions:
        opt.tell(s, result(s))


def test_random_search_is_full_fidelity_from_scratch() -> None:
    opt = make_optimizer("random", SPACE, 0)
    suggestions = [opt.ask() for _ in range(10)]
    assert all(s is not None and s.fidelity == 9 and s.parent is None for s in suggestions)


def test_rungs_and_bracket_sizes() -> None:
    assert RUNGS == [1, 3, 9]
    assert [bracket_sizes(2, s, 3) for s in (2, 1, 0)] == [[9, 3, 1], [5, 1], [3]]
    assert [bracket_sizes(3, s, 3) for s in (3, 2, 1, 0)] == [
        [27, 9, 3, 1], [12, 4, 1], [6, 2], [4]]  # fmt: skip


def test_successive_halving_bracket() -> None:
    opt = make_optimizer("successive_halving", SPACE, 0)
    rung0 = ask_all(opt)
    assert [s.fidelity for s in rung0] == [1] * 9 and all(s.parent is None for s in rung0)
    assert [s.trial_id for s in rung0] == list(range(9))
    tell_all(opt, rung0[1:], reverse=True)
    assert opt.ask() is None, "the rung still waits for trial 0"
    tell_all(opt, rung0[:1])
    best3 = sorted(rung0, key=lambda s: objective(s.config, 1))[:3]
    rung1 = ask_all(opt)
    assert [s.parent for s in rung1] == [s.trial_id for s in best3]
    assert [s.fidelity for s in rung1] == [3] * 3
    assert [s.config for s in rung1] == [s.config for s in best3]
    assert rung1[0].info == {"bracket": 0, "rung": 1}
    tell_all(opt, rung1)
    rung2 = ask_all(opt)
    best1 = min(rung1, key=lambda s: objective(s.config, 3))
    assert [(s.fidelity, s.parent) for s in rung2] == [(9, best1.trial_id)]
    tell_all(opt, rung2)
    again = ask_all(opt)  # the next bracket starts
    assert [s.fidelity for s in again] == [1] * 9 and again[0].info == {"bracket": 1, "rung": 0}


def test_successive_halving_skips_failures() -> None:
    opt = make_optimizer("successive_halving", SPACE, 0)
    rung0 = ask_all(opt)
    for s in rung0:
        opt.tell(s, result(s, failed=s.trial_id != 4))
    promoted = ask_all(opt)
    assert [(s.parent, s.fidelity) for s in promoted] == [(4, 3)]
    opt.tell(promoted[0], result(promoted[0], failed=True))
    assert [s.fidelity for s in ask_all(opt)] == [1] * 9, "nothing survives: next bracket"


def test_hyperband_bracket_schedule() -> None:
    opt = make_optimizer("hyperband", SPACE, 0)
    schedule = []
    for _ in range(7):
        stage = ask_all(opt)
        new = all(s.parent is None for s in stage)
        schedule.append((len(stage), stage[0].fidelity, new, stage[0].info["bracket"]))
        tell_all(opt, stage, reverse=True)
    assert schedule == [
        (9, 1, True, 0), (3, 3, False, 0), (1, 9, False, 0),
        (5, 3, True, 1), (1, 9, False, 1),
        (3, 9, True, 2),
        (9, 1, True, 3),
    ]  # fmt: skip


def test_asha_promotes_as_soon_as_possible() -> None:
    opt = make_optimizer("asha", SPACE, 0)
    first = [s for _ in range(3) if (s := opt.ask()) is not None]
    assert [s.fidelity for s in first] == [1, 1, 1]
    tell_all(opt, first[:2])
    nxt = opt.ask()
    assert nxt is not None and nxt.parent is None and nxt.fidelity == 1, "2 results: no top 1/3"
    opt.tell(first[2], result(first[2]))
    best = min(first, key=lambda s: objective(s.config, 1))
    promoted = opt.ask()
    assert promoted is not None and promoted.info == {"rung": 1}
    assert (promoted.parent, promoted.fidelity, promoted.config) == (
        best.trial_id, 3, best.config)  # fmt: skip
    after = opt.ask()
    assert after is not None and after.fidelity == 1, "rung 0's best is already promoted"
    tell_all(opt, [nxt, promoted, after])
    top = opt.ask()  # rung 1: 1 result, no top third; rung 0: 5 results, top 1
    best5 = min([*first, nxt, after], key=lambda s: objective(s.config, 1))
    want = (None, 1) if best5 is best else (best5.trial_id, 3)
    assert top is not None and (top.parent, top.fidelity) == want


def test_asha_never_waits() -> None:
    opt = make_optimizer("asha", SPACE, 0)
    assert all((s := opt.ask()) is not None and s.fidelity == 1 for _ in range(30))


def test_halving_on_other_fidelities() -> None:
    space = toy_space(min=2, max=27)  # rungs 3, 9, 27
    opt = make_optimizer("hyperband", space, 0)
    stage = ask_all(opt)
    assert space.fidelity.rungs() == [3, 9, 27] and [s.fidelity for s in stage] == [3] * 9


def test_builtins_reject_unknown_options_and_tells() -> None:
    for name in ("random", "successive_halving", "hyperband", "asha"):
        with pytest.raises(ConfigError, match="only the options prior_fraction"):
            make_optimizer(name, SPACE, 0, eta=4)
        with pytest.raises(ConfigError, match="prior_fraction must lie in"):
            make_optimizer(name, SPACE, 0, prior_fraction=1.5)
        opt = make_optimizer(name, SPACE, 0)
        s = opt.ask()
        assert s is not None
        opt.tell(s, result(s))
        opt.tell(s, result(s, failed=True))  # a duplicate tell is ignored
        with pytest.raises(ValueError, match="never suggested"):
            opt.tell(Suggestion(5, s.config, s.fidelity), result(s))


def test_prior_fraction_draws_new_configs_around_the_priors() -> None:
    """ASHA-Prior (seed 002): a share of new configs comes from the prior distribution."""
    from hpotext.space.encode import to_unit

    lr = SPACE.by_key()["lr"]
    centre = to_unit(lr, lr.prior)

    def spread(fraction: float) -> float:
        opt = make_optimizer("random", SPACE, 0, prior_fraction=fraction)
        configs = [opt.ask().config for _ in range(200)]
        return float(np.median([abs(to_unit(lr, c["lr"]) - centre) for c in configs]))

    assert spread(1.0) < 0.5 * spread(0.0)
    assert spread(0.0) > spread(0.5) > spread(1.0)
    plain = make_optimizer("asha", SPACE, 3)
    zero = make_optimizer("asha", SPACE, 3, prior_fraction=0)
    assert [plain.ask() for _ in range(5)] == [zero.ask() for _ in range(5)]  # old journals replay
    first = make_optimizer("asha", SPACE, 3, prior_fraction=0.8)
    asked = [first.ask() for _ in range(6)]
    again = make_optimizer("asha", SPACE, 3, prior_fraction=0.8)
    for s in asked:
        again.replay(s)  # deterministic given the seed
