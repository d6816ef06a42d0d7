"""The search objective: real training, continuation from a parent's checkpoint, failures."""

from __future__ import annotations

import pytest
import torch

from hpotext import space as space_mod
from hpotext.optimizers.records import Suggestion
from hpotext.search.objective import TrialRunner
from tests.test_train import toy_data

SPACE = space_mod.from_dict(
    {
        "fidelity": {"min": 1, "max": 4, "eta": 2},
        "hyperparameters": {
            "model": {"type": "categorical", "choices": ["boe", "transformer"], "prior": "boe"},
            "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True, "prior": 0.03},
            "token_drop": {"type": "float", "low": 0.0, "high": 0.3, "prior": 0.1},
        },
        "families": {"transformer": {"num_heads": {"type": "int", "low": 1, "high": 8}}},
        "fixed": {"embed_dim": 12, "batch_size": 16},
    }
)
CONFIG = {"model": "boe", "lr": 0.03, "token_drop": 0.1}


@pytest.fixture(scope="module")
def runner() -> TrialRunner:
    return TrialRunner(
        SPACE, toy_data(), {"schedule": "cosine"}, seed=0, device=torch.device("cpu")
    )


def test_a_fresh_trial_trains_to_its_fidelity(runner, tmp_path):
    result = runner(Suggestion(0, CONFIG, 2), None, tmp_path / "t0")
    assert result.status == "completed" and result.epochs_trained == 2
    assert len(result.curve) == 2
    assert result.objective == pytest.approx(1 - result.metrics["accuracy"])
    assert result.objective == pytest.approx(result.curve[-1])
    assert [p.name for p in (tmp_path / "t0").glob("epoch*.pt")] == ["epoch002.pt"]


def test_continuation_trains_only_missing_epochs_and_matches_a_straight_run(runner, tmp_path):
    straight = runner(Suggestion(0, CONFIG, 4), None, tmp_path / "straight")
    parent = runner(Suggestion(1, CONFIG, 1), None, tmp_path / "p")
    child = runner(Suggestion(2, CONFIG, 4, parent=1), tmp_path / "p/epoch001.pt", tmp_path / "c")
    assert parent.epochs_trained == 1 and child.epochs_trained == 3
    # same weights, same schedule (horizon = max fidelity): identical validation curve
    assert child.curve == pytest.approx(straight.curve)
    assert child.objective == pytest.approx(straight.objective)
    # (cost is wall seconds: comparing it across runs is a timing threshold, flaky under load)


def test_an_interrupted_trial_continues_from_its_own_checkpoint(runner, tmp_path):
    parent = tmp_path / "p"
    runner(Suggestion(1, CONFIG, 1), None, parent)
    own = tmp_path / "c"
    runner(Suggestion(2, CONFIG, 3, parent=1), parent / "epoch001.pt", own)  # killed after 3
    again = runner(Suggestion(2, CONFIG, 4, parent=1), parent / "epoch001.pt", own)
    # resumed at epoch 3 of its own run; its cost still counts every epoch after the parent's
    assert again.epochs_trained == 3 and len(again.curve) == 4


def test_a_trial_that_raises_is_recorded_as_failed(runner, tmp_path):
    bad = {"model": "transformer", "lr": 0.01, "token_drop": 0.0, "transformer__num_heads": 5}
    result = runner(Suggestion(3, bad, 1), None, tmp_path / "t3")
    assert result.status == "failed" and result.objective == float("inf")
    assert "ConfigError" in (result.stop_reason or "") and "num_heads" in result.stop_reason


def test_a_diverging_trial_is_recorded_as_diverged(tmp_path):
    raw = space_mod.to_dict(SPACE)
    raw["hyperparameters"]["lr"] = {"type": "float", "low": 1.0, "high": 1e30, "log": True}
    base = {"grad_clip": 0.0, "optimizer": "sgd"}
    runner = TrialRunner(space_mod.from_dict(raw), toy_data(), base, 0, torch.device("cpu"))
    result = runner(Suggestion(5, {**CONFIG, "lr": 1e30}, 2), None, tmp_path / "t5")
    assert result.status == "diverged" and result.objective == float("inf")
    assert "non-finite" in (result.stop_reason or "")
