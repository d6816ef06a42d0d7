"""Helpers shared by the model files: length masks (the hyperparameter checks live in
hpotext.models.configs, which stays free of torch)."""

from __future__ import annotations

import torch


def length_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """Boolean mask (B, width) that is True at real-token positions (left-aligned)."""
    positions = torch.arange(width, device=lengths.device)  # (width,)
    return positions.unsqueeze(0) < lengths.to(positions.device).unsqueeze(1)  # (B, width)


# --- bag of embeddings ----------------------------------------------------------------------
