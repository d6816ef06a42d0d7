"""fastText-style bag-of-embeddings classifier: pooled embeddings, optional hidden layer."""

from __future__ import annotations

import torch
from torch import nn

from hpotext.models._common import length_mask
from hpotext.models.configs import BOE_POOLINGS, BoEConfig

__all__ = ["BOE_POOLINGS", "BoEClassifier", "BoEConfig"]


class BoEClassifier(nn.Module):
    """Average (or max) the token embeddings, then a linear or one-hidden-layer classifier."""

    def __init__(self, cfg: BoEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.embed_dim, padding_idx=0)
        self.dropout = nn.Dropout(cfg.dropout)
        pooled_dim = 2 * cfg.embed_dim if cfg.pooling == "meanmax" else cfg.embed_dim
        if cfg.hidden_dim > 0:
            self.classifier: nn.Module = nn.Sequential(
                nn.Linear(pooled_dim, cfg.hidden_dim),
                nn.ReLU(),
                nn.Dropout(cfg.dropout),
                nn.Linear(cfg.hidden_dim, cfg.num_classes),
            )
        else:
            self.classifier = nn.Linear(pooled_dim, cfg.num_classes)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Map tokens (B, L) and lengths (B,) to logits (B, num_classes)."""
        mask = length_mask(lengths, tokens.size(1)).unsqueeze(-1)  # (B, L, 1)
        emb = self.embedding(tokens).masked_fill(~mask, 0.0)  # (B, L, E)
        pooled = []
        if self.cfg.pooling in ("mean", "meanmax"):
            count = mask.sum(dim=1).clamp(min=1).to(emb.dtype)  # (B, 1)
            pooled.append(emb.sum(dim=1) / count)  # (B, E)
        if self.cfg.pooling in ("max", "meanmax"):
            pooled.append(emb.masked_fill(~mask, float("-inf")).amax(dim=1))  # (B, E)
        features = self.dropout(torch.cat(pooled, dim=-1))  # (B, E) or (B, 2E)
        return self.classifier(features)  # (B, C)
