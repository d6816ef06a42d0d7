"""A tiny randomly initialised BERT-style model folder (2 layers, hidden 16) for fast tests."""

from __future__ import annotations

from pathlib import Path

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [
    *SPECIAL,
    "the",
    "a",
    "an",
    "and",
    "or",
    "but",
    "good",
    "bad",
    "great",
    "awful",
    "fine",
    "movie",
    "film",
    "plot",
    "actor",
    "is",
    "was",
    "not",
    "very",
    "so",
    "it",
    "this",
    "that",
    "love",
    "hate",
    "boring",
    "fun",
    "##s",
    "##ly",
    "##ed",
    "##ing",
]


def write_tiny_encoder(folder: Path, max_positions: int = 40, layers: int = 2) -> Path:
    """Write config.json, model.safetensors and the WordPiece tokenizer files to ``folder``."""
    import torch

    from hpotext.models.encoder import transformers

    tf = transformers()
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    config = tf.BertConfig(
        vocab_size=len(WORDS),
        hidden_size=16,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=max_positions,
    )
    tf.BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    (folder / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    tok = tf.BertTokenizerFast(vocab={w: i for i, w in enumerate(WORDS)}, do_lower_case=True)
    tok.save_pretrained(folder)
    return folder
