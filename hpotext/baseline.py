"""The TF-IDF + logistic-regression reference every study reports beside its own result."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from hpotext import data as data_mod
from hpotext.evaluate import report
from hpotext.io import write_json
from hpotext.text import tokenize

log = logging.getLogger(__name__)


def tfidf_baseline(
    train_path: str, val_path: str, test_path: str, info_path: str, out_path: str, seed: int = 0
) -> dict[str, Any]:
    """Fit word 1-2-gram TF-IDF + logistic regression on train; score val and test."""
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
