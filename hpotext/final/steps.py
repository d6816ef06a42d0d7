"""The final stage's steps: retrain a config over a seed, evaluate it on the test split, and the
TF-IDF + logistic-regression reference every study reports beside its own result.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from hpotext import space as space_mod
from hpotext.data import info as data_mod
from hpotext.data.info import SplitFiles
from hpotext.data.text import tokenize
from hpotext.final.retrain import train_to_full
from hpotext.io import read_json, write_json, write_parquet
from hpotext.predict.ensemble import predictions_frame
from hpotext.train.checkpoint import checkpoint_model
from hpotext.train.inputs import Preprocess, TrainInputs
from hpotext.train.loop import default_device, load_model
from hpotext.train.metrics import predict, report
from hpotext.train.setup import ModelConfig, find_batch_size, training_setup

log = logging.getLogger(__name__)


def tfidf(
    train_path: str, val_path: str, test_path: str, info_path: str, out_path: str, seed: int = 0
) -> dict[str, Any]:
    """Fit word 1-2-gram TF-IDF + logistic regression on train; score val and test."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    start = time.perf_counter()
    classes = data_mod.DatasetInfo.from_json(info_path).classes
    index = {c: i for i, c in enumerate(classes)}
    splits = {
        k: data_mod.load_split(p)
        for k, p in {"train": train_path, "val": val_path, "test": test_path}.items()
    }
    model = make_pipeline(
        TfidfVectorizer(
            tokenizer=tokenize, token_pattern=None, ngram_range=(1, 2), min_df=1, sublinear_tf=True
        ),
        LogisticRegression(C=4.0, max_iter=2000, random_state=seed),
    )
    y = {k: np.array([index[str(v)] for v in df["label"]]) for k, df in splits.items()}
    model.fit(splits["train"]["text"], y["train"])
    result: dict[str, Any] = {"model": "tfidf(1-2 grams) + logistic regression (C=4)"}
    for split in ("val", "test"):
        scores = report(y[split], model.predict(splits[split]["text"]), classes)
        result[split] = {"accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"]}
    result["seconds"] = time.perf_counter() - start
    write_json(result, out_path)
    log.info("TF-IDF reference: test accuracy %.4f", result["test"]["accuracy"])
    return result


def evaluate(
    model_path: str,
    test_path: str,
    vocab_path: str,
    info_path: str,
    max_len: int,
    out_path: str,
    encoder: str | None = None,
    val_path: str | None = None,
    predictions_out: str | None = None,
) -> dict[str, Any]:
    """Test-split accuracy, macro-F1, per-class report and confusion matrix of a trained model
    (``encoder``: the encoder.name folder, for the pretrained encoder family); with
    ``predictions_out``, its class probabilities on the val (``val_path``) and test rows."""
    device = default_device()
    saved = checkpoint_model(model_path)
    prep = Preprocess(vocab_path, info_path, max_len, encoder)
    model, epoch = load_model(
        model_path,
        prep.vocab_size(saved),
        len(prep.classes),
        prep.max_len(saved),
        device,
        pretrained=encoder,
    )
    splits = {"test": test_path, **({"val": val_path} if val_path and predictions_out else {})}
    frames, metrics = [], {}
    for split, path in splits.items():
        ids, labels = prep.encode(path, saved)
        pred = predict(model, ids, labels, 256, device)
        frames.append(predictions_frame(split, pred.labels, pred.probs, prep.classes))
        if split == "test":
            metrics = report(pred.labels, pred.predicted, prep.classes)
    metrics["epoch"] = epoch
    if predictions_out:
        write_parquet(pd.concat(frames, ignore_index=True), predictions_out)
    write_json(metrics, out_path)
    log.info("test accuracy %.4f, macro-F1 %.4f", metrics["accuracy"], metrics["macro_f1"])
    return metrics


def retrain(
    config_path: str,
    space_path: str,
    files: SplitFiles,
    base_train: dict[str, Any],
    max_len: int,
    seed: int,
    model_out: str,
    curve_out: str,
    work_dir: str,
) -> None:
    """Train a config (tuned or default) on the full train split at the maximum fidelity."""
    space = space_mod.load(space_path)
    config = read_json(config_path)["config"]
    data = TrainInputs(files, max_len)
    device = default_device()

    def batch_size_for(model: ModelConfig) -> int:
        size = find_batch_size(model.family, model.hparams, data.for_model(model), device)
        log.info("batch_size auto -> %d on %s", size, device)
        return size

    model, cfg = training_setup(space, config, base_train, batch_size_for)
    train_to_full(data.for_model(model), model, cfg, seed, model_out, curve_out, work_dir, device)
