"""Tokenizer, vocabulary, bucketed batches and token dropping."""

from __future__ import annotations

import pytest
import torch

from hpotext.data.text import PAD, UNK, Vocab, tokenize, unknown_warning
from hpotext.errors import ConfigError
from hpotext.train.batches import batches, drop_tokens, pad_batch


def test_tokenize_words_contractions_and_punctuation() -> None:
    assert tokenize("It's a GREAT movie, isn't it?!") == [
        "it's",
        "a",
        "great",
        "movie",
        ",",
        "isn't",
        "it",
        "?",
        "!",
    ]
    assert tokenize("Case Kept", lowercase=False) == ["Case", "Kept"]
    assert tokenize("   ") == []


def test_vocab_from_train_only_min_freq_and_max_size() -> None:
    vocab = Vocab.build(["a a a b b c", "a b d"], min_freq=2)
    assert vocab.itos == ["<pad>", "<unk>", "a", "b"]
    assert vocab.encode("a c b zzz", max_len=10) == [2, UNK, 3, UNK]
    assert len(Vocab.build(["a a a b b c c d"], min_freq=1, max_size=4)) == 4
    with pytest.raises(ConfigError, match="min_freq"):
        Vocab.build(["a"], min_freq=0)


def test_encode_truncates_and_never_returns_empty(tmp_path) -> None:
    vocab = Vocab.build(["one two three four"])
    assert len(vocab.encode("one two three four", max_len=2)) == 2
    assert vocab.encode("", max_len=5) == [UNK]
    vocab.save(tmp_path / "v.json")
    assert Vocab.load(tmp_path / "v.json").itos == vocab.itos


def test_pad_batch_pads_right_to_longest() -> None:
    b = pad_batch([[5, 6, 7], [8]], [1, 0])
    assert b.tokens.tolist() == [[5, 6, 7], [8, PAD, PAD]]
    assert b.lengths.tolist() == [3, 1]
    assert b.labels.tolist() == [1, 0]


def test_bucketed_batches_cover_every_example_once_with_little_padding() -> None:
    gen = torch.Generator().manual_seed(0)
    seqs = [[2] * (1 + (i * 7) % 40) for i in range(500)]
    labels = list(range(500))
    out = list(batches(seqs, labels, 32, shuffle=True, generator=gen, bucket=True))
    seen = sorted(int(y) for b in out for y in b.labels)
    assert seen == labels
    bucketed_pad = sum(int((b.tokens == PAD).sum()) for b in out)
    plain = list(batches(seqs, labels, 32, shuffle=True, generator=gen, bucket=False))
    plain_pad = sum(int((b.tokens == PAD).sum()) for b in plain)
    assert bucketed_pad < plain_pad / 5


def test_unshuffled_batches_keep_input_order() -> None:
    seqs = [[3] * (i % 5 + 1) for i in range(10)]
    out = list(batches(seqs, list(range(10)), 4, shuffle=False, bucket=False))
    assert [int(y) for b in out for y in b.labels] == list(range(10))


def test_drop_tokens_removes_padding_first_then_real_tokens_in_order() -> None:
    gen = torch.Generator().manual_seed(0)
    batch = pad_batch([[10, 11, 12, 13, 14, 15, 16, 17, 18, 19], [5, 6]], [0, 1])
    out = drop_tokens(batch, 0.3, gen)
    assert out.tokens.shape == (2, 7)
    assert out.lengths.tolist() == [7, 2]
    assert out.tokens[1].tolist() == [5, 6, PAD, PAD, PAD, PAD, PAD]  # only padding dropped
    kept = out.tokens[0].tolist()
    assert kept == sorted(kept) and len(set(kept)) == 7  # random real tokens, order kept
    assert set(kept) <= set(range(10, 20))


def test_drop_tokens_zero_is_identity_and_bad_fraction_errors() -> None:
    gen = torch.Generator().manual_seed(0)
    batch = pad_batch([[1, 2, 3]], [0])
    assert drop_tokens(batch, 0.0, gen) is batch
    assert drop_tokens(pad_batch([[4]], [0]), 0.9, gen).tokens.tolist() == [[4]]
    with pytest.raises(ConfigError, match="token_drop"):
        drop_tokens(batch, 1.0, gen)


def test_drop_tokens_shortens_batches_by_the_fraction() -> None:
    gen = torch.Generator().manual_seed(1)
    seqs = [[2] * 20 for _ in range(8)]
    out = drop_tokens(pad_batch(seqs, [0] * 8), 0.5, gen)
    assert out.tokens.shape == (8, 10)
    assert int((out.tokens != PAD).sum()) == 80


def test_fixed_width_padding() -> None:
    out = list(batches([[5], [6, 7]], [0, 1], 2, shuffle=False, bucket=False, pad_to=4))
    assert out[0].tokens.tolist() == [[5, 0, 0, 0], [6, 7, 0, 0]]


def test_unknown_tokens_counts_what_reads_as_unk() -> None:
    vocab = Vocab.build(["a good film", "a bad film"], min_freq=1)
    assert vocab.unknown_tokens(["a great film", "superb acting"]) == (3, 5)
    assert vocab.unknown_tokens([]) == (0, 0)


def test_unknown_warning_names_the_share_and_the_setting() -> None:
    train = [f"word{i} common" for i in range(50)]  # every word{i} is seen once
    val = [f"word{i + 100} other common" for i in range(10)]
    strict = Vocab.build(train, min_freq=2, max_size=1000)
    warning = unknown_warning(strict, val, min_freq=2, max_size=1000)
    assert warning is not None
    assert warning.startswith("67% of the 30 val tokens (20) are not in the vocabulary of 3")
    assert "more than 50%" in warning and "lower text.min_freq (now 2)" in warning
    assert "text.max_size" not in warning
    capped = Vocab.build(train, min_freq=1, max_size=3)
    message = unknown_warning(capped, val, min_freq=1, max_size=3)
    assert message is not None and "raise text.max_size (now 3)" in message
    assert unknown_warning(Vocab.build(train), train, min_freq=1, max_size=None) is None
    assert unknown_warning(strict, [""], min_freq=2, max_size=1000) is None  # no tokens
