"""Small Transformer encoder classifier with learned positions and mean or CLS pooling."""

from __future__ import annotations

import torch
from torch import nn

from hpotext.errors import ConfigError
from hpotext.models._common import length_mask
from hpotext.models.configs import TRANSFORMER_POOLINGS, TransformerConfig

__all__ = ["TRANSFORMER_POOLINGS", "TransformerClassifier", "TransformerConfig"]


class TransformerClassifier(nn.Module):
    """Token + learned position embeddings, pre-norm Transformer encoder, pooling, linear layer."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.use_cls = cfg.pooling == "cls"
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.embed_dim, padding_idx=0)
        self.position = nn.Embedding(cfg.max_positions + int(self.use_cls), cfg.embed_dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.embed_dim)) if self.use_cls else None
        layer = nn.TransformerEncoderLayer(
            d_model=cfg.embed_dim,
            nhead=cfg.num_heads,
            dim_feedforward=cfg.ff_dim,
            dropout=cfg.dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer,
            num_layers=cfg.num_layers,
            norm=nn.LayerNorm(cfg.embed_dim),
            enable_nested_tensor=False,
        )
        self.dropout = nn.Dropout(cfg.dropout)
        self.classifier = nn.Linear(cfg.embed_dim, cfg.num_classes)
        nn.init.normal_(self.position.weight, std=0.02)
        if self.cls is not None:
            nn.init.normal_(self.cls, std=0.02)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Map tokens (B, L) and lengths (B,) to logits (B, num_classes)."""
        batch, width = tokens.shape
        if width > self.cfg.max_positions:
            raise ConfigError(
                f"model 'transformer' got a batch {width} tokens wide but max_positions is "
                f"{self.cfg.max_positions}; build the model with max_len of at least {width}"
            )
        valid = length_mask(lengths, width)  # (B, L)
        x = self.embedding(tokens)  # (B, L, E)
        if self.cls is not None:
            x = torch.cat([self.cls.expand(batch, -1, -1), x], dim=1)  # (B, L+1, E)
            valid = torch.cat([valid.new_ones(batch, 1), valid], dim=1)  # (B, L+1)
        positions = torch.arange(x.size(1), device=tokens.device)  # (L',)
        x = self.dropout(x + self.position(positions))  # (B, L', E)
        h = self.encoder(x, src_key_padding_mask=~valid)  # (B, L', E)
        if self.cls is not None:
            pooled = h[:, 0]  # (B, E)
        else:
            h = h.masked_fill(~valid.unsqueeze(-1), 0.0)  # (B, L, E)
            count = valid.sum(dim=1, keepdim=True).clamp(min=1).to(h.dtype)  # (B, 1)
            pooled = h.sum(dim=1) / count  # (B, E)
        return self.classifier(self.dropout(pooled))  # (B, C)
