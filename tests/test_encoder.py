"""The pretrained encoder family on a tiny random BERT: shapes, freezing, layer-wise learning
rates, small checkpoints, cached features equal to running the encoder, exact continuation and
the one-sentence errors for a bad model folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from hpotext import models
from hpotext.data.info import SplitFiles
from hpotext.errors import ConfigError, StaleFileError
from hpotext.models.encoder import EncoderClassifier, compute_features, load_tokenizer, tokenize
from hpotext.train.config import TrainConfig
from hpotext.train.inputs import TrainInputs
from hpotext.train.loop import train
from hpotext.train.records import TrainData
from hpotext.train.setup import ModelConfig
from tests.tiny_encoder import write_tiny_encoder

TEXTS = [
    "the movie was very good",
    "awful boring plot",
    "i love this film so much it is great fun",
    "not good",
    "the actor was fine but the plot was bad",
    "great great great",
    "boring",
    "this film is not fun",
]
LABELS = [1, 0, 1, 0, 0, 1, 0, 0]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(write_tiny_encoder(tmp_path_factory.mktemp("enc") / "tiny", layers=3))


def build(tiny: str, **hp: object) -> EncoderClassifier:
    torch.manual_seed(0)
    model = models.build_model("encoder", 40, 2, 10, pretrained=tiny, **hp)
    assert isinstance(model, EncoderClassifier)
    return model


def batch(ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(r) for r in ids])
    tokens = torch.zeros(len(ids), int(lengths.max()), dtype=torch.long)
    for i, row in enumerate(ids):
        tokens[i, : len(row)] = torch.tensor(row)
    return tokens, lengths


def data(tiny: str, cached: int | None = None) -> TrainData:
    """The texts as ids (validation: the first four), or as rows of cached features below the
    top ``cached`` layers."""
    ids = tokenize(load_tokenizer(tiny), TEXTS, 10)
    if cached is None:
        return TrainData(ids, LABELS, ids[:4], LABELS[:4], 40, 2, 10, pretrained=tiny)
    train_part = compute_features(tiny, ids, [cached], dtype=torch.float32)[cached]
    val_part = compute_features(tiny, ids[:4], [cached], dtype=torch.float32)[cached]
    table = train_part.concat(val_part)
    rows = table.row_ids()
    return TrainData(
        rows[:8], LABELS, rows[8:], LABELS[:4], 40, 2, 10, pretrained=tiny, features=table
    )


def test_tokenize_uses_the_encoders_wordpiece_without_special_tokens(tiny: str) -> None:
    tok = load_tokenizer(tiny)
    ids = tokenize(tok, ["The movies", "", "zzz"], 10)
    words = json.loads((Path(tiny) / "tokenizer.json").read_text())["model"]["vocab"]
    assert ids[0] == [words["the"], words["movie"], words["##s"]]
    assert ids[1] == [tok.unk_token_id] and ids[2] == [tok.unk_token_id]  # never empty
    assert tokenize(tok, [" ".join(["good"] * 30)], 10) == [[words["good"]] * 10]


@pytest.mark.parametrize("pooling", ["mean", "cls"])
@pytest.mark.parametrize("layers", [0, 1, 3, 9])
def test_forward_shapes_and_what_trains(tiny: str, pooling: str, layers: int) -> None:
    model = build(tiny, train_layers=layers, pooling=pooling)
    tokens, lengths = batch(tokenize(load_tokenizer(tiny), TEXTS[:3], 10))
    logits = model(tokens, lengths)
    assert logits.shape == (3, 2) and torch.isfinite(logits).all()
    trained = {
        n.split(".")[3]
        for n, p in model.named_parameters()
        if p.requires_grad and n.startswith("encoder.encoder.layer.")
    }
    assert trained == {str(i) for i in range(max(0, 3 - layers), 3)}
    embeddings = model.encoder.embeddings.word_embeddings.weight.requires_grad
    assert embeddings == (layers >= 3)  # train_layers at or above the depth: a full fine-tune
    model.train()
    assert all(not m.training for m in model.frozen_modules())  # no dropout below the top
    assert model.classifier.training


def test_padding_does_not_change_a_texts_logits(tiny: str) -> None:
    model = build(tiny, train_layers=1).eval()
    ids = tokenize(load_tokenizer(tiny), TEXTS[:2], 10)
    alone = model(*batch(ids[1:]))
    together = model(*batch(ids))[1:]
    assert torch.allclose(alone, together, atol=1e-5)


def test_layer_wise_learning_rates_and_no_decay_on_norms(tiny: str) -> None:
    model = build(tiny, train_layers=9, layer_decay=0.5)
    groups = model.parameter_groups(1e-3, 0.01)
    rates = sorted({g["lr"] for g in groups}, reverse=True)
    assert rates == [1e-3, 1e-3 * 0.5, 1e-3 * 0.25, 1e-3 * 0.125]  # head+top, 2 below, embeddings
    grouped = [p for g in groups for p in g["params"]]
    assert len(grouped) == len(list(model.parameters())) == len({id(p) for p in grouped})
    no_decay = {id(p) for g in groups if g["weight_decay"] == 0.0 for p in g["params"]}
    for name, p in model.named_parameters():
        assert (id(p) in no_decay) == (name.endswith("bias") or "LayerNorm" in name), name
    frozen = build(tiny, train_layers=1).parameter_groups(1e-3, 0.0)
    assert sum(len(g["params"]) for g in frozen) == sum(
        p.requires_grad for p in build(tiny, train_layers=1).parameters()
    )


def test_checkpoints_hold_only_what_trains(tiny: str) -> None:
    model = build(tiny, train_layers=1)
    state = model.state_dict()
    assert state and all(k.startswith(("encoder.encoder.layer.2.", "classifier.")) for k in state)
    other = build(tiny, train_layers=1)
    with torch.no_grad():
        other.classifier.weight.add_(1.0)
    other.load_state_dict(state)
    assert torch.equal(other.classifier.weight, model.classifier.weight)
    with pytest.raises(ConfigError, match="other train_layers"):
        build(tiny, train_layers=2).load_state_dict(state)


def test_cached_features_give_the_same_forward_and_training(tiny: str) -> None:
    ids = tokenize(load_tokenizer(tiny), TEXTS, 10)
    features = compute_features(tiny, ids, [0, 1, 3, 7], dtype=torch.float32)
    assert sorted(features) == [0, 1]  # 3 and 7 train every layer: nothing to cache
    cfg = TrainConfig(epochs=2, batch_size=3, lr=1e-2, token_drop=0.0)
    for k in (0, 1):
        plain = train("encoder", {"train_layers": k}, cfg, data(tiny), epochs=2, seed=0)
        cached = train("encoder", {"train_layers": k}, cfg, data(tiny, k), epochs=2, seed=0)
        for a, b in zip(plain.history, cached.history, strict=True):
            assert a.train_loss == pytest.approx(b.train_loss, abs=1e-5)
            assert a.val_loss == pytest.approx(b.val_loss, abs=1e-5)


def test_half_precision_cache_stays_close(tiny: str) -> None:
    ids = tokenize(load_tokenizer(tiny), TEXTS, 10)
    half = compute_features(tiny, ids, [1])[1]
    full = compute_features(tiny, ids, [1], dtype=torch.float32)[1]
    assert half.states.dtype == torch.float16
    assert torch.allclose(half.states.float(), full.states, atol=1e-2)
    assert half.row_ids() == full.row_ids() and len(half) == len(TEXTS)


def test_resume_equals_uninterrupted(tiny: str, tmp_path: Path) -> None:
    cfg = TrainConfig(epochs=2, batch_size=3, lr=1e-2, token_drop=0.2)
    hp = {"train_layers": 1, "dropout": 0.2}
    whole = train("encoder", hp, cfg, data(tiny), epochs=2, seed=3)
    train("encoder", hp, cfg, data(tiny), epochs=1, seed=3, checkpoint_dir=tmp_path)
    resumed = train(
        "encoder", hp, cfg, data(tiny), epochs=2, seed=3, resume_from=tmp_path / "epoch001.pt"
    )
    assert resumed.history[-1].train_loss == pytest.approx(whole.history[-1].train_loss, abs=1e-6)
    assert resumed.history[-1].val_loss == pytest.approx(whole.history[-1].val_loss, abs=1e-6)


def test_a_folder_without_weights_is_one_sentence(tiny: str, tmp_path: Path) -> None:
    folder = shutil.copytree(tiny, tmp_path / "noweights")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ConfigError, match="has no readable weights") as err:
        models.build_model("encoder", 40, 2, 10, pretrained=str(folder))
    assert "\n" not in str(err.value) and "encoder.name" in str(err.value)


def test_max_len_beyond_the_positions_is_named(tiny: str) -> None:
    with pytest.raises(ConfigError, match="'max_len' is 60.*at most 38"):
        models.build_model("encoder", 40, 2, 60, pretrained=tiny)


def test_a_tokenizer_of_other_weights_is_named(tiny: str, tmp_path: Path) -> None:
    small = write_tiny_encoder(tmp_path / "small")
    config = json.loads((small / "config.json").read_text())
    folder = shutil.copytree(tiny, tmp_path / "mixed")
    model_cfg = json.loads((folder / "config.json").read_text())
    assert model_cfg["vocab_size"] == config["vocab_size"]
    vocab = (folder / "vocab.txt").read_text().splitlines() + [f"extra{i}" for i in range(50)]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ConfigError, match="does not belong to these weights"):
        models.build_model("encoder", 40, 2, 10, pretrained=str(folder))


def split_files(tiny: str, folder: Path, features: bool) -> SplitFiles:
    """Prepared-like files of TEXTS (train: all 8, val: the first 4) and their cached states."""
    import pandas as pd

    from hpotext.data.steps import features as features_step

    folder.mkdir(parents=True, exist_ok=True)
    names = ["negative", "positive"]
    for split, n in (("train", 8), ("val", 4)):
        frame = pd.DataFrame({"text": TEXTS[:n], "label": [names[y] for y in LABELS[:n]]})
        frame.to_parquet(folder / f"{split}.parquet")
    (folder / "vocab.json").write_text(
        json.dumps({"itos": ["<pad>", "<unk>", "the"], "lowercase": True})
    )
    info = {"name": "t", "rows": 8, "classes": names, "split_sizes": {}, "class_counts": {},
            "dropped": {"rows_in": 8, "dropped_empty_text": 0, "dropped_missing_label": 0,
                        "rows_out": 8}}  # fmt: skip
    (folder / "dataset.json").write_text(json.dumps(info))
    cached = None
    if features:
        grid = {"max_len": [10], "train_layers": [0, 1, 5]}
        for split in ("train", "val"):
            written = features_step(str(folder / f"{split}.parquet"), tiny, grid, folder / split)
            assert [p.name for p in written] == ["len10_top0.pt", "len10_top1.pt"]
        cached = (str(folder / "train"), str(folder / "val"))
    return SplitFiles(*(str(folder / n) for n in ("train.parquet", "val.parquet", "vocab.json",
                                                   "dataset.json")), tiny, cached)  # fmt: skip


def test_inputs_encode_each_family_its_own_way(tiny: str, tmp_path: Path) -> None:
    files = split_files(tiny, tmp_path, features=True)
    inputs = TrainInputs(files, max_len=6)
    boe = inputs.for_model(ModelConfig("boe", {}))
    assert boe.pretrained is None and boe.features is None and boe.max_len == 6
    plain = inputs.for_model(ModelConfig("encoder", {"max_len": 10, "train_layers": 3}))
    assert plain.features is None and plain.pretrained == tiny  # 3 layers train: no cache
    assert plain.train_ids == tokenize(load_tokenizer(tiny), TEXTS, 10)
    cached = inputs.for_model(ModelConfig("encoder", {"max_len": 10, "train_layers": 1}))
    assert cached.features is not None and len(cached.features) == 12
    assert [len(r) for r in cached.train_ids] == [len(r) for r in plain.train_ids]
    assert cached.val_labels == LABELS[:4]
    # the proxy's slice of the train split reads the same rows of the cached states
    sliced = TrainInputs(files, 6, train_rows=[5, 2]).for_model(
        ModelConfig("encoder", {"max_len": 10, "train_layers": 1})
    )
    assert sliced.train_labels == [LABELS[5], LABELS[2]]
    assert sliced.features is not None
    rows = torch.tensor(sliced.train_ids[0]).unsqueeze(0)
    want = cached.features.gather(
        torch.tensor([cached.train_ids[5]]), torch.tensor([rows.shape[1]])
    )
    got = sliced.features.gather(rows, torch.tensor([rows.shape[1]]))
    assert torch.equal(got, want)


def test_stale_features_are_refused(tiny: str, tmp_path: Path) -> None:
    files = split_files(tiny, tmp_path, features=True)
    other = Path(files.features[0]) / "len10_top1.pt"  # type: ignore[index]
    shutil.copy(Path(files.features[0]) / "len10_top0.pt", other)
    with pytest.raises(StaleFileError, match="computed for .*'train_layers': 0"):
        TrainInputs(files, 6).for_model(ModelConfig("encoder", {"max_len": 10, "train_layers": 1}))


def test_word_vectors_average_the_encoders_pieces(tiny: str) -> None:
    from hpotext.models.encoder import load_encoder
    from hpotext.models.vectors import word_vectors

    words = ["<pad>", "<unk>", "movies", "good", "zzz"]
    found, known = word_vectors(tiny, words)
    table = load_encoder(tiny).embeddings.word_embeddings.weight.detach().numpy()
    ids = json.loads((Path(tiny) / "tokenizer.json").read_text())["model"]["vocab"]
    assert found.shape == (5, 16) and not found[0].any()  # padding stays zero
    assert found[2] == pytest.approx((table[ids["movie"]] + table[ids["##s"]]) / 2, abs=1e-6)
    assert found[3] == pytest.approx(table[ids["good"]], abs=1e-6)
    assert found[1] == pytest.approx(found[2:].mean(axis=0), abs=1e-6)  # unknown: the mean
    assert known == pytest.approx(2 / 3)  # "zzz" is [UNK]


@pytest.mark.parametrize("dim", [4, 16, 24])
def test_fitted_vectors_have_the_models_width_and_unit_variance(dim: int) -> None:
    import numpy as np

    from hpotext.models.vectors import fit_vectors

    vectors = np.random.default_rng(0).normal(0, 0.05, (30, 16)).astype(np.float32)
    fitted = fit_vectors(vectors, dim, torch.Generator().manual_seed(0))
    assert fitted.shape == (30, dim) and not fitted[0].any()
    assert torch.allclose(fitted[1:].std(dim=0), torch.ones(dim), atol=1e-4)


def test_embed_init_pretrained_starts_from_the_vectors(tmp_path: Path) -> None:
    import numpy as np

    from hpotext.models.vectors import fit_vectors

    ids = [[2, 3, 4], [5, 6], [7, 2, 3], [4, 5]]
    vectors = np.random.default_rng(1).normal(size=(10, 6)).astype(np.float32)
    data = TrainData(ids, [0, 1, 0, 1], ids, [0, 1, 0, 1], 10, 2, 8, vectors=vectors)
    cfg = TrainConfig(epochs=1, batch_size=2, lr=1e-9)
    hp = {"embed_dim": 4, "embed_init": "pretrained"}
    train("boe", hp, cfg, data, epochs=1, seed=0, checkpoint_dir=tmp_path)
    state = torch.load(tmp_path / "epoch001.pt", weights_only=False)["model"]
    assert torch.allclose(state["embedding.weight"], fit_vectors(vectors, 4), atol=1e-5)
    no_vectors = TrainData(ids, [0, 1, 0, 1], ids, [0, 1, 0, 1], 10, 2, 8)
    with pytest.raises(ConfigError, match="embed_init: pretrained but the study has no word"):
        train("boe", hp, cfg, no_vectors, epochs=1, seed=0)
