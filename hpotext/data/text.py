"""Text processing: tokenizer, vocabulary and encoding (torch-free; batches are hpotext.train)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

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
