"""Behavioural tests for the model registry and the four from-scratch architectures (the
pretrained encoder has tests/test_encoder.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import nn

from hpotext.errors import ConfigError
from hpotext.models import (
    MODULES,
    build_model,
    count_parameters,
    hyperparameters,
    make_config,
    model_names,
)
from hpotext.models.configs import PREPROCESSING

VOCAB = 20
CLASSES = 3
MAX_LEN = 12

# Small sizes keep the file fast; every architecture is covered with its defaults for the
# options (pooling etc.), and the VARIANTS below cover the other options.
SMALL: dict[str, dict[str, object]] = {
    "boe": {"embed_dim": 16},
    "cnn": {"embed_dim": 16, "num_filters": 8},
    "lstm": {"embed_dim": 16, "hidden_dim": 16},
    "transformer": {"embed_dim": 16, "num_heads": 2, "ff_dim": 32},
}
VARIANTS: list[tuple[str, dict[str, object]]] = [(name, SMALL[name]) for name in SMALL] + [
    ("boe", {"embed_dim": 16, "pooling": "max"}),
    ("boe", {"embed_dim": 16, "pooling": "meanmax", "hidden_dim": 8}),
    ("cnn", {"embed_dim": 16, "num_filters": 8, "kernel_sizes": "1,2"}),
    ("lstm", {"embed_dim": 16, "hidden_dim": 16, "pooling": "max", "num_layers": 2}),
    ("lstm", {"embed_dim": 16, "hidden_dim": 16, "bidirectional": False}),
    ("transformer", {"embed_dim": 16, "num_heads": 2, "ff_dim": 32, "pooling": "cls"}),
]
SCRATCH = [name for name in model_names() if PREPROCESSING[name] == "vocab"]
VARIANT_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in hp.items())}" for name, hp in VARIANTS]


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """The tensors here are tiny: extra intra-op threads only add overhead (a lot under load)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def build(
    name: str, hparams: dict[str, object], seed: int = 0, num_classes: int = CLASSES
) -> nn.Module:
    torch.manual_seed(seed)
    return build_model(name, VOCAB, num_classes, MAX_LEN, **hparams)


def embedding_of(model: nn.Module) -> nn.Embedding:
    return next(m for m in model.modules() if isinstance(m, nn.Embedding))


def mixed_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of length 5 (full width), 1 and 3, padded on the right with 0."""
    tokens = torch.tensor(
        [
            [4, 7, 2, 9, 3],
            [6, 0, 0, 0, 0],
            [1, 8, 5, 0, 0],
        ]
    )
    return tokens, torch.tensor([5, 1, 3])


def test_registry_covers_all_models() -> None:
    assert model_names() == ["boe", "cnn", "encoder", "lstm", "transformer"]
    assert set(SMALL) == set(SCRATCH) and set(model_names()) == set(MODULES)


@pytest.mark.parametrize(("name", "hparams"), VARIANTS, ids=VARIANT_IDS)
def test_forward_shapes(name: str, hparams: dict[str, object]) -> None:
    model = build(name, hparams)
    tokens, lengths = mixed_batch()
    logits = model(tokens, lengths)
    assert logits.shape == (3, CLASSES)
    assert logits.dtype == torch.float32
    assert torch.isfinite(logits).all()
    # A batch that is one token wide.
    narrow = model(torch.tensor([[3], [11]]), torch.tensor([1, 1]))
    assert narrow.shape == (2, CLASSES)
    assert torch.isfinite(narrow).all()


@pytest.mark.parametrize(("name", "hparams"), VARIANTS, ids=VARIANT_IDS)
def test_backward_reaches_embedding(name: str, hparams: dict[str, object]) -> None:
    model = build(name, hparams)
    tokens, lengths = mixed_batch()
    loss = nn.functional.cross_entropy(model(tokens, lengths), torch.tensor([0, 1, 2]))
    loss.backward()
    grad = embedding_of(model).weight.grad
    assert grad is not None
    assert torch.isfinite(grad).all()
    assert grad[tokens[tokens > 0]].abs().sum() > 0
    assert grad[0].abs().sum() == 0  # the pad row never learns


@pytest.mark.parametrize(("name", "hparams"), VARIANTS, ids=VARIANT_IDS)
def test_extra_padding_does_not_change_logits(name: str, hparams: dict[str, object]) -> None:
    model = build(name, hparams).eval()
    tokens, lengths = mixed_batch()
    wider = torch.cat([tokens, torch.zeros(3, 4, dtype=tokens.dtype)], dim=1)  # (3, 9)
    with torch.no_grad():
        torch.testing.assert_close(model(wider, lengths), model(tokens, lengths), atol=1e-5, rtol=0)
        # One-token rows alone vs. padded out to width 6.
        single = torch.tensor([[3], [11]])
        padded = torch.cat([single, torch.zeros(2, 5, dtype=single.dtype)], dim=1)
        ones = torch.tensor([1, 1])
        torch.testing.assert_close(model(padded, ones), model(single, ones), atol=1e-5, rtol=0)


def toy_task(n: int = 48, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Class 1 iff token 5 occurs; other tokens are drawn from 1..19 without 5."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, 9, (n,), generator=gen)
    labels = torch.arange(n) % 2
    width = int(lengths.max())
    tokens = torch.zeros(n, width, dtype=torch.long)
    for i in range(n):
        row = torch.randint(6, VOCAB, (int(lengths[i]),), generator=gen)
        if labels[i] == 1:
            row[int(torch.randint(0, int(lengths[i]), (1,), generator=gen))] = 5
        tokens[i, : int(lengths[i])] = row
    return tokens, lengths, labels


@pytest.mark.parametrize("name", SCRATCH)
def test_learns_toy_task(name: str) -> None:
    tokens, lengths, labels = toy_task()
    model = build(name, {**SMALL[name], "dropout": 0.0}, seed=1, num_classes=2)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)

    def loss() -> torch.Tensor:
        return nn.functional.cross_entropy(model(tokens, lengths), labels)

    with torch.no_grad():
        before = loss().item()
    for _ in range(20):
        optimiser.zero_grad()
        step = loss()
        step.backward()
        optimiser.step()
    with torch.no_grad():
        after = loss().item()
    assert after < 0.5 * before, (before, after)


def test_unknown_model_name_is_named() -> None:
    with pytest.raises(ConfigError, match="'bert'") as info:
        build_model("bert", VOCAB, CLASSES, MAX_LEN)
    assert "transformer" in str(info.value)  # lists the known names
    with pytest.raises(ConfigError, match="'bert'"):
        hyperparameters("bert")


def test_unknown_hyperparameter_is_named() -> None:
    with pytest.raises(ConfigError, match="'hidden_size'") as info:
        make_config("cnn", VOCAB, CLASSES, MAX_LEN, hidden_size=32)
    message = str(info.value)
    assert "'cnn'" in message
    assert "dropout, embed_dim, embed_init, kernel_sizes, num_filters" in message
    # Data-set fields are not hyperparameters.
    with pytest.raises(ConfigError, match="'max_positions'"):
        make_config("transformer", VOCAB, CLASSES, MAX_LEN, max_positions=99)


def test_transformer_heads_must_divide_embed_dim() -> None:
    with pytest.raises(ConfigError, match="embed_dim=30") as info:
        make_config("transformer", VOCAB, CLASSES, MAX_LEN, embed_dim=30, num_heads=4)
    assert "num_heads=4" in str(info.value)


@pytest.mark.parametrize("sizes", ["2,3", [2, 3], (2, 3), " 2, 3 ", "(2, 3)", [2.0, 3.0]])
def test_cnn_kernel_sizes_forms(sizes: object) -> None:
    cfg = make_config("cnn", VOCAB, CLASSES, MAX_LEN, kernel_sizes=sizes)
    assert cfg.kernel_sizes == (2, 3)  # type: ignore[attr-defined]


@pytest.mark.parametrize("sizes", ["2,x", "", [], [0, 3], "2.5"])
def test_cnn_bad_kernel_sizes(sizes: object) -> None:
    with pytest.raises(ConfigError, match="kernel_sizes"):
        make_config("cnn", VOCAB, CLASSES, MAX_LEN, kernel_sizes=sizes)


def test_hyperparameters_lists_tunable_fields_only() -> None:
    cnn = hyperparameters("cnn")
    assert cnn["num_filters"] == 100
    assert cnn["embed_dim"] == 128
    assert cnn["kernel_sizes"] == (3, 4, 5)
    for name in SCRATCH:
        params = hyperparameters(name)
        assert {"embed_dim", "dropout"} <= set(params)
        assert not {"vocab_size", "num_classes", "max_positions"} & set(params)
        build_model(name, VOCAB, CLASSES, MAX_LEN, **params)  # defaults are valid


def test_int_valued_floats_are_accepted() -> None:
    cfg = make_config("lstm", VOCAB, CLASSES, MAX_LEN, embed_dim=16.0, num_layers=2.0)
    assert cfg.embed_dim == 16 and isinstance(cfg.embed_dim, int)  # type: ignore[attr-defined]
    assert cfg.num_layers == 2 and isinstance(cfg.num_layers, int)  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="'embed_dim'"):
        make_config("lstm", VOCAB, CLASSES, MAX_LEN, embed_dim=16.5)
    with pytest.raises(ConfigError, match="'hidden_dim'"):
        make_config("boe", VOCAB, CLASSES, MAX_LEN, hidden_dim=True)


@pytest.mark.parametrize(
    ("name", "hparams", "field"),
    [
        ("boe", {"pooling": "sum"}, "pooling"),
        ("lstm", {"pooling": "mean"}, "pooling"),
        ("transformer", {"pooling": "max"}, "pooling"),
        ("cnn", {"dropout": 1.0}, "dropout"),
        ("boe", {"dropout": -0.1}, "dropout"),
        ("cnn", {"num_filters": 0}, "num_filters"),
        ("boe", {"hidden_dim": -1}, "hidden_dim"),
        ("lstm", {"bidirectional": "maybe"}, "bidirectional"),
    ],
)
def test_invalid_values_are_named(name: str, hparams: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=f"'{field}'"):
        make_config(name, VOCAB, CLASSES, MAX_LEN, **hparams)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_transformer_positions_follow_max_len(pooling: str) -> None:
    cfg = make_config("transformer", VOCAB, CLASSES, MAX_LEN, pooling=pooling)
    assert cfg.max_positions == MAX_LEN  # type: ignore[attr-defined]
    for name in ("boe", "cnn", "lstm"):
        assert not hasattr(make_config(name, VOCAB, CLASSES, MAX_LEN), "max_positions")
    model = build("transformer", {**SMALL["transformer"], "pooling": pooling})
    full = torch.randint(1, VOCAB, (2, MAX_LEN))
    assert model(full, torch.tensor([MAX_LEN, 4])).shape == (2, CLASSES)
    with pytest.raises(ConfigError, match="max_len"):
        model(torch.randint(1, VOCAB, (2, MAX_LEN + 1)), torch.tensor([MAX_LEN + 1, 4]))


def test_count_parameters() -> None:
    model = build("boe", {"embed_dim": 4})
    assert count_parameters(model) == VOCAB * 4 + 4 * CLASSES + CLASSES
    embedding_of(model).weight.requires_grad_(False)
    assert count_parameters(model) == 4 * CLASSES + CLASSES
