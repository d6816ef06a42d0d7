"""Cached activations of a frozen encoder bottom (:class:`FeatureTable`), as training reads them.

A trial that trains only the top ``k`` layers of a pretrained encoder sees the same hidden states
below them in every epoch, so the features rule computes them once per split and the model looks
them up instead of running the frozen layers. The table keeps every text's states as rows::

    row 0              zeros (padding)
    s                  the text's [CLS] state
    s+1 .. s+L         its L content tokens' states
    s+L+1              its [SEP] state

and a text is given to training as its content rows ``[s+1, .., s+L]``: token ids like any other
family's, so length buckets and token dropping work unchanged (a dropped token drops its row).
``first`` and ``sep`` map every row to its text's [CLS] and [SEP] rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from hpotext.errors import StaleFileError
from hpotext.io import atomic_path


@dataclass(frozen=True)
class FeatureTable:
    states: torch.Tensor  # (R, H), float16 or float32
    first: torch.Tensor  # (R,) long: the [CLS] row of the row's text
    sep: torch.Tensor  # (R,) long: the [SEP] row of the row's text

    @classmethod
    def from_texts(cls, per_text: list[torch.Tensor]) -> FeatureTable:
        """The table of texts' states, each (L_i + 2, H) with [CLS] first and [SEP] last."""
        width = per_text[0].shape[1]
        states = torch.cat([torch.zeros(1, width, dtype=per_text[0].dtype), *per_text])
        first = torch.zeros(len(states), dtype=torch.long)
        sep = torch.zeros(len(states), dtype=torch.long)
        start = 1
        for text in per_text:
            end = start + len(text)  # one past the [SEP] row
            first[start:end], sep[start:end] = start, end - 1
            start = end
        return cls(states, first, sep)

    def starts(self) -> list[int]:
        """Every text's [CLS] row, in order."""
        found = torch.nonzero(self.first == torch.arange(len(self.first))).flatten().tolist()
        return [s for s in found if s > 0]

    def __len__(self) -> int:
        """The number of texts."""
        return len(self.starts())

    def row_ids(self) -> list[list[int]]:
        """Every text's content rows, in order: what training takes as its token ids."""
        return [list(range(s + 1, int(self.sep[s]))) for s in self.starts()]

    def concat(self, other: FeatureTable) -> FeatureTable:
        """This table's texts, then ``other``'s (its rows shifted past this table's)."""
        shift = len(self.states) - 1
        return FeatureTable(
            torch.cat([self.states, other.states[1:]]),
            torch.cat([self.first, other.first[1:] + shift]),
            torch.cat([self.sep, other.sep[1:] + shift]),
        )

    def select(self, texts: list[int]) -> FeatureTable:
        """A table of only the texts at positions ``texts`` (in that order)."""
        starts = self.starts()
        return FeatureTable.from_texts(
            [self.states[starts[i] : int(self.sep[starts[i]]) + 1] for i in texts]
        )

    def to(self, device: torch.device) -> FeatureTable:
        return FeatureTable(self.states.to(device), self.first.to(device), self.sep.to(device))

    def gather(self, rows: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Hidden states (B, W + 2, H) for a batch of content rows (B, W) padded with 0, in
        float32: [CLS], the rows' states, [SEP] right after each text's last row, zeros after."""
        batch, width = rows.shape
        owner = rows[:, 0]  # (B,) a row of each text; lengths >= 1
        x = self.states.new_zeros(batch, width + 2, self.states.shape[1])  # (B, W+2, H)
        x[:, 0] = self.states[self.first[owner]]
        x[:, 1 : width + 1] = self.states[rows]  # padding rows are row 0: zeros
        x[torch.arange(batch, device=rows.device), lengths + 1] = self.states[self.sep[owner]]
        return x.float()

    def save(self, path: str | Path, meta: dict[str, object]) -> None:
        """Write the table and what it was computed from (atomically)."""
        payload = {"states": self.states, "first": self.first, "sep": self.sep, "meta": meta}
        with atomic_path(path) as tmp:
            torch.save(payload, tmp)

    @classmethod
    def load(cls, path: str | Path, expected: Mapping[str, object] | None = None) -> FeatureTable:
        """Read a table written by :meth:`save`; StaleFileError when it was computed from
        other settings than ``expected`` (a subset of its meta: max_len, train_layers, ...)."""
        payload = torch.load(path, map_location="cpu", weights_only=True)
        found = {key: payload["meta"].get(key) for key in expected or {}}
        if found != (expected or {}):
            raise StaleFileError(
                f"cached features {path} were computed for {found}, not {expected}; "
                "delete the file so the features rule computes it again"
            )
        return cls(payload["states"], payload["first"], payload["sep"])
