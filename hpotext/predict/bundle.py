"""A self-contained model bundle: everything a retrained config needs to predict on new texts,
without the study's results folder.

Layout of a bundle folder (``results/<exp>/final/<variant>/bundle/``, and the study's chosen one
at ``results/<exp>/bundle/``)::

    bundle.json   what it is: format, hpotext version, model family and hyperparameters,
                  label names in class order, preprocessing, members, validation/test metrics
    seed0.pt ...  one member per retraining seed: its weights (a state dict; for the encoder
                  family only the trained tensors), averaged as a seed ensemble
    vocab.json    the study vocabulary (families trained from scratch)
    encoder/      the pretrained encoder's config, weights and tokenizer (encoder family)
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hpotext import __version__
from hpotext.errors import HpotextError
from hpotext.io import atomic_dir

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "bundle.json"
ENCODER_DIR = "encoder"
# files of a Hugging Face model folder a bundle copies (the first weights file found)
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class BundleError(HpotextError):
    """A model bundle is missing, incomplete or from another hpotext version."""


def _same_release(a: str, b: str) -> bool:
    """Versions that read each other's bundles: the same major.minor."""
    return a.split(".")[:2] == b.split(".")[:2]


def _place(source: Path, target: Path) -> None:
    """A hard link where the filesystem allows it (bundles share the encoder's weights), else a
    copy; symlinks (the Hugging Face cache) are followed."""
    real = source.resolve()
    try:
        os.link(real, target)
    except OSError:
        shutil.copy2(real, target)


def copy_encoder(folder: str | Path, out: Path) -> None:
    """The files of encoder model ``folder`` a bundle needs: config, one weights file and the
    tokenizer files (the top-level .json/.txt/.model files)."""
    src = Path(folder)
    out.mkdir(parents=True)
    weights = next((src / n for n in WEIGHT_FILES if (src / n).is_file()), None)
    if weights is None:
        raise BundleError(f"encoder folder {src} has no {' or '.join(WEIGHT_FILES)}")
    _place(weights, out / weights.name)
    for path in sorted(src.iterdir()):
        if path.is_file() and path.suffix in (".json", ".txt", ".model"):
            _place(path, out / path.name)


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (folder / MANIFEST).write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class Member:
    """One retrained seed of the bundled config."""

    seed: int
    checkpoint: str  # the retrain rule's model.pt


def write_bundle(
    out_dir: str | Path,
    manifest: dict[str, Any],
    members: Sequence[Member],
    vocab: str | None,
    encoder: str | None,
) -> Path:
    """Write a bundle folder atomically (built beside ``out_dir``, then moved into place).

    ``manifest`` holds what the bundle says of itself (family, hparams, classes, preprocess,
    metrics); the members, format and version are added here."""
    out = Path(out_dir)
    with atomic_dir(out) as tmp:
        files = []
        for m in members:
            ckpt = torch.load(m.checkpoint, map_location="cpu", weights_only=False)
            name = f"seed{m.seed}.pt"
            torch.save(ckpt["model"], tmp / name)
            files.append({"file": name, "seed": m.seed, "epoch": int(ckpt["epoch"])})
        if manifest["preprocess"]["kind"] == "vocab":
            assert vocab is not None
            shutil.copyfile(vocab, tmp / "vocab.json")
        else:
            assert encoder is not None
            copy_encoder(encoder, tmp / ENCODER_DIR)
        full = {"format": FORMAT, "hpotext": __version__, **manifest, "members": files}
        _write_manifest(tmp, full)
    return out


def copy_bundle(source: str | Path, out_dir: str | Path, **extra: Any) -> Path:
    """Copy a bundle (hard links where possible), adding ``extra`` keys to its manifest."""
    src, out = Path(source), Path(out_dir)
    manifest = read_manifest(src)
    with atomic_dir(out) as tmp:
        tmp.rmdir()  # copytree makes it
        shutil.copytree(src, tmp, copy_function=lambda s, d: _place(Path(s), Path(d)))
        (tmp / MANIFEST).unlink()  # a file of its own, not a link to the variant's manifest
        _write_manifest(tmp, {**manifest, **extra})
    return out


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """bundle.json of ``folder``, checked: a bundle of this hpotext release with all its files."""
    path = Path(folder)
    fix = "pass the folder a study wrote (results/<exp>/bundle)"
    if not path.is_dir():
        raise BundleError(f"model bundle {path} is not a folder; {fix}")
    if not (path / MANIFEST).is_file():
        raise BundleError(f"{path} is not a model bundle (it has no {MANIFEST}); {fix}")
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        written, fmt = str(manifest["hpotext"]), int(manifest["format"])
    except (ValueError, KeyError, TypeError):
        raise BundleError(
            f"{path / MANIFEST} is not a valid bundle manifest; copy the bundle again or rebuild "
            "it (snakemake results/<exp>/bundle)"
        ) from None
    if fmt != FORMAT or not _same_release(written, __version__):
        raise BundleError(
            f"model bundle {path} was written by hpotext {written} (bundle format {fmt}), which "
            f"this hpotext {__version__} (format {FORMAT}) does not read; rebuild it with this "
            "version (snakemake results/<exp>/bundle) or predict with hpotext "
            f"{'.'.join(written.split('.')[:2])}"
        )
    needed = [m["file"] for m in manifest["members"]]
    if manifest["preprocess"]["kind"] == "vocab":
        needed.append("vocab.json")
    else:
        needed += [f"{ENCODER_DIR}/config.json"]
    missing = [n for n in needed if not (path / n).is_file()]
    if manifest["preprocess"]["kind"] == "tokenizer" and not any(
        (path / ENCODER_DIR / n).is_file() for n in WEIGHT_FILES
    ):
        missing.append(f"{ENCODER_DIR}/{WEIGHT_FILES[0]}")
    if missing:
        raise BundleError(
            f"model bundle {path} lacks {', '.join(missing)}; copy the whole bundle folder again "
            "or rebuild it (snakemake results/<exp>/bundle)"
        )
    found: dict[str, Any] = manifest
    return found


class Bundle:
    """A loaded bundle: its members on ``device`` and its preprocessing."""

    def __init__(self, folder: str | Path, device: str | torch.device | None = None) -> None:
        from hpotext import models
        from hpotext.train.loop import default_device

        self.folder = Path(folder)
        self.manifest = read_manifest(self.folder)
        self.device = torch.device(device) if device is not None else default_device()
        self.classes: list[str] = list(self.manifest["classes"])
        prep = self.manifest["preprocess"]
        self.max_len = int(prep["max_len"])
        encoder = str(self.folder / ENCODER_DIR) if prep["kind"] == "tokenizer" else None
        self._encode = self._vocab_encoder() if encoder is None else self._tokenizer(encoder)
        self.models: list[nn.Module] = []
        for member in self.manifest["members"]:
            model = models.build_model(
                self.manifest["family"],
                int(self.manifest["vocab_size"]),
                len(self.classes),
                self.max_len,
                pretrained=encoder,
                **self.manifest["model_hparams"],
            )
            state = torch.load(self.folder / member["file"], map_location="cpu", weights_only=True)
            try:
                model.load_state_dict(state)
            except (RuntimeError, HpotextError) as err:
                raise BundleError(
                    f"member {member['file']} of model bundle {self.folder} does not fit its "
                    f"model ({str(err).splitlines()[0][:160]}); rebuild the bundle"
                ) from None
            self.models.append(model.to(self.device).eval())

    def _vocab_encoder(self) -> Callable[[Sequence[str]], list[list[int]]]:
        from hpotext.data.text import Vocab

        vocab = Vocab.load(self.folder / "vocab.json")
        return lambda texts: vocab.encode_all(texts, self.max_len)

    def _tokenizer(self, folder: str) -> Callable[[Sequence[str]], list[list[int]]]:
        from hpotext.models.encoder import load_tokenizer, tokenize

        tokenizer = load_tokenizer(folder)
        return lambda texts: tokenize(tokenizer, texts, self.max_len)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Texts as the bundled model takes them (stripped, as the data step cleans them)."""
        return self._encode([t.strip() for t in texts]) if len(texts) else []

    def member_probabilities(
        self,
        texts: Sequence[str],
        batch_size: int = 256,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """(members, N, C): each member's class probabilities; ``progress`` gets the texts done
        (over all members, so it runs to members x N)."""
        from hpotext.train.metrics import logits_of

        ids = self.encode(texts)
        out = np.zeros((len(self.models), len(ids), len(self.classes)), dtype=np.float32)
        for k, model in enumerate(self.models):
            step = None if progress is None else (lambda n, k=k: progress(k * len(ids) + n))
            logits = logits_of(model, ids, batch_size, self.device, step)
            if len(ids):
                out[k] = torch.softmax(logits, dim=1).numpy()
        return out

    def predict_proba(
        self,
        texts: Sequence[str],
        batch_size: int = 256,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """(N, C): the seed ensemble's class probabilities (the members' mean)."""
        return self.member_probabilities(texts, batch_size, progress).mean(axis=0)

    def predict(self, texts: Sequence[str], batch_size: int = 256) -> list[str]:
        """The predicted label name of every text."""
        return [self.classes[i] for i in self.predict_proba(texts, batch_size).argmax(axis=1)]


def inference_speed(
    model: Bundle, texts: Sequence[str], batch_size: int = 256, singles: int = 20
) -> dict[str, Any]:
    """Texts per second of ``model`` in batches (over at most two batches of ``texts``) and the
    median milliseconds of one text alone, after a warm-up call; with the torch threads used."""
    import statistics
    import time

    sample = list(texts)[: 2 * batch_size]
    model.predict_proba(sample[:1])  # warm-up: first-call allocations
    start = time.perf_counter()
    model.predict_proba(sample, batch_size)
    batch_seconds = time.perf_counter() - start
    times = []
    for text in sample[:singles]:
        start = time.perf_counter()
        model.predict_proba([text])
        times.append(time.perf_counter() - start)
    return {
        "device": model.device.type,
        "threads": torch.get_num_threads(),
        "members": len(model.models),
        "batch_size": batch_size,
        "texts": len(sample),
        "batch_texts_per_second": len(sample) / batch_seconds,
        "single_text_ms": 1000 * statistics.median(times),
    }
