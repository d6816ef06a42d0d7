"""(Bi)LSTM text classifier over packed sequences, pooled by final hidden states or masked max."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from hpotext.models._common import length_mask
from hpotext.models.configs import LSTM_POOLINGS, LSTMConfig

__all__ = ["LSTMClassifier", "LSTMConfig", "LSTM_POOLINGS"]


class LSTMClassifier(nn.Module):
    """Embedding, dropout, (Bi)LSTM over packed sequences, pooling, dropout, linear layer."""

    def __init__(self, cfg: LSTMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.num_directions = 2 if cfg.bidirectional else 1
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.embed_dim, padding_idx=0)
        self.dropout = nn.Dropout(cfg.dropout)
        self.lstm = nn.LSTM(
            cfg.embed_dim,
            cfg.hidden_dim,
            num_layers=cfg.num_layers,
            bidirectional=cfg.bidirectional,
            batch_first=True,
            dropout=cfg.dropout if cfg.num_layers > 1 else 0.0,
        )
        self.classifier = nn.Linear(cfg.hidden_dim * self.num_directions, cfg.num_classes)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Map tokens (B, L) and lengths (B,) to logits (B, num_classes)."""
        width = tokens.size(1)
        emb = self.dropout(self.embedding(tokens))  # (B, L, E)
        cpu_lengths = lengths.to("cpu", torch.int64).clamp(max=width)  # (B,)
        packed = pack_padded_sequence(emb, cpu_lengths, batch_first=True, enforce_sorted=False)
        outputs, (h_n, _) = self.lstm(packed)  # h_n: (layers * D, B, H), in input order
        if self.cfg.pooling == "last":
            last = h_n[-self.num_directions :]  # (D, B, H): top layer, forward (and backward)
            features = last.transpose(0, 1).reshape(tokens.size(0), -1)  # (B, D * H)
        else:
            padded, _ = pad_packed_sequence(outputs, batch_first=True, total_length=width)
            mask = length_mask(lengths, width).unsqueeze(-1)  # (B, L, 1)
            features = padded.masked_fill(~mask, float("-inf")).amax(dim=1)  # (B, D * H)
        return self.classifier(self.dropout(features))  # (B, C)
