"""The seed ensemble: the retrained seeds' class probabilities averaged, scored beside the
single seeds, with a paired bootstrap CI of its gain over the single-seed mean."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from hpotext.errors import StaleFileError

SPLITS = ("val", "test")


def prob_columns(classes: Sequence[str]) -> list[str]:
    """The probability column of each class, in class order: ``prob_<label>``."""
    return [f"prob_{c}" for c in classes]


def predictions_frame(
    split: str, labels: np.ndarray, probs: np.ndarray, classes: Sequence[str]
) -> pd.DataFrame:
    """One split's rows for predictions.parquet: split, row, label (class index), prob_*."""
    frame = pd.DataFrame(probs, columns=prob_columns(classes))
    frame.insert(0, "label", np.asarray(labels, dtype=np.int64))
    frame.insert(0, "row", np.arange(len(labels), dtype=np.int64))
    frame.insert(0, "split", split)
    return frame


def read_predictions(
    paths: Sequence[str], classes: Sequence[str], split: str
) -> tuple[np.ndarray, np.ndarray]:
    """(labels (N,), probabilities (members, N, C)) of ``split`` from each member's file."""
    labels, probs = None, []
    for path in paths:
        frame = pd.read_parquet(path)
        part = frame[frame["split"] == split].sort_values("row")
        columns = prob_columns(classes)
        if not set(columns) <= set(frame.columns) or not len(part):
            raise StaleFileError(
                f"predictions {path} have no {split} probabilities for classes {list(classes)}; "
                "delete it so the evaluate rule writes it again"
            )
        if labels is None:
            labels = part["label"].to_numpy()
        elif not np.array_equal(labels, part["label"].to_numpy()):
            raise StaleFileError(
                f"predictions {path} score other {split} rows than {paths[0]}; delete both so "
                "the evaluate rule writes them again"
            )
        probs.append(part[columns].to_numpy(dtype=np.float64))
    assert labels is not None
    return labels, np.stack(probs)


def _scores(labels: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": float((labels == predicted).mean()),
        "macro_f1": float(f1_score(labels, predicted, average="macro", zero_division=0)),
    }


def _spread(values: Sequence[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
    }


def seed_ensemble(
    labels: np.ndarray,
    probs: np.ndarray,
    seeds: Sequence[int],
    boots: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """The ensemble (mean of ``probs`` over members) against the single members on one split.

    The gain's 95 % CI is a paired bootstrap over the split's rows: each resample scores the
    ensemble and every member on the same rows, so row difficulty cancels out."""
    ensemble = probs.mean(axis=0).argmax(axis=1)
    singles = probs.argmax(axis=2)  # (members, N)
    single_scores = [_scores(labels, p) for p in singles]
    out: dict[str, Any] = {
        "members": len(probs),
        "ensemble": _scores(labels, ensemble),
        "single": {
            m: {
                **_spread([s[m] for s in single_scores]),
                "per_seed": {str(k): s[m] for k, s in zip(seeds, single_scores, strict=True)},
            }
            for m in ("accuracy", "macro_f1")
        },
    }
    rng = np.random.default_rng(seed)
    n = len(labels)
    ens_right = ensemble == labels
    single_right = (singles == labels).mean(axis=0)  # per row: share of members right
    idx = rng.integers(0, n, size=(boots, n))
    acc_gain = ens_right[idx].mean(axis=1) - single_right[idx].mean(axis=1)
    f1_gain = np.array(
        [
            _scores(labels[i], ensemble[i])["macro_f1"]
            - np.mean([_scores(labels[i], p[i])["macro_f1"] for p in singles])
            for i in idx[: min(boots, 500)]
        ]
    )
    out["gain"] = {}
    for metric, draws in (("accuracy", acc_gain), ("macro_f1", f1_gain)):
        low, high = (float(v) for v in np.quantile(draws, [0.025, 0.975]))
        out["gain"][metric] = {
            "mean_difference": out["ensemble"][metric] - out["single"][metric]["mean"],
            "ci95": [low, high],
        }
    return out
