"""Pretrained word vectors for the from-scratch families (``embed_init: pretrained``).

The study vocabulary's words get the pretrained encoder's input embeddings, each word the mean
of its WordPiece pieces' rows (the vectors rule writes them once per study, aligned with
vocab.json). A model starts from them reduced (PCA) or padded (random columns) to its
``embed_dim`` and scaled to the unit variance of PyTorch's own embedding init, so the learning
rates the space searches mean the same for both inits.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from hpotext.data.text import PAD, UNK


def word_vectors(pretrained: str, words: list[str]) -> tuple[np.ndarray, float]:
    """(V, D) float32 vectors of ``words`` (vocab.json's itos) and the share of real words
    with no unknown piece: padding is zeros, the unknown word the mean of all words."""
    from hpotext.models.encoder import load_encoder, load_tokenizer

    tokenizer = load_tokenizer(pretrained)
    table = load_encoder(pretrained).embeddings.word_embeddings.weight.detach().numpy()
    pieces = tokenizer(words, add_special_tokens=False)["input_ids"]
    unk = tokenizer.unk_token_id
    out = np.zeros((len(words), table.shape[1]), dtype=np.float32)
    known = 0
    for i, ids in enumerate(pieces):
        if i in (PAD, UNK) or not ids:
            continue
        out[i] = table[ids].mean(axis=0)
        known += unk not in ids
    real = [i for i in range(len(words)) if i not in (PAD, UNK)]
    if real:
        out[UNK] = out[real].mean(axis=0)
    return out, known / max(1, len(real))


def fit_vectors(
    vectors: np.ndarray, dim: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``vectors`` (V, D) as a (V, dim) embedding init: the top ``dim`` principal components
    (dim < D) or the vectors plus standard-normal columns (dim > D), every column scaled to unit
    variance; the padding row stays zero."""
    x = torch.from_numpy(np.asarray(vectors, dtype=np.float32)).clone()  # (V, D)
    rows = x[1:]  # without padding
    centred = rows - rows.mean(dim=0, keepdim=True)
    if dim < x.shape[1]:
        _, _, v = torch.linalg.svd(centred, full_matrices=False)  # v: (D, D)
        reduced = centred @ v[:dim].T  # (V-1, dim)
    else:
        extra = torch.randn(rows.shape[0], dim - x.shape[1], generator=generator)
        reduced = torch.cat([centred, extra], dim=1)  # (V-1, dim)
    reduced = reduced / reduced.std(dim=0, keepdim=True).clamp(min=1e-8)
    return torch.cat([torch.zeros(1, dim), reduced])  # (V, dim)


def init_embeddings(model: nn.Module, vectors: np.ndarray) -> None:
    """Start ``model.embedding`` (a from-scratch family's token embedding) from ``vectors``."""
    embedding: nn.Embedding = model.embedding  # type: ignore[assignment]
    if embedding.num_embeddings != len(vectors):
        raise ValueError(
            f"{len(vectors)} word vectors for a vocabulary of {embedding.num_embeddings}"
        )
    with torch.no_grad():
        embedding.weight.copy_(fit_vectors(vectors, embedding.embedding_dim))
