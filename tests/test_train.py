"""The trainer: learning, checkpoints, exact continuation, callbacks, divergence."""

from __future__ import annotations

import random

import pytest
import torch

from hpotext.errors import ConfigError
from hpotext.train.callbacks import Callback, TrainState
from hpotext.train.checkpoint import checkpoint_path
from hpotext.train.config import TrainConfig
from hpotext.train.loop import load_model, train
from hpotext.train.records import TrainData


def toy_data(n: int = 240, seed: int = 0) -> TrainData:
    """Class 1 iff token 3 appears; lengths vary from 2 to 12."""
    rng = random.Random(seed)

    def make(count: int) -> tuple[list[list[int]], list[int]]:
        seqs, labels = [], []
        for _ in range(count):
            seq = [rng.randint(4, 29) for _ in range(rng.randint(2, 12))]
            label = rng.random() < 0.5
            if label:
                seq[rng.randrange(len(seq))] = 3
            seqs.append(seq)
            labels.append(int(label))
        return seqs, labels

    tr, ytr = make(n)
    va, yva = make(n // 4)
    return TrainData(tr, ytr, va, yva, vocab_size=30, num_classes=2, max_len=12)


BOE = {"embed_dim": 16, "dropout": 0.1}
CPU = torch.device("cpu")


def test_trainer_learns_a_separable_task() -> None:
    cfg = TrainConfig(epochs=6, batch_size=16, lr=0.05, token_drop=0.0)
    result = train("boe", BOE, cfg, toy_data(), epochs=6, seed=0, device=CPU)
    assert result.epochs_trained == 6 and len(result.history) == 6
    assert result.history[-1].val_accuracy > 0.9
    assert result.history[-1].train_loss < result.history[0].train_loss


@pytest.mark.parametrize(
    ("model", "schedule"), [("boe", "cosine"), ("boe", "constant"), ("lstm", "cosine")]
)
def test_resume_equals_uninterrupted_run(tmp_path, model: str, schedule: str) -> None:
    """Train 2 epochs, resume to 4: weights, history and RNG match a straight run to 4."""
    cfg = TrainConfig(
        epochs=4, batch_size=16, lr=0.01, schedule=schedule, token_drop=0.2, warmup_fraction=0.2
    )
    hp = {"embed_dim": 16, "dropout": 0.3} if model == "boe" else {"embed_dim": 8, "hidden_dim": 8}
    data = toy_data(120)
    train(model, hp, cfg, data, epochs=4, seed=3, checkpoint_dir=tmp_path / "a", device=CPU)
    first = train(model, hp, cfg, data, epochs=2, seed=3, checkpoint_dir=tmp_path / "b", device=CPU)
    assert first.epochs_trained == 2
    rest = train(
        model,
        hp,
        cfg,
        data,
        epochs=4,
        seed=3,
        checkpoint_dir=tmp_path / "b",
        resume_from=checkpoint_path(tmp_path / "b", 2),
        device=CPU,
    )
    assert rest.epochs_trained == 2  # only the missing epochs
    a = torch.load(checkpoint_path(tmp_path / "a", 4), weights_only=False)
    b = torch.load(checkpoint_path(tmp_path / "b", 4), weights_only=False)
    for key, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][key]), key
    assert [r["val_loss"] for r in a["history"]] == [r["val_loss"] for r in b["history"]]
    assert a["step"] == b["step"]


def test_checkpoint_keep_policies(tmp_path) -> None:
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.02)
    train(
        "boe", BOE, cfg, toy_data(96), epochs=3, seed=0, checkpoint_dir=tmp_path / "all", device=CPU
    )
    assert sorted(p.name for p in (tmp_path / "all").glob("*.pt")) == [
        "epoch001.pt",
        "epoch002.pt",
        "epoch003.pt",
    ]
    train(
        "boe",
        BOE,
        cfg,
        toy_data(96),
        epochs=3,
        seed=0,
        checkpoint_dir=tmp_path / "last",
        keep="last",
        device=CPU,
    )
    assert [p.name for p in (tmp_path / "last").glob("*.pt")] == ["epoch003.pt"]
    res = train(
        "boe",
        BOE,
        cfg,
        toy_data(96),
        epochs=3,
        seed=0,
        checkpoint_dir=tmp_path / "best",
        keep="best",
        device=CPU,
    )
    kept = {int(p.stem[5:]) for p in (tmp_path / "best").glob("*.pt")}
    assert kept == {3, res.best().epoch}


class StopAt(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.steps = 0
        self.epochs_seen: list[int] = []

    def on_step_end(self, state: TrainState) -> None:
        self.steps += 1

    def on_epoch_end(self, state: TrainState) -> None:
        self.epochs_seen.append(state.history[-1].epoch)
        if state.epoch == self.epoch:
            state.request_stop(f"stopped at {self.epoch}")


def test_callbacks_see_steps_and_epochs_and_can_stop() -> None:
    cb = StopAt(2)
    cfg = TrainConfig(epochs=5, batch_size=40, lr=0.01)
    res = train("boe", BOE, cfg, toy_data(120), epochs=5, seed=0, callbacks=[cb], device=CPU)
    assert cb.epochs_seen == [1, 2]
    assert cb.steps == 2 * 3  # 120 examples / 40 per batch
    assert res.stop_reason == "stopped at 2" and res.epochs_trained == 2 and not res.diverged


def test_divergence_is_reported_not_raised() -> None:
    cfg = TrainConfig(
        epochs=3,
        batch_size=16,
        lr=1e6,
        optimizer="sgd",
        grad_clip=0.0,
        weight_decay=0.0,
        schedule="constant",
        warmup_fraction=0.0,
    )
    res = train(
        "boe",
        {"embed_dim": 16, "hidden_dim": 16, "dropout": 0.0},
        cfg,
        toy_data(),
        epochs=3,
        seed=0,
        device=CPU,
    )
    assert res.diverged and res.stop_reason is not None and "non-finite" in res.stop_reason


def test_sgd_and_label_smoothing_train() -> None:
    cfg = TrainConfig(epochs=4, batch_size=16, lr=0.2, optimizer="sgd", label_smoothing=0.1)
    res = train("boe", BOE, cfg, toy_data(), epochs=4, seed=0, device=CPU)
    assert res.history[-1].val_accuracy > 0.8


def test_bad_train_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match="train.optimizer"):
        TrainConfig(optimizer="adam")
    with pytest.raises(ConfigError, match="unknown training hyperparameter"):
        TrainConfig.from_dict({"lrate": 0.1})
    with pytest.raises(ConfigError, match="epochs"):
        train("boe", BOE, TrainConfig(epochs=2), toy_data(40), epochs=3, seed=0, device=CPU)


@pytest.mark.parametrize("padding", ["batch", "fixed"])
def test_padding_modes_train_alike(padding: str) -> None:
    cfg = TrainConfig(epochs=4, batch_size=16, lr=0.05, padding=padding)
    res = train("boe", BOE, cfg, toy_data(), epochs=4, seed=0, device=CPU)
    assert res.history[-1].val_accuracy > 0.85


def test_load_model_restores_weights_and_epoch(tmp_path) -> None:
    cfg = TrainConfig(epochs=2, batch_size=32, lr=0.02)
    data = toy_data(64)
    train("boe", BOE, cfg, data, epochs=2, seed=0, checkpoint_dir=tmp_path, device=CPU)
    model, epoch = load_model(checkpoint_path(tmp_path, 2), 30, 2, 12, CPU)
    saved = torch.load(checkpoint_path(tmp_path, 2), weights_only=False)["model"]
    assert epoch == 2 and not model.training
    assert all(torch.equal(v, saved[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("optimizer", ["adamw", "sgd"])
def test_fused_optimizer_trains_as_the_default_one(tmp_path, monkeypatch, optimizer: str) -> None:
    """The fused kernels (loop.FUSED) give the default optimizer's weights to float rounding,
    and a checkpoint written without them (before FUSED) resumes."""
    from hpotext.train import loop

    cfg = TrainConfig(
        epochs=3, batch_size=16, lr=0.05, optimizer=optimizer, momentum=0.9, weight_decay=0.01
    )
    data, weights, groups = toy_data(120), {}, {}
    for fused in (True, False):
        monkeypatch.setattr(loop, "FUSED", fused)
        folder = tmp_path / str(fused)
        train("boe", BOE, cfg, data, epochs=3, seed=1, checkpoint_dir=folder, device=CPU)
        ckpt = torch.load(checkpoint_path(folder, 3), weights_only=False)
        weights[fused] = ckpt["model"]
        groups[fused] = ckpt["optimizer"]["param_groups"][0]
    assert groups[True]["fused"] is True and not groups[False]["fused"]
    for key, tensor in weights[False].items():
        assert torch.allclose(tensor, weights[True][key], atol=1e-5), key
    monkeypatch.setattr(loop, "FUSED", True)
    old = tmp_path / "False"
    rest = train(
        "boe", BOE, cfg, data, epochs=3, seed=1, checkpoint_dir=tmp_path / "resumed",
        resume_from=checkpoint_path(old, 2), device=CPU,
    )  # fmt: skip
    resumed = torch.load(checkpoint_path(tmp_path / "resumed", 3), weights_only=False)
    assert rest.epochs_trained == 1
    for key, tensor in weights[False].items():
        assert torch.allclose(tensor, resumed["model"][key], atol=1e-5), key
