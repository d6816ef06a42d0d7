"""Determinism: the same config and seed on the CPU give the same trials table, run after run.

The two runs train real models on a tiny prepared dataset through the search worker the workflow
runs, with the default stoppers on, one after the other in one fresh Python process: a library
that leaned on unseeded global state would show here. Only the time columns may differ.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hpotext.data import steps as pipeline
from hpotext.search.store import TrialStore
from hpotext.workflow.config import validate_config
from tests.test_pipeline import DATA_CFG, TEXT_CFG

SPLIT_FILES = ("train.parquet", "val.parquet", "vocab.json", "dataset.json")
ROOT = Path(__file__).resolve().parent.parent
TIME_COLUMNS = ["asked_at", "finished_at", "cost_seconds"]
RUN = """
import json, sys
from hpotext.data.info import SplitFiles
from hpotext.search.steps import search as search_worker
for kwargs in json.loads(sys.argv[1]):
    search_worker(**{**kwargs, "files": SplitFiles(*kwargs["files"])})
"""


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("determinism")
    good, bad = ["great", "fun", "superb", "moving"], ["dull", "awful", "weak", "messy"]
    rows = [
        {"text": f"a {(good if i % 2 else bad)[i % 4]} film , {(good if i % 3 else bad)[i % 4]}",
         "label": "pos" if i % 2 else "neg"}
        for i in range(240)
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(root / "reviews.csv", index=False)
    pipeline.prepare(str(root / "reviews.csv"), "reviews", str(root / "data"), DATA_CFG, TEXT_CFG)
    return root


def search_twice(prepared: Path, stores: list[Path], optimizer: str) -> list[pd.DataFrame]:
    config = validate_config({"dataset": "vader"})
    d = prepared / "data"
    kwargs = {
        "space_path": str(ROOT / "config/spaces/test.yaml"),
        "files": [str(d / n) for n in SPLIT_FILES],  # a SplitFiles in the subprocess
        "store_dir": "",
        "optimizer": optimizer,
        "seed": 3,
        "budget": {"kind": "epochs", "amount": 12},
        "base_train": {**config["train"], "batch_size": 16},
        "max_len": 16,
        "worker": "w1",
        "workers": ["w1"],
        "max_consecutive_failures": 5,
        "stopping": config["stopping"],
    }
    runs = [{**kwargs, "store_dir": str(s), "done_out": str(s / "done.json")} for s in stores]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run([sys.executable, "-c", RUN, json.dumps(runs)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [TrialStore(s).table() for s in stores]


@pytest.mark.parametrize("optimizer", ["asha", "dehb", "priorband", "optuna_tpe"])
def test_same_seed_same_trials_table(prepared: Path, tmp_path: Path, optimizer: str) -> None:
    first, second = search_twice(prepared, [tmp_path / "a", tmp_path / "b"], optimizer)
    assert len(first) >= 4 and first["epochs_trained"].sum() >= 12
    assert first["curve"].map(len).gt(0).all()  # real training happened
    pd.testing.assert_frame_equal(first.drop(columns=TIME_COLUMNS),
                                  second.drop(columns=TIME_COLUMNS))  # fmt: skip
    assert not first[TIME_COLUMNS].isna().all().any()
