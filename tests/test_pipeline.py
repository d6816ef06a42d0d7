"""Workflow steps as functions: prepare, subset, train (with resume after a kill), evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hpotext.data.info import SplitFiles
from hpotext.data.split import sample_rows
from hpotext.data.steps import prepare, subset
from hpotext.data.text import Vocab
from hpotext.errors import ConfigError
from hpotext.final import retrain as retrain_mod
from hpotext.final.retrain import train_to_full
from hpotext.final.steps import evaluate
from hpotext.final.steps import tfidf as tfidf_baseline
from hpotext.train.callbacks import Callback, TrainState
from hpotext.train.config import TrainConfig
from hpotext.train.loop import default_device
from hpotext.train.setup import ModelConfig, load_train_data

DATA_CFG = {
    "text_column": "text",
    "label_column": "label",
    "split_column": "",
    "encoding": "utf-8",
    "format": "auto",
    "delimiter": "",
    "val_fraction": 0.2,
    "test_fraction": 0.2,
    "split_seed": 0,
    "max_rows": 0,
    "max_dropped_fraction": 0.2,
    "max_chars": 10_000,
}
TEXT_CFG = {"lowercase": True, "min_freq": 1, "max_size": 1000, "max_len": 16}
TRAIN_CFG = {"epochs": 3, "batch_size": 16, "lr": 0.05, "padding": "bucket"}
MODEL = ModelConfig("boe", {"embed_dim": 16})
SPLIT_FILES = ("train.parquet", "val.parquet", "vocab.json", "dataset.json")


@pytest.fixture
def prepared(tmp_path: Path) -> Path:
    good, bad = ["great", "fun", "superb"], ["dull", "awful", "weak"]
    rows = [
        {"text": f"a {(good if i % 2 else bad)[i % 3]} film", "label": "pos" if i % 2 else "neg"}
        for i in range(200)
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "reviews.csv", index=False)
    out = tmp_path / "data"
    info = prepare(str(tmp_path / "reviews.csv"), "reviews", str(out), DATA_CFG, TEXT_CFG)
    assert info.classes == ["neg", "pos"] and info.split_sizes == {
        "train": 120,
        "val": 40,
        "test": 40,
    }
    return out


def test_prepare_builds_vocab_from_train_only(prepared: Path) -> None:
    vocab = Vocab.load(prepared / "vocab.json")
    train_tokens = {
        t for text in pd.read_parquet(prepared / "train.parquet")["text"] for t in text.split()
    }
    assert set(vocab.itos[2:]) == train_tokens


def test_sample_rows_is_stratified_and_checks_size() -> None:
    df = pd.DataFrame({"text": [str(i) for i in range(100)], "label": ["a"] * 80 + ["b"] * 20})
    part = sample_rows(df, 50, seed=0)
    assert len(part) == 50 and part["label"].value_counts().to_dict() == {"a": 40, "b": 10}
    assert len(sample_rows(df, 0, seed=0)) == 100
    with pytest.raises(ConfigError, match="data.max_rows"):
        sample_rows(df, 3, seed=0)


def test_subset_fraction(prepared: Path, tmp_path: Path) -> None:
    subset(str(prepared / "train.parquet"), str(tmp_path / "s.parquet"), 0.4, seed=0)
    assert len(pd.read_parquet(tmp_path / "s.parquet")) == 48


def run_train(prepared: Path, tmp_path: Path) -> None:
    data = load_train_data(SplitFiles(*(str(prepared / n) for n in SPLIT_FILES)), max_len=16)
    train_to_full(
        data,
        MODEL,
        TrainConfig.from_dict(TRAIN_CFG),
        seed=0,
        model_out=str(tmp_path / "model.pt"),
        curve_out=str(tmp_path / "curve.parquet"),
        work_dir=str(tmp_path / "checkpoints"),
        device=default_device(),
    )


class Killed(Exception):
    pass


class KillAfter(Callback):
    def on_epoch_end(self, state: TrainState) -> None:
        if state.epoch == 2:
            raise Killed


def test_interrupted_training_continues_from_last_epoch(
    prepared: Path, tmp_path: Path, monkeypatch
) -> None:
    trained: list[int] = []
    real_train = retrain_mod.train

    def spy(*args, callbacks=(), **kwargs):
        result = real_train(*args, callbacks=[*callbacks, *extra], **kwargs)
        trained.append(result.epochs_trained)
        return result

    monkeypatch.setattr(retrain_mod, "train", spy)
    extra: list[Callback] = [KillAfter()]
    with pytest.raises(Killed):
        run_train(prepared, tmp_path)
    assert (tmp_path / "checkpoints/epoch002.pt").exists() and not (tmp_path / "model.pt").exists()
    extra.clear()
    run_train(prepared, tmp_path)
    assert trained == [1]  # only epoch 3 was trained again
    curve = pd.read_parquet(tmp_path / "curve.parquet")
    assert list(curve["epoch"]) == [1, 2, 3] and curve["best"].sum() == 1
    assert not (tmp_path / "checkpoints").exists()

    metrics = evaluate(
        str(tmp_path / "model.pt"),
        str(prepared / "test.parquet"),
        str(prepared / "vocab.json"),
        str(prepared / "dataset.json"),
        16,
        str(tmp_path / "test_metrics.json"),
    )
    assert metrics["accuracy"] > 0.9 and metrics["epoch"] == int(
        curve.loc[curve["best"], "epoch"].iloc[0]
    )
    assert sum(map(sum, metrics["confusion"])) == 40
    assert set(metrics["per_class"]) == {"neg", "pos"}


def test_changed_config_does_not_resume_stale_checkpoints(prepared: Path, tmp_path: Path) -> None:
    work = tmp_path / "checkpoints"
    work.mkdir()
    (work / "run.json").write_text(json.dumps({"other": "config"}))
    (work / "epoch002.pt").write_bytes(b"stale")
    run_train(prepared, tmp_path)  # would fail to load the stale file if it resumed
    assert (tmp_path / "model.pt").exists()


def test_tfidf_reference(prepared: Path, tmp_path: Path) -> None:
    out = tfidf_baseline(
        str(prepared / "train.parquet"),
        str(prepared / "val.parquet"),
        str(prepared / "test.parquet"),
        str(prepared / "dataset.json"),
        str(tmp_path / "t.json"),
    )
    assert out["test"]["accuracy"] == 1.0  # one word decides the class
    assert json.loads((tmp_path / "t.json").read_text())["val"]["macro_f1"] == 1.0


def test_prepare_warns_when_most_val_tokens_are_unknown(tmp_path: Path) -> None:
    rows = [{"text": f"unique{i} words{i}", "label": "ab"[i % 2]} for i in range(300)]
    rows[0]["text"] = "x" * 50
    pd.DataFrame(rows).to_csv(tmp_path / "r.csv", sep=";", index=False)  # sniffed delimiter
    out = tmp_path / "data"
    info = prepare(
        str(tmp_path / "r.csv"), "r", str(out), {**DATA_CFG, "max_chars": 40},
        {**TEXT_CFG, "min_freq": 2},
    )  # fmt: skip
    assert any("val tokens" in w and "text.min_freq" in w for w in info.warnings)
    assert any("data.max_chars = 40" in w for w in info.warnings)
    saved = json.loads((out / "dataset.json").read_text())["warnings"]
    assert saved == info.warnings
