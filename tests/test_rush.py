"""RUSH (seed 003): hurdles first, then the base optimizer promoting only what beats them."""

from __future__ import annotations

import math
from typing import Any

import pytest

from hpotext.errors import ConfigError
from hpotext.optimizers import Suggestion, make_optimizer
from hpotext.optimizers.rush import RUSH
from tests.test_optimizers import SPACE, ask_all, objective, result, tell_all

GOOD = {"model": "cnn", "lr": 10**-2.5, "dropout": 0.0, "cnn__num_filters": 64}  # the optimum
POOR = {"model": "boe", "lr": 1e-4, "dropout": 0.6}


def run_to(opt: Any, n_asks: int) -> list[Suggestion]:
    """Ask, telling every waiting stage in order, until ``n_asks`` suggestions were handed out."""
    out: list[Suggestion] = []
    while len(out) < n_asks:
        stage = ask_all(opt)[: n_asks - len(out)]
        assert stage, "RUSH waits with nothing pending"
        tell_all(opt, stage)
        out += stage
    return out


def test_without_hurdles_rush_is_its_base_trial_for_trial() -> None:
    for base in ("hyperband", "successive_halving"):
        plain = run_to(make_optimizer(base, SPACE, 4), 40)
        rush = run_to(make_optimizer("rush", SPACE, 4, base=base), 40)
        assert [s.to_dict() for s in rush] == [s.to_dict() for s in plain]


def test_hurdles_run_first_and_the_best_climbs_every_rung() -> None:
    opt = make_optimizer("rush", SPACE, 0, hurdles=[POOR, GOOD, dict(GOOD)])  # a duplicate
    assert isinstance(opt, RUSH) and len(opt.hurdles) == 2
    first = ask_all(opt)
    assert [(s.config, s.fidelity, s.info) for s in first] == [
        (POOR, 1, {"bracket": -1, "rung": 0, "hurdle": 0}),
        (GOOD, 1, {"bracket": -1, "rung": 0, "hurdle": 1}),
    ]
    tell_all(opt, first)
    chain = []
    for rung, fidelity in enumerate(SPACE.fidelity.rungs()[1:], start=1):
        (s,) = ask_all(opt)  # only the best hurdle goes on, continuing its checkpoint
        assert (s.config, s.fidelity, s.info["rung"]) == (GOOD, fidelity, rung)
        assert s.parent == (first[1].trial_id if rung == 1 else chain[-1].trial_id)
        tell_all(opt, [s])
        chain.append(s)
    bracket = ask_all(opt)  # then Hyperband's first bracket: 9 new configs at 1 epoch
    assert [s.info for s in bracket] == [{"bracket": 0, "rung": 0}] * 9
    assert opt.thresholds == {r: objective(GOOD, f) for r, f in enumerate(SPACE.fidelity.rungs())}


def promotions(suggestions: list[Suggestion]) -> list[Suggestion]:
    return [s for s in suggestions if s.parent is not None and s.info["bracket"] >= 0]


def test_only_configs_as_good_as_the_hurdle_are_promoted() -> None:
    hurdle = {"model": "cnn", "lr": 10**-2.2, "dropout": 0.1, "cnn__num_filters": 64}
    opt = make_optimizer("rush", SPACE, 1, hurdles=[hurdle])
    asked = run_to(opt, 120)
    assert isinstance(opt, RUSH)
    by_id = {s.trial_id: s for s in asked}
    promoted = promotions(asked)
    for s in promoted:
        parent = by_id[s.parent]  # type: ignore[index]
        rung = parent.info["rung"]
        assert objective(parent.config, parent.fidelity) <= opt.thresholds[rung]
    plain = run_to(make_optimizer("hyperband", SPACE, 1), 120 - 3)
    assert len(promoted) < len(promotions(plain)), "the hurdle prunes promotions"
    assert any(s.fidelity == 9 and s.info["bracket"] >= 0 for s in asked), "new brackets go on"


def test_a_poor_hurdle_changes_nothing_after_its_own_trials() -> None:
    opt = make_optimizer("rush", SPACE, 2, hurdles=[POOR])
    asked = run_to(opt, 60)
    hurdle_trials = [s for s in asked if s.info["bracket"] == -1]
    assert len(hurdle_trials) == len(SPACE.fidelity.rungs())
    plain = run_to(make_optimizer("hyperband", SPACE, 2), 60 - len(hurdle_trials))
    shift = len(hurdle_trials)
    rest = asked[shift:]
    assert [(s.config, s.fidelity, s.info) for s in rest] == [
        (s.config, s.fidelity, s.info) for s in plain
    ]
    assert [None if s.parent is None else s.parent - shift for s in rest] == [
        s.parent for s in plain
    ]


def test_the_optimum_as_hurdle_saves_compute_at_the_top_rung() -> None:
    def top_epochs(opt: Any, n: int) -> int:
        return sum(s.fidelity for s in run_to(opt, n) if s.fidelity == 9)

    hurdled = top_epochs(make_optimizer("rush", SPACE, 3, hurdles=[GOOD]), 100)
    plain = top_epochs(make_optimizer("hyperband", SPACE, 3), 100)
    assert hurdled < plain


def test_a_failed_hurdle_sets_no_threshold() -> None:
    opt = make_optimizer("rush", SPACE, 0, hurdles=[GOOD])
    (s,) = ask_all(opt)
    opt.tell(s, result(s, failed=True))
    nxt = ask_all(opt)
    assert isinstance(opt, RUSH) and opt.thresholds == {}
    assert len(nxt) == 9 and all(t.info["bracket"] == 0 for t in nxt)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"base": "asha"}, "option base must be one of hyperband, successive_halving"),
        ({"hurdles": GOOD}, "option hurdles must be a list of configs"),
        ({"hurdles": ["lstm"]}, r"hurdles\[0\] must be a config"),
        (
            {"hurdles": [{"model": "cnn", "lr": 0.5, "dropout": 0.0, "cnn__num_filters": 64}]},
            r"hurdles\[0\] is not a config of this search space",
        ),  # fmt: skip
        ({"eta": 2}, "takes only the options hurdles, base, prior_fraction"),
    ],
)
def test_bad_options_fail_with_one_sentence(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_optimizer("rush", SPACE, 0, **options)


def test_thresholds_come_only_from_hurdles() -> None:
    opt = make_optimizer("rush", SPACE, 0)
    run_to(opt, 30)
    assert isinstance(opt, RUSH) and opt.thresholds == {}
    assert math.isinf(opt.thresholds.get(0, math.inf))
