"""The GPU path of the trainer (bf16 autocast, batch-size search); skipped without CUDA."""

from __future__ import annotations

import pytest
import torch

from hpotext.train.checkpoint import checkpoint_path
from hpotext.train.config import TrainConfig
from hpotext.train.loop import train
from hpotext.train.setup import find_batch_size
from tests.test_train import toy_data

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
CUDA = torch.device("cuda")


@pytest.mark.parametrize("model", ["boe", "cnn", "lstm", "transformer"])
def test_every_model_learns_on_cuda_with_bf16(model: str) -> None:
    cfg = TrainConfig(epochs=8, batch_size=16, lr=0.01, token_drop=0.1)
    res = train(model, {"embed_dim": 32}, cfg, toy_data(), epochs=8, seed=0, device=CUDA)
    assert not res.diverged
    assert res.best().val_accuracy > 0.85


def test_resume_on_cuda_matches_closely(tmp_path) -> None:
    cfg = TrainConfig(epochs=4, batch_size=16, lr=0.01)
    data = toy_data(120)
    hp = {"embed_dim": 16}
    train("boe", hp, cfg, data, epochs=4, seed=1, checkpoint_dir=tmp_path / "a", device=CUDA)
    train("boe", hp, cfg, data, epochs=2, seed=1, checkpoint_dir=tmp_path / "b", device=CUDA)
    rest = train(
        "boe",
        hp,
        cfg,
        data,
        epochs=4,
        seed=1,
        checkpoint_dir=tmp_path / "b",
        resume_from=checkpoint_path(tmp_path / "b", 2),
        device=CUDA,
    )
    assert rest.epochs_trained == 2
    a = torch.load(checkpoint_path(tmp_path / "a", 4), weights_only=False)["model"]
    b = torch.load(checkpoint_path(tmp_path / "b", 4), weights_only=False)["model"]
    for key, tensor in a.items():
        torch.testing.assert_close(tensor, b[key], atol=1e-3, rtol=1e-3)


def test_batch_size_search_finds_a_power_of_two() -> None:
    size = find_batch_size("lstm", {"embed_dim": 64, "hidden_dim": 64}, toy_data(32), CUDA)
    assert size >= 64 and size & (size - 1) == 0
