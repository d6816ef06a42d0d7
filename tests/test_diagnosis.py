"""Training diagnosis and the EMA stopper: each symptom fires on a bad run, quiet on a good one."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from hpotext.errors import ConfigError
from hpotext.train.callbacks import Callback, TrainState
from hpotext.train.config import TrainConfig
from hpotext.train.diagnosis import (
    Diagnosis,
    DiagnosisSettings,
    EmaSettings,
    EmaStopper,
    Gate,
    ema,
    stoppers,
)
from hpotext.train.loop import train
from hpotext.train.records import EpochRecord
from tests.test_train import toy_data

CPU = torch.device("cpu")
BOE = {"embed_dim": 16, "dropout": 0.1}
EARLY = Gate(check_fraction=1.0, percentile=50.0, min_comparable=3)


def strong_peers(epoch: int) -> list[float]:
    """Comparable trials that are all perfect: any trial is below par."""
    return [1.0] * 5


def weak_peers(epoch: int) -> list[float]:
    return [0.0] * 5


def run(lr: float, model: str = "boe", hp: dict | None = None, epochs: int = 4,
        peers=strong_peers, extra: tuple[Callback, ...] = (), **settings):  # fmt: skip
    diag = Diagnosis(DiagnosisSettings(**settings), EARLY, peers)
    cfg = TrainConfig(epochs=epochs, batch_size=16, lr=lr, warmup_fraction=0.0, grad_clip=0.0)
    result = train(model, hp or BOE, cfg, toy_data(), epochs=epochs, seed=0, device=CPU,
                   callbacks=(*extra, diag))  # fmt: skip
    return result, diag


def test_healthy_run_is_quiet() -> None:
    result, diag = run(0.05)
    assert diag.findings == {} and result.stop_reason is None
    assert result.epochs_trained == 4 and result.history[-1].val_accuracy > 0.9


def test_huge_learning_rate_explodes_or_diverges() -> None:
    result, diag = run(10.0, eg_grad=10.0)
    assert result.diverged or "EG" in (result.stop_reason or "")
    assert result.epochs_trained < 4


def test_tiny_learning_rate_vanishes_and_saturates() -> None:
    result, diag = run(1e-7)
    assert {"VG", "SC"} <= set(diag.findings)
    assert result.stop_reason.startswith("diagnosis ") and "VG" in result.stop_reason
    # 15 steps per epoch here: the 20-step loss windows are full during epoch 2
    assert "p50" in result.stop_reason and result.epochs_trained == 2


class NegativeBias(Callback):
    """Push the hidden layer's bias far below zero before training: every ReLU unit dies."""

    def on_train_begin(self, state: TrainState) -> None:
        hidden = next(m for m in state.model.modules() if isinstance(m, nn.Linear))
        with torch.no_grad():
            hidden.bias.fill_(-100.0)


def test_relu_model_with_large_negative_bias_has_dying_relus() -> None:
    hp = {**BOE, "hidden_dim": 32}
    result, diag = run(0.01, hp=hp, extra=(NegativeBias(),))
    assert "DR" in diag.findings and "100% of 32 ReLU units" in diag.findings["DR"]
    assert "DR" in result.stop_reason
    healthy, quiet = run(0.05, hp=hp)
    assert "DR" not in quiet.findings


def test_cnn_relus_are_watched() -> None:
    hp = {"embed_dim": 8, "num_filters": 4, "kernel_sizes": (2,)}
    result, diag = run(0.05, model="cnn", hp=hp, epochs=2)
    assert diag.findings == {} and result.epochs_trained == 2


def test_a_symptom_alone_does_not_stop_a_good_trial() -> None:
    for peers in (weak_peers, lambda epoch: [1.0, 1.0], None):  # above par / too few / no store
        result, diag = run(1e-7, peers=peers)
        assert "VG" in diag.findings and result.stop_reason is None
        assert result.epochs_trained == 4


def state_with(history: list[tuple[float, float, float]], epoch_limit: int = 10) -> TrainState:
    """A state after len(history) epochs of (train_loss, val_loss, val_accuracy)."""
    state = TrainState(nn.Linear(2, 2), torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1),
                       max_epochs=epoch_limit, target_epoch=epoch_limit)  # fmt: skip
    state.history = [
        EpochRecord(i + 1, tl, vl, acc, acc, 0.1, 1.0) for i, (tl, vl, acc) in enumerate(history)
    ]
    state.epoch = len(history)
    return state


def epoch_findings(history: list[tuple[float, float, float]], **settings) -> Diagnosis:
    diag = Diagnosis(DiagnosisSettings(**settings), EARLY, strong_peers)
    state = state_with(history)
    diag.on_train_begin(state)
    diag.on_epoch_end(state)
    return diag


def test_no_more_gain_and_overfitting_from_the_epoch_history() -> None:
    plateau = [(0.5, 0.5, 0.80), (0.4, 0.5, 0.85), (0.3, 0.5, 0.85), (0.3, 0.5, 0.84),
               (0.3, 0.5, 0.85)]  # fmt: skip
    assert set(epoch_findings(plateau).findings) == {"NMG"}
    overfit = [(0.5, 0.50, 0.80), (0.3, 0.52, 0.86), (0.2, 0.55, 0.87), (0.1, 0.60, 0.88)]
    assert set(epoch_findings(overfit).findings) == {"OF"}
    rising = [(0.6, 0.6, 0.70), (0.5, 0.55, 0.75), (0.4, 0.5, 0.80), (0.3, 0.45, 0.85)]
    assert epoch_findings(rising).findings == {}


def test_heavy_oscillation_of_the_step_loss() -> None:
    diag = Diagnosis(DiagnosisSettings(window=4, interval=1), EARLY, strong_peers)
    state = state_with([])
    diag.on_train_begin(state)
    for step, loss in enumerate([1.0, 1.0, 1.0, 1.0, 2.0, 0.2, 2.0, 0.2], start=1):
        state.step, state.loss = step, loss
        diag.on_step_end(state)
    assert "HO" in diag.findings
    calm = Diagnosis(DiagnosisSettings(window=4, interval=1), EARLY, strong_peers)
    calm.on_train_begin(state)
    for step, loss in enumerate([1.0, 0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.45], start=1):
        state.step, state.loss = step, loss
        calm.on_step_end(state)
    assert calm.findings == {}


def test_checks_only_in_the_early_window_and_never_at_the_last_epoch() -> None:
    gate = Gate(check_fraction=0.5)
    state = state_with([(0.5, 0.5, 0.8)] * 5, epoch_limit=10)
    assert gate.in_window(state)
    state.epoch = 6
    assert not gate.in_window(state)
    state.epoch, state.target_epoch = 3, 3
    assert not gate.in_window(state)
    assert gate.below_par(0.5, 1, lambda e: [0.6, 0.7, 0.8, 0.9, 1.0]) == (
        "val acc 0.5000 < p50 0.8000 of 5 trials at epoch 1"
    )
    assert gate.below_par(0.85, 1, lambda e: [0.6, 0.7, 0.8, 0.9, 1.0]) is None


def test_ema_stopper_stops_a_flat_below_par_curve_only() -> None:
    assert ema([0.0, 1.0, 1.0], 0.5) == [0.0, 0.5, 0.75]
    flat = state_with([(0.5, 0.5, 0.60), (0.5, 0.5, 0.61), (0.5, 0.5, 0.60), (0.5, 0.5, 0.60)])
    stopper = EmaStopper(EmaSettings(alpha=0.5, window=2, min_slope=0.01), EARLY, strong_peers)
    stopper.on_epoch_end(flat)
    assert flat.stop_reason.startswith("ema: smoothed val acc slope")
    rising = state_with([(0.5, 0.5, 0.60), (0.5, 0.5, 0.65), (0.5, 0.5, 0.70), (0.5, 0.5, 0.75)])
    stopper.on_epoch_end(rising)
    assert rising.stop_reason is None
    good = state_with([(0.5, 0.5, 0.60)] * 4)
    EmaStopper(EmaSettings(), EARLY, weak_peers).on_epoch_end(good)
    assert good.stop_reason is None


def test_stopping_config() -> None:
    both = stoppers({}, strong_peers)
    assert [type(c) for c in both] == [Diagnosis, EmaStopper]
    assert stoppers({"diagnosis": {"enabled": False}, "ema": {"enabled": False}}, None) == ()
    only = stoppers({"percentile": 25, "ema": {"enabled": False}}, None)
    assert len(only) == 1 and only[0].gate.percentile == 25
    with pytest.raises(ConfigError, match="unknown config key"):
        stoppers({"diagnosis": {"eg": 1}}, None)
    with pytest.raises(ConfigError, match="unknown config key"):
        stoppers({"patience": 3}, None)
    with pytest.raises(ConfigError, match="check_fraction"):
        stoppers({"check_fraction": 0}, None)
    assert both[0].settings.eg_grad == 1000.0  # the schema's default, documented
