"""The prediction stage's steps: bundle a retrained variant with its seed ensemble's metrics,
choose the study's bundle on validation, and predict a file of new texts."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from hpotext.io import read_json, write_json

log = logging.getLogger(__name__)

VARIANT_NAMES = {
    "tuned": "the tuned config",
    "default": "the default (prior) config",
    "ensemble": "the top-k ensemble",
}


def variant_name(variant: str) -> str:
    """How the summary names a variant: the tuned config, runner-up 1, ..."""
    if variant.startswith("runner"):
        return f"runner-up {variant.removeprefix('runner')}"
    return VARIANT_NAMES.get(variant, variant)


def bundle(
    variant: str,
    config_path: str,
    models: Sequence[str],
    predictions: Sequence[str],
    seeds: Sequence[int],
    vocab: str,
    info: str,
    max_len: int,
    out_dir: str,
    ensemble_out: str,
    encoder: str | None = None,
) -> dict[str, Any]:
    """Write ``variant``'s bundle (every retrained seed a member) and its seed ensemble's
    val/test metrics beside the single seeds' (``ensemble_out``)."""
    from hpotext.models.configs import PREPROCESSING
    from hpotext.predict.bundle import BundledModel, write_bundle
    from hpotext.predict.ensemble import read_predictions, seed_ensemble
    from hpotext.train.checkpoint import checkpoint_model
    from hpotext.train.inputs import Preprocess

    saved = checkpoint_model(models[0])
    prep = Preprocess(vocab, info, max_len, encoder)
    kind = PREPROCESSING[saved.family]
    metrics = {}
    for split in ("val", "test"):
        labels, probs = read_predictions(predictions, prep.classes, split)
        metrics[split] = seed_ensemble(labels, probs, seeds)
    preprocess: dict[str, Any] = {"kind": kind, "max_len": prep.max_len(saved)}
    if kind == "vocab":
        preprocess["lowercase"] = prep.vocab().lowercase
    bundled = BundledModel(
        variant=variant,
        config=read_json(config_path)["config"],
        family=saved.family,
        hparams=saved.hparams,
        vocab_size=prep.vocab_size(saved),
        preprocess=preprocess,
        checkpoints=dict(zip(seeds, models, strict=True)),
    )
    manifest = {
        "variant": variant,
        "classes": prep.classes,
        "metrics": {
            s: {"ensemble": m["ensemble"], "single": m["single"]} for s, m in metrics.items()
        },
    }
    write_bundle(out_dir, manifest, [bundled], vocab if kind == "vocab" else None, encoder)
    result = {"variant": variant, **metrics}
    write_json(result, ensemble_out)
    test = metrics["test"]
    log.info(
        "%s: seed ensemble test accuracy %.4f vs single seeds %.4f ± %.4f (%d members)",
        variant,
        test["ensemble"]["accuracy"],
        test["single"]["accuracy"]["mean"],
        test["single"]["accuracy"]["std"],
        test["members"],
    )
    return result


def top_k(
    bundles: dict[str, str],
    predictions: dict[str, list[str]],
    out_dir: str,
    ensemble_out: str,
    rounds: int = 25,
) -> dict[str, Any]:
    """The top-k ensemble: greedy selection over the variants' seed ensembles on validation
    (see :func:`hpotext.predict.ensemble.top_k_ensemble`), bundled from their bundles."""
    from hpotext.errors import StaleFileError
    from hpotext.predict.bundle import merge_bundles, read_manifest
    from hpotext.predict.ensemble import read_predictions, top_k_ensemble

    names = list(bundles)
    classes = read_manifest(bundles[names[0]])["classes"]
    splits = {}
    for split in ("val", "test"):
        read = [read_predictions(predictions[v], classes, split) for v in names]
        for variant, (labels, _) in zip(names, read, strict=True):
            if not np.array_equal(labels, read[0][0]):
                raise StaleFileError(
                    f"the {split} predictions of {variant} score other rows than those of "
                    f"{names[0]}; delete results/<exp>/final/{variant}/seed*/predictions.parquet "
                    "so the evaluate rule writes them again"
                )
        splits[split] = (read[0][0], np.stack([p.mean(axis=0) for _, p in read]))
    found = top_k_ensemble(names, splits["val"], splits["test"], "tuned", rounds)
    result = {"variant": "ensemble", **found}
    metrics = {s: {"ensemble": result[s]["ensemble"]} for s in ("val", "test")}
    manifest = {"variant": "ensemble", "classes": classes, "metrics": metrics}
    merge_bundles({v: bundles[v] for v in result["weights"]}, result["weights"], out_dir, manifest)
    write_json(result, ensemble_out)
    weights = ", ".join(f"{variant_name(v)} {w:.2f}" for v, w in result["weights"].items())
    log.info(
        "top-k ensemble (%s): test accuracy %.4f, cross-fitted val accuracy %.4f",
        weights,
        result["test"]["ensemble"]["accuracy"],
        result["val"]["ensemble"]["accuracy"],
    )
    return result


def choose(ensembles: dict[str, str]) -> dict[str, Any]:
    """The candidate (a variant's seed ensemble, or the top-k ensemble scored cross-fitted)
    with the best accuracy on validation (the full-train val split; the test split is never
    looked at); a tie goes to the earlier candidate (tuned first)."""
    scored = {v: read_json(p)["val"]["ensemble"]["accuracy"] for v, p in ensembles.items()}
    best = max(scored, key=lambda v: (scored[v], -list(scored).index(v)))
    others = ", ".join(f"{variant_name(v)} {a:.4f}" for v, a in scored.items() if v != best)
    subject = variant_name(best) + ("" if best == "ensemble" else "'s seed ensemble")
    how = " cross-fitted" if best == "ensemble" else ""
    return {
        "variant": best,
        "val_accuracy": scored,
        "reason": (
            f"{subject} has the best validation accuracy ({scored[best]:.4f}{how}; "
            f"{others or 'no other candidate'})"
        ),
    }


def study_bundle(
    bundles: dict[str, str],
    ensembles: dict[str, str],
    out_dir: str,
    choice_out: str,
    speed_texts: str | None = None,
) -> dict[str, Any]:
    """The study's bundle: a copy of the chosen variant's (see :func:`choose`); with
    ``speed_texts`` (a split), its CPU inference speed on those texts in the choice record."""
    from hpotext.predict.bundle import Bundle, copy_bundle, inference_speed

    chosen = choose(ensembles)
    copy_bundle(bundles[chosen["variant"]], out_dir, chosen=chosen)
    log.info("study bundle: %s", chosen["reason"])
    if speed_texts:
        from hpotext.data.info import load_split

        texts = list(load_split(speed_texts)["text"])
        chosen["speed"] = inference_speed(Bundle(out_dir, "cpu"), texts)
        log.info(
            "CPU inference (%d thread(s)): %.0f texts/s in batches, %.1f ms for one text",
            chosen["speed"]["threads"],
            chosen["speed"]["batch_texts_per_second"],
            chosen["speed"]["single_text_ms"],
        )
    write_json(chosen, choice_out)
    return chosen


def predict_file(
    bundle_dir: str,
    input_path: str,
    output_path: str,
    text_column: str = "text",
    format: str = "auto",
    delimiter: str = "",
    encoding: str = "utf-8",
    batch_size: int = 256,
    device: str | None = None,
    options: tuple[str, str] = ("--text-column", "--format"),
) -> int:
    """Predict every text of ``input_path`` with the bundle; write the input rows plus
    ``label`` and one ``prob_<class>`` column per class to ``output_path`` (its format from its
    suffix). Returns the number of rows. Nothing is written when anything fails."""
    from hpotext.errors import DataError
    from hpotext.predict.bundle import Bundle
    from hpotext.predict.ensemble import prob_columns
    from hpotext.predict.table import InputSpec, file_format, read_input, write_output

    out_format = file_format(output_path, "auto", "output file", "an output suffix")
    spec = InputSpec(input_path, text_column, format, delimiter, encoding, *options)
    frame, texts = read_input(spec)
    model = Bundle(bundle_dir, device)
    added = ["label", *prob_columns(model.classes)]
    clash = [c for c in added if c in frame.columns]
    if clash:
        raise DataError(
            f"input file '{input_path}' already has column(s) {', '.join(clash)}, which the "
            "predictions add; rename them in the input"
        )
    start, total = time.perf_counter(), len(texts) * len(model.models)
    every = max(1, total // 10)
    last = [0]

    def progress(done: int) -> None:
        if total >= 2000 and (done - last[0] >= every or done == total):
            last[0] = done
            rate = done / max(time.perf_counter() - start, 1e-9)
            log.info(
                "predicted %d/%d (%.0f %%), %.0f texts/s", done, total, 100 * done / total, rate
            )

    probs = model.predict_proba(texts, batch_size, progress)
    out = frame.copy()
    out["label"] = [model.classes[i] for i in probs.argmax(axis=1)]
    for column, values in zip(prob_columns(model.classes), probs.T, strict=True):
        out[column] = values
    write_output(out, output_path, out_format)
    log.info(
        "%d texts in %.1f s -> %s (%d seed members averaged)",
        len(texts),
        time.perf_counter() - start,
        output_path,
        len(model.models),
    )
    return len(out)
