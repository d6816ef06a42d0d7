"""A self-contained model bundle: everything the study's retrained configs need to predict on
new texts, without the study's results folder.

Layout of a bundle folder (``results/<exp>/final/<variant>/bundle/``, the top-k ensemble's at
``results/<exp>/final/ensemble/bundle/``, and the study's chosen one at ``results/<exp>/bundle/``)::

    bundle.json          what it is: format, hpotext version, label names in class order, the
                         bundled models (config, family, hyperparameters, preprocessing, weight),
                         their members, validation/test metrics
    <variant>_seed0.pt   one member per retrained seed of each model: its weights (a state dict;
    ...                  for the encoder family only the trained tensors)
    vocab.json           the study vocabulary (when a family trained from scratch is bundled)
    encoder/             the pretrained encoder's config, weights and tokenizer (encoder family)

The bundle's class probabilities are the members' weighted mean: a model's weight (1 for a seed
ensemble, its share of the greedy selection for the top-k ensemble) split evenly over its seeds.
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

FORMAT = 2
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


def _full(
    manifest: dict[str, Any], models: list[dict[str, Any]], members: list[dict[str, Any]]
) -> dict[str, Any]:
    """A new bundle's manifest: format and version, what it says of itself, models, members."""
    return {"format": FORMAT, "hpotext": __version__, **manifest, "models": models,
            "members": members}  # fmt: skip


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (folder / MANIFEST).write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class BundledModel:
    """One retrained config of a bundle: what it is, how its texts are prepared, its seeds."""

    variant: str  # tuned, default, runner1, ...
    config: dict[str, Any]  # the hyperparameters it was trained with
    family: str
    hparams: dict[str, Any]  # the model family's constructor arguments
    vocab_size: int
    preprocess: dict[str, Any]  # kind (vocab | tokenizer), max_len[, lowercase]
    checkpoints: dict[int, str]  # seed -> the retrain rule's model.pt
    weight: float = 1.0  # share of the bundle's probabilities (the weights sum to 1)


def write_bundle(
    out_dir: str | Path,
    manifest: dict[str, Any],
    bundled: Sequence[BundledModel],
    vocab: str | None,
    encoder: str | None,
) -> Path:
    """Write a bundle folder atomically (built beside ``out_dir``, then moved into place).

    ``manifest`` holds what the bundle says of itself (its variant, classes, metrics); the
    models, members, format and version are added here."""
    out = Path(out_dir)
    kinds = {m.preprocess["kind"] for m in bundled}
    with atomic_dir(out) as tmp:
        entries, files = [], []
        for index, m in enumerate(bundled):
            entries.append(
                {
                    "variant": m.variant,
                    "config": m.config,
                    "family": m.family,
                    "model_hparams": m.hparams,
                    "vocab_size": m.vocab_size,
                    "preprocess": m.preprocess,
                    "weight": m.weight,
                }
            )
            for seed, path in m.checkpoints.items():
                ckpt = torch.load(path, map_location="cpu", weights_only=False)
                name = f"{m.variant}_seed{seed}.pt"
                torch.save(ckpt["model"], tmp / name)
                files.append(
                    {
                        "file": name,
                        "model": index,
                        "seed": seed,
                        "epoch": int(ckpt["epoch"]),
                        "weight": m.weight / len(m.checkpoints),
                    }
                )
        if "vocab" in kinds:
            assert vocab is not None
            shutil.copyfile(vocab, tmp / "vocab.json")
        if "tokenizer" in kinds:
            assert encoder is not None
            copy_encoder(encoder, tmp / ENCODER_DIR)
        _write_manifest(tmp, _full(manifest, entries, files))
    return out


def copy_bundle(source: str | Path, out_dir: str | Path, **extra: Any) -> Path:
    """Copy a bundle (hard links where possible), adding ``extra`` keys to its manifest."""
    src, out = Path(source), Path(out_dir)
    manifest = read_manifest(src)
    with atomic_dir(out) as tmp:
        tmp.rmdir()  # copytree makes it
        # hidden files stay: Snakemake's .snakemake_timestamp of the source, linked, would
        # share its mtime with the copy's, so touching one would make the other look updated
        shutil.copytree(src, tmp, copy_function=_link, ignore=shutil.ignore_patterns(".*"))
        (tmp / MANIFEST).unlink()  # a file of its own, not a link to the variant's manifest
        _write_manifest(tmp, {**manifest, **extra})
    return out


def merge_bundles(
    bundles: dict[str, str],
    weights: dict[str, float],
    out_dir: str | Path,
    manifest: dict[str, Any],
) -> Path:
    """One bundle of the models of several (hard links where possible), model ``v`` of
    ``bundles[v]`` weighted ``weights[v]``; ``manifest`` as for :func:`write_bundle`."""
    out = Path(out_dir)
    with atomic_dir(out) as tmp:
        entries: list[dict[str, Any]] = []
        files: list[dict[str, Any]] = []
        for variant, folder in bundles.items():
            src = Path(folder)
            found = read_manifest(src)
            offset = len(entries)
            entries += [{**m, "weight": m["weight"] * weights[variant]} for m in found["models"]]
            for member in found["members"]:
                _place(src / member["file"], tmp / member["file"])
                files.append(
                    {
                        **member,
                        "model": offset + int(member["model"]),
                        "weight": member["weight"] * weights[variant],
                    }
                )
            for shared in ("vocab.json", ENCODER_DIR):
                if (src / shared).exists() and not (tmp / shared).exists():
                    if shared == ENCODER_DIR:
                        shutil.copytree(
                            src / shared,
                            tmp / shared,
                            copy_function=_link,
                            ignore=shutil.ignore_patterns(".*"),
                        )
                    else:
                        _place(src / shared, tmp / shared)
        _write_manifest(tmp, _full(manifest, entries, files))
    return out


def _link(source: str, target: str) -> None:
    _place(Path(source), Path(target))


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """bundle.json of ``folder``, checked: a bundle of this hpotext release with all its files."""
    path = Path(folder)
    fix = "pass the folder a study wrote (results/<exp>/bundle)"
    if not path.is_dir():
        raise BundleError(f"model bundle {path} is not a folder; {fix}")
    if not (path / MANIFEST).is_file():
        raise BundleError(f"{path} is not a model bundle (it has no {MANIFEST}); {fix}")
    invalid = BundleError(
        f"{path / MANIFEST} is not a valid bundle manifest; copy the bundle again or rebuild "
        "it (snakemake results/<exp>/bundle)"
    )
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        written, fmt = str(manifest["hpotext"]), int(manifest["format"])
    except (ValueError, KeyError, TypeError):
        raise invalid from None
    if fmt != FORMAT or not _same_release(written, __version__):
        raise BundleError(
            f"model bundle {path} was written by hpotext {written} (bundle format {fmt}), which "
            f"this hpotext {__version__} (format {FORMAT}) does not read; rebuild it with this "
            "version (snakemake results/<exp>/bundle) or predict with hpotext "
            f"{'.'.join(written.split('.')[:2])}"
        )
    try:
        kinds = {m["preprocess"]["kind"] for m in manifest["models"]}
        needed = [m["file"] for m in manifest["members"]]
        if not needed or any(
            not 0 <= int(m["model"]) < len(manifest["models"]) for m in manifest["members"]
        ):
            raise ValueError("no members, or a member of no model")
    except (ValueError, KeyError, TypeError):
        raise invalid from None
    if "vocab" in kinds:
        needed.append("vocab.json")
    if "tokenizer" in kinds:
        needed += [f"{ENCODER_DIR}/config.json"]
    missing = [n for n in needed if not (path / n).is_file()]
    if "tokenizer" in kinds and not any((path / ENCODER_DIR / n).is_file() for n in WEIGHT_FILES):
        missing.append(f"{ENCODER_DIR}/{WEIGHT_FILES[0]}")
    if missing:
        raise BundleError(
            f"model bundle {path} lacks {', '.join(missing)}; copy the whole bundle folder again "
            "or rebuild it (snakemake results/<exp>/bundle)"
        )
    found: dict[str, Any] = manifest
    return found


class Bundle:
    """A loaded bundle: its members on ``device``, their weights and preprocessing."""

    def __init__(self, folder: str | Path, device: str | torch.device | None = None) -> None:
        from hpotext import models
        from hpotext.train.loop import default_device

        self.folder = Path(folder)
        self.manifest = read_manifest(self.folder)
        self.device = torch.device(device) if device is not None else default_device()
        self.classes: list[str] = list(self.manifest["classes"])
        self._encoders: dict[tuple[str, int], Callable[[Sequence[str]], list[list[int]]]] = {}
        self.models: list[nn.Module] = []
        self.preprocess: list[tuple[str, int]] = []  # each member's (kind, max_len)
        self.weights = np.array([float(m["weight"]) for m in self.manifest["members"]])
        for member in self.manifest["members"]:
            spec = self.manifest["models"][int(member["model"])]
            kind, max_len = spec["preprocess"]["kind"], int(spec["preprocess"]["max_len"])
            encoder = str(self.folder / ENCODER_DIR) if kind == "tokenizer" else None
            model = models.build_model(
                spec["family"],
                int(spec["vocab_size"]),
                len(self.classes),
                max_len,
                pretrained=encoder,
                **spec["model_hparams"],
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
            self.preprocess.append((kind, max_len))

    def _encoder(self, kind: str, max_len: int) -> Callable[[Sequence[str]], list[list[int]]]:
        key = (kind, max_len)
        if key not in self._encoders:
            if kind == "vocab":
                from hpotext.data.text import Vocab

                vocab = Vocab.load(self.folder / "vocab.json")
                self._encoders[key] = lambda texts: vocab.encode_all(texts, max_len)
            else:
                from hpotext.models.encoder import load_tokenizer, tokenize

                tokenizer = load_tokenizer(str(self.folder / ENCODER_DIR))
                self._encoders[key] = lambda texts: tokenize(tokenizer, texts, max_len)
        return self._encoders[key]

    def encode(self, texts: Sequence[str], member: int = 0) -> list[list[int]]:
        """Texts as member ``member`` takes them (stripped, as the data step cleans them)."""
        if not len(texts):
            return []
        return self._encoder(*self.preprocess[member])([t.strip() for t in texts])

    def member_probabilities(
        self,
        texts: Sequence[str],
        batch_size: int = 256,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """(members, N, C): each member's class probabilities; ``progress`` gets the texts done
        (over all members, so it runs to members x N)."""
        from hpotext.train.metrics import logits_of

        n = len(texts)
        out = np.zeros((len(self.models), n, len(self.classes)), dtype=np.float32)
        encoded: dict[tuple[str, int], list[list[int]]] = {}
        for k, model in enumerate(self.models):
            if self.preprocess[k] not in encoded:
                encoded[self.preprocess[k]] = self.encode(texts, k)
            step = None if progress is None else (lambda done, k=k: progress(k * n + done))
            logits = logits_of(model, encoded[self.preprocess[k]], batch_size, self.device, step)
            if n:
                out[k] = torch.softmax(logits, dim=1).numpy()
        return out

    def predict_proba(
        self,
        texts: Sequence[str],
        batch_size: int = 256,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """(N, C): the bundle's class probabilities (the members' weighted mean)."""
        members = self.member_probabilities(texts, batch_size, progress)
        found: np.ndarray = np.tensordot(self.weights, members, axes=1).astype(np.float32)
        return found

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
