"""Text processing: tokenizer, vocabulary, encoding, length-bucketed batches and token dropping."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from hpotext.errors import ConfigError
from hpotext.io import read_json

PAD, UNK = 0, 1
MAX_UNKNOWN_SHARE = 0.5  # more val tokens than this read as <unk>: the prepare step warns
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]", re.IGNORECASE)


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    """Split text into words (with simple contractions) and single punctuation marks."""
    if lowercase:
        text = text.lower()
    return _TOKEN.findall(text)


@dataclass
class Vocab:
    """Token <-> id mapping; id 0 is padding, id 1 is the unknown token."""

    itos: list[str] = field(default_factory=lambda: ["<pad>", "<unk>"])
    lowercase: bool = True

    def __post_init__(self) -> None:
        self.stoi = {tok: i for i, tok in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        min_freq: int = 1,
        max_size: int | None = None,
        lowercase: bool = True,
    ) -> Vocab:
        """Count train tokens; keep those seen ``min_freq`` times, most common first."""
        if min_freq < 1:
            raise ConfigError(
                f"text.min_freq must be at least 1, got {min_freq}; set it to 1 or more"
            )
        if max_size is not None and max_size < 3:
            raise ConfigError(f"text.max_size must be at least 3, got {max_size}; raise it")
        counts = Counter(tok for text in texts for tok in tokenize(text, lowercase))
        kept = sorted(
            (t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t)
        )
        if max_size is not None:
            kept = kept[: max_size - 2]
        return cls(itos=["<pad>", "<unk>", *kept], lowercase=lowercase)

    def encode(self, text: str, max_len: int) -> list[int]:
        """Token ids of ``text`` truncated to ``max_len``; at least one token (UNK if empty)."""
        ids = [self.stoi.get(tok, UNK) for tok in tokenize(text, self.lowercase)[:max_len]]
        return ids or [UNK]

    def encode_all(self, texts: Iterable[str], max_len: int) -> list[list[int]]:
        return [self.encode(t, max_len) for t in texts]

    def unknown_tokens(self, texts: Iterable[str]) -> tuple[int, int]:
        """(tokens of ``texts`` not in the vocabulary, i.e. read as <unk>; all their tokens)."""
        unknown = total = 0
        for text in texts:
            tokens = tokenize(text, self.lowercase)
            total += len(tokens)
            unknown += sum(tok not in self.stoi for tok in tokens)
        return unknown, total

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"lowercase": self.lowercase, "itos": self.itos}))

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        raw = read_json(path)
        return cls(itos=list(raw["itos"]), lowercase=bool(raw["lowercase"]))


def unknown_warning(
    vocab: Vocab,
    texts: Iterable[str],
    min_freq: int,
    max_size: int | None,
    split: str = "val",
    limit: float = MAX_UNKNOWN_SHARE,
) -> str | None:
    """A warning when more than ``limit`` of the tokens of ``texts`` are <unk>, else None."""
    unknown, total = vocab.unknown_tokens(texts)
    if total == 0 or unknown <= limit * total:
        return None
    fixes = []
    if max_size is not None and len(vocab) >= max_size:
        fixes.append(f"raise text.max_size (now {max_size})")
    if min_freq > 1:
        fixes.append(f"lower text.min_freq (now {min_freq})")
    fixes.append("add training rows")
    return (
        f"{unknown / total:.0%} of the {total} {split} tokens ({unknown}) are not in the "
        f"vocabulary of {len(vocab)} built from train and read as <unk>, more than "
        f"{limit:.0%}; {', or '.join(fixes)}"
    )


@dataclass
class Batch:
    tokens: torch.Tensor  # (B, L) long, PAD on the right
    lengths: torch.Tensor  # (B,) long, >= 1
    labels: torch.Tensor  # (B,) long

    def to(self, device: torch.device) -> Batch:
        return Batch(self.tokens.to(device), self.lengths.to(device), self.labels.to(device))


def pad_batch(
    seqs: Sequence[Sequence[int]], labels: Sequence[int], pad_to: int | None = None
) -> Batch:
    """Pad sequences to the longest one in the batch (or to ``pad_to``, fixed-width padding)."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    width = int(lengths.max()) if pad_to is None else max(pad_to, int(lengths.max()))
    tokens = torch.full((len(seqs), width), PAD, dtype=torch.long)
    for i, s in enumerate(seqs):
        tokens[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    return Batch(tokens, lengths, torch.tensor(list(labels), dtype=torch.long))


def drop_tokens(batch: Batch, fraction: float, generator: torch.Generator) -> Batch:
    """Shorten a batch by ``fraction`` of its width: padding goes first, then random real tokens.

    The (B, L) batch becomes (B, L') with L' = max(1, round((1 - fraction) * L)). Rows already no
    longer than L' only lose padding; longer rows lose randomly chosen real tokens (order kept).
    """
    if not 0.0 <= fraction < 1.0:
        raise ConfigError(f"token_drop must be in [0, 1), got {fraction}; pick a value like 0.3")
    width = batch.tokens.shape[1]
    keep = max(1, round((1.0 - fraction) * width))
    if fraction == 0.0 or keep >= width:
        return batch
    # random priority per position; padding gets -1 so it is always dropped first
    scores = torch.rand(batch.tokens.shape, generator=generator)  # (B, L)
    is_pad = torch.arange(width).unsqueeze(0) >= batch.lengths.unsqueeze(1)  # (B, L)
    scores = scores.masked_fill(is_pad, -1.0)
    kept = scores.topk(keep, dim=1).indices.sort(dim=1).values  # (B, L'), original order
    return Batch(batch.tokens.gather(1, kept), batch.lengths.clamp(max=keep), batch.labels)


def batches(
    seqs: Sequence[Sequence[int]],
    labels: Sequence[int],
    batch_size: int,
    shuffle: bool,
    generator: torch.Generator | None = None,
    bucket: bool = True,
    pad_to: int | None = None,
) -> Iterator[Batch]:
    """Yield padded batches; with ``bucket`` similar lengths share a batch, so padding stays small.

    Shuffled bucketing: shuffle, sort by length inside chunks of 50 batches, cut into batches,
    shuffle the batch order. Without shuffling, batches follow the input order (or length order).
    ``pad_to`` pads every batch to a fixed width instead (the slow baseline bucketing replaces).
    """
    if batch_size < 1:
        raise ConfigError(f"train.batch_size must be at least 1, got {batch_size}")
    n = len(seqs)
    if shuffle:
        if generator is None:
            raise ValueError("shuffled batches need a generator")
        order = torch.randperm(n, generator=generator).tolist()
    else:
        order = list(range(n))
    if bucket:
        chunk = batch_size * 50
        order = [
            i
            for start in range(0, n, chunk)
            for i in sorted(order[start : start + chunk], key=lambda j: len(seqs[j]))
        ]
    cuts = [order[s : s + batch_size] for s in range(0, n, batch_size)]
    if shuffle:
        cuts = [cuts[i] for i in torch.randperm(len(cuts), generator=generator).tolist()]
    for idx in cuts:
        yield pad_batch([seqs[i] for i in idx], [labels[i] for i in idx], pad_to)
