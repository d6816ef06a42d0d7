"""Ensembles of the final stage: the seed ensemble (the retrained seeds' class probabilities
averaged, scored beside the single seeds) and the top-k ensemble (greedy ensemble selection with
replacement over the retrained configs' validation predictions, Caruana et al. 2004), each with a
paired bootstrap CI of its gain."""

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
    out["gain"] = bootstrap_gain(labels, ensemble, singles, out["ensemble"], boots, seed)
    return out


def bootstrap_gain(
    labels: np.ndarray,
    ours: np.ndarray,
    theirs: np.ndarray,
    score: dict[str, float],
    boots: int = 2000,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Gain of predictions ``ours`` (N,) over the mean score of ``theirs`` (members, N): the
    difference of the scores and its 95 % CI from a paired bootstrap over the rows (each
    resample scores both on the same rows, so row difficulty cancels out); ``score``: ours."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    ours_right = ours == labels
    theirs_right = (theirs == labels).mean(axis=0)  # per row: share of members right
    idx = rng.integers(0, n, size=(boots, n))
    acc_gain = ours_right[idx].mean(axis=1) - theirs_right[idx].mean(axis=1)
    f1_gain = np.array(
        [
            _scores(labels[i], ours[i])["macro_f1"]
            - np.mean([_scores(labels[i], p[i])["macro_f1"] for p in theirs])
            for i in idx[: min(boots, 500)]
        ]
    )
    gain = {}
    for metric, draws in (("accuracy", acc_gain), ("macro_f1", f1_gain)):
        low, high = (float(v) for v in np.quantile(draws, [0.025, 0.975]))
        baseline = statistics.fmean(_scores(labels, p)[metric] for p in theirs)
        gain[metric] = {"mean_difference": score[metric] - baseline, "ci95": [low, high]}
    return gain


# --- the top-k ensemble ------------------------------------------------------------------------
def _log_loss(labels: np.ndarray, probs: np.ndarray) -> float:
    return float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean())


def greedy_selection(labels: np.ndarray, probs: np.ndarray, rounds: int = 25) -> np.ndarray:
    """How often each model (``probs``: (models, N, C)) is picked in ``rounds`` rounds of greedy
    ensemble selection with replacement: each round adds the model whose addition gives the
    ensemble (the picked models' probabilities averaged) the best accuracy on these rows, ties
    broken by the lower log loss, then by the earlier model. Starts from the empty ensemble, so
    the first pick is the best single model."""
    counts = np.zeros(len(probs), dtype=np.int64)
    total = np.zeros(probs.shape[1:], dtype=np.float64)
    for r in range(rounds):
        candidates = (total[None] + probs) / (r + 1)  # (models, N, C)
        keys = [
            (float((c.argmax(axis=1) == labels).mean()), -_log_loss(labels, c), -m)
            for m, c in enumerate(candidates)
        ]
        best = max(range(len(probs)), key=lambda m: keys[m])
        counts[best] += 1
        total += probs[best]
    return counts


def _folds(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """A stratified fold index per row: each class's rows dealt out in a random order."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(labels), dtype=np.int64)
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        fold[rows] = np.arange(len(rows)) % folds
    return fold


def cross_fitted(
    labels: np.ndarray, probs: np.ndarray, rounds: int = 25, folds: int = 2, seed: int = 0
) -> np.ndarray:
    """(N, C): every row's ensemble probabilities with weights selected on the other folds' rows,
    so scoring them on these rows is not flattered by the selection (the study's choice compares
    them with single configs whose validation score involved no fitting)."""
    fold = _folds(labels, folds, seed)
    out = np.zeros(probs.shape[1:], dtype=np.float64)
    for f in range(folds):
        fit, held = fold != f, fold == f
        counts = greedy_selection(labels[fit], probs[:, fit], rounds)
        out[held] = np.tensordot(counts / counts.sum(), probs[:, held], axes=1)
    return out


def top_k_ensemble(
    names: Sequence[str],
    val: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    reference: str,
    rounds: int = 25,
    seed: int = 0,
) -> dict[str, Any]:
    """The greedy ensemble of the models ``names`` (``val`` and ``test``: labels (N,) and the
    models' probabilities (models, N, C)), selected on all validation rows. Scored on val
    cross-fitted (see :func:`cross_fitted`) and as selected, and on test with the gain over
    model ``reference`` (paired bootstrap)."""
    (val_y, val_p), (test_y, test_p) = val, test
    counts = greedy_selection(val_y, val_p, rounds)
    weights = counts / counts.sum()
    crossfit = cross_fitted(val_y, val_p, rounds, seed=seed).argmax(axis=1)
    fitted = np.tensordot(weights, val_p, axes=1).argmax(axis=1)
    predicted = np.tensordot(weights, test_p, axes=1).argmax(axis=1)
    test_scores = _scores(test_y, predicted)
    ref = test_p[list(names).index(reference)].argmax(axis=1)
    return {
        "weights": {n: float(w) for n, w in zip(names, weights, strict=True) if w > 0},
        "rounds": rounds,
        "val": {"ensemble": _scores(val_y, crossfit), "as_selected": _scores(val_y, fitted)},
        "test": {
            "ensemble": test_scores,
            "reference": reference,
            "gain": bootstrap_gain(test_y, predicted, ref[None], test_scores, seed=seed),
        },
    }
