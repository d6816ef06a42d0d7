"""The prediction stage's steps: bundle a retrained variant with its seed ensemble's metrics,
choose the study's bundle on validation, and predict a file of new texts."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from hpotext.io import read_json, write_json

log = logging.getLogger(__name__)

VARIANT_NAMES = {"tuned": "the tuned config", "default": "the default (prior) config"}


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
    from hpotext.predict.bundle import Member, write_bundle
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
    members = [Member(seed, path) for seed, path in zip(seeds, models, strict=True)]
    preprocess: dict[str, Any] = {"kind": kind, "max_len": prep.max_len(saved)}
    if kind == "vocab":
        preprocess["lowercase"] = prep.vocab().lowercase
    manifest = {
        "variant": variant,
        "config": read_json(config_path)["config"],
        "family": saved.family,
        "model_hparams": saved.hparams,
        "classes": prep.classes,
        "vocab_size": prep.vocab_size(saved),
        "preprocess": preprocess,
        "metrics": {
            s: {"ensemble": m["ensemble"], "single": m["single"]} for s, m in metrics.items()
        },
    }
    write_bundle(out_dir, manifest, members, vocab if kind == "vocab" else None, encoder)
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


def choose(ensembles: dict[str, str]) -> dict[str, Any]:
    """The variant whose seed ensemble scores best on validation (the full-train val split; the
    test split is never looked at); a tie goes to the first (tuned)."""
    scored = {v: read_json(p)["val"]["ensemble"]["accuracy"] for v, p in ensembles.items()}
    best = max(scored, key=lambda v: (scored[v], -list(scored).index(v)))
    others = ", ".join(f"{VARIANT_NAMES.get(v, v)} {a:.4f}" for v, a in scored.items() if v != best)
    return {
        "variant": best,
        "val_accuracy": scored,
        "reason": (
            f"{VARIANT_NAMES.get(best, best)}'s seed ensemble has the best validation accuracy "
            f"({scored[best]:.4f}; {others or 'no other candidate'})"
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
