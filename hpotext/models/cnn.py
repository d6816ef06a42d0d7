"""Kim-style convolutional text classifier with several kernel widths and max-over-time pooling."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hpotext.models._common import length_mask
from hpotext.models.configs import CNNConfig, parse_kernel_sizes

__all__ = ["CNNClassifier", "CNNConfig", "parse_kernel_sizes"]


class CNNClassifier(nn.Module):
    """One Conv1d per kernel width, ReLU, masked max over time, concatenation, linear layer."""

    def __init__(self, cfg: CNNConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.embed_dim, padding_idx=0)
        self.convs = nn.ModuleList(
            nn.Conv1d(cfg.embed_dim, cfg.num_filters, kernel_size=k) for k in cfg.kernel_sizes
        )
        self.act = nn.ReLU()  # a module, so training diagnosis can watch for dead units
        self.dropout = nn.Dropout(cfg.dropout)
        self.classifier = nn.Linear(cfg.num_filters * len(cfg.kernel_sizes), cfg.num_classes)
        self.max_kernel = max(cfg.kernel_sizes)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Map tokens (B, L) and lengths (B,) to logits (B, num_classes)."""
        width = tokens.size(1)
        mask = length_mask(lengths, width)  # (B, L)
        emb = self.embedding(tokens).masked_fill(~mask.unsqueeze(-1), 0.0)  # (B, L, E)
        # Always pad max_kernel - 1 zero columns on the right: every window that starts on a real
        # token then exists and sees the same zeros however wide the batch is (and L=1 works).
        x = F.pad(emb.transpose(1, 2), (0, self.max_kernel - 1))  # (B, E, L + K - 1)
        pooled = []
        for conv in self.convs:
            feats = self.act(conv(x))[:, :, :width]  # (B, F, L): window t starts at token t
            # ReLU outputs are >= 0 and every row has a real token, so 0 is a neutral fill.
            feats = feats.masked_fill(~mask.unsqueeze(1), 0.0)  # (B, F, L)
            pooled.append(feats.amax(dim=2))  # (B, F)
        features = self.dropout(torch.cat(pooled, dim=1))  # (B, F * len(kernel_sizes))
        return self.classifier(features)  # (B, C)
