"""Batches of token ids: padding, length buckets and token dropping."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from hpotext.data.text import PAD
from hpotext.errors import ConfigError


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
