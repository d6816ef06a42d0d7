"""Kim-style convolutional text classifier with several kernel widths and max-over-time pooling."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hpotext.errors import ConfigError
from hpotext.models._common import as_int, check_dropout, length_mask


def parse_kernel_sizes(value: object) -> tuple[int, ...]:
    """Turn (3, 4), [3, 4], "3,4" or a single number into a tuple of kernel widths >= 1."""
    if isinstance(value, str):
        items: list[object] = []
        for part in value.strip().strip("()[]").split(","):  # also "(3, 4)" or "[3, 4]"
            try:
                items.append(float(part))
            except ValueError:
                raise ConfigError(
                    f"model 'cnn' hyperparameter 'kernel_sizes' must be whole numbers separated "
                    f'by commas, got {value!r}; write it like "3,4,5"'
                ) from None
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    if not items:
        raise ConfigError(
            "model 'cnn' hyperparameter 'kernel_sizes' is empty; set it to e.g. [3, 4, 5]"
        )
    return tuple(as_int("cnn", "kernel_sizes", item) for item in items)


@dataclass
class CNNConfig:
    """Hyperparameters of the convolutional classifier."""

    vocab_size: int
    num_classes: int
    embed_dim: int = 128
    dropout: float = 0.2
    num_filters: int = 100
    kernel_sizes: tuple[int, ...] = (3, 4, 5)

    def __post_init__(self) -> None:
        self.vocab_size = as_int("cnn", "vocab_size", self.vocab_size, minimum=2)
        self.num_classes = as_int("cnn", "num_classes", self.num_classes, minimum=2)
        self.embed_dim = as_int("cnn", "embed_dim", self.embed_dim)
        self.dropout = check_dropout("cnn", self.dropout)
        self.num_filters = as_int("cnn", "num_filters", self.num_filters)
        self.kernel_sizes = parse_kernel_sizes(self.kernel_sizes)


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
