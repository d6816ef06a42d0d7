"""A pretrained BERT-style encoder (loaded with transformers, no network) plus a linear head.

The encoder brings its own preprocessing: texts become its WordPiece ids (:func:`tokenize`),
without [CLS]/[SEP], which the model adds, so a batch is (tokens (B, L) padded with 0, lengths
(B,)) like every family's and token dropping never drops a special token. The bottom layers are
frozen and only the top ``train_layers`` layers and the head train; with cached features
(:class:`hpotext.models.features.FeatureTable`, attached by the trainer) the frozen bottom is not
run at all. Checkpoints hold only what trains; the frozen rest comes from ``pretrained``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from types import ModuleType
from typing import Any

import torch
from torch import nn

from hpotext.errors import ConfigError
from hpotext.models._common import length_mask
from hpotext.models.configs import ENCODER_POOLINGS, EncoderConfig
from hpotext.models.features import FeatureTable
from hpotext.train.batches import pad_batch

__all__ = [
    "ENCODER_POOLINGS",
    "EncoderClassifier",
    "EncoderConfig",
    "compute_features",
    "load_tokenizer",
    "tokenize",
]

NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight")


def transformers() -> ModuleType:
    """transformers, quiet and without torchvision: NePS needs torchvision installed, its CPU
    wheel fails to import, and transformers imports it whenever pillow is present."""
    sys.modules.setdefault("torchvision", None)  # type: ignore[arg-type]
    import transformers as tf

    tf.logging.set_verbosity_error()
    tf.utils.logging.disable_progress_bar()
    return tf


def _unreadable(pretrained: str, what: str, err: Exception) -> ConfigError:
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return ConfigError(
        f"encoder {pretrained} has no readable {what} ({first[:200]}); set encoder.name to a "
        "shipped encoder or to a Hugging Face model folder with config.json, weights and tokenizer"
    )


def load_tokenizer(pretrained: str) -> Any:
    """The encoder's own tokenizer (from its folder)."""
    try:
        return transformers().AutoTokenizer.from_pretrained(pretrained)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise _unreadable(pretrained, "tokenizer", err) from None


def load_encoder(pretrained: str) -> Any:
    """The encoder's weights as a BERT-style module (a transformers PreTrainedModel, typed Any:
    its attributes are the checkpoint's): embeddings, encoder.layer, config."""
    try:
        model = transformers().AutoModel.from_pretrained(pretrained)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise _unreadable(pretrained, "weights", err) from None
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if not hasattr(model, "embeddings") or not isinstance(layers, nn.ModuleList):
        raise ConfigError(
            f"encoder {pretrained} is a {type(model).__name__}, not a BERT-style encoder "
            "(embeddings + encoder.layer); choose a BERT, RoBERTa, MiniLM or ELECTRA checkpoint"
        )
    if getattr(model, "pooler", None) is not None:
        model.pooler = None  # BERT's next-sentence pooler: unused (the head pools itself)
    found: nn.Module = model
    return found


def tokenize(tokenizer: Any, texts: Iterable[str], max_len: int) -> list[list[int]]:
    """Every text's token ids, without special tokens, at most ``max_len``, at least one."""
    ids = tokenizer(list(texts), add_special_tokens=False, truncation=True, max_length=max_len)[
        "input_ids"
    ]
    unk = tokenizer.unk_token_id if tokenizer.unk_token_id is not None else 0
    return [row or [unk] for row in ids]


class EncoderClassifier(nn.Module):
    """The pretrained encoder, mean or [CLS] pooling, dropout, a linear layer."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = load_encoder(cfg.pretrained)
        tok = load_tokenizer(cfg.pretrained)
        config = self.encoder.config
        if len(tok) > config.vocab_size:
            raise ConfigError(
                f"encoder {cfg.pretrained}: its tokenizer has {len(tok)} tokens but its "
                f"embeddings only {config.vocab_size}; the tokenizer does not belong to these "
                "weights, so put the model's own tokenizer files in the folder"
            )
        if cfg.max_len + 2 > config.max_position_embeddings:
            raise ConfigError(
                f"model 'encoder' hyperparameter 'max_len' is {cfg.max_len}, but encoder "
                f"{cfg.pretrained} has {config.max_position_embeddings} positions, two of them "
                f"for [CLS] and [SEP]; set max_len to at most {config.max_position_embeddings - 2}"
            )
        self.cls_id = int(tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id)
        self.sep_id = int(tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id)
        self.pad_id = int(tok.pad_token_id if tok.pad_token_id is not None else 0)
        self.layers: nn.ModuleList = self.encoder.encoder.layer
        depth = len(self.layers)
        self.full = cfg.train_layers >= depth  # every layer and the embeddings train
        self.frozen = 0 if self.full else depth - cfg.train_layers  # bottom layers not trained
        for p in self.encoder.parameters():
            p.requires_grad = self.full
        for layer in self.layers[self.frozen :]:
            for p in layer.parameters():
                p.requires_grad = True
        self.dropout = nn.Dropout(cfg.dropout)
        self.classifier = nn.Linear(config.hidden_size, cfg.num_classes)
        self.features: FeatureTable | None = None
        self._bidirectional_mask = transformers().masking_utils.create_bidirectional_mask

    # --- what trains ---------------------------------------------------------------------------
    def frozen_modules(self) -> list[nn.Module]:
        """Modules that never train (kept in eval mode: no dropout, the cache's states)."""
        return [] if self.full else [self.encoder.embeddings, *self.layers[: self.frozen]]

    def train(self, mode: bool = True) -> EncoderClassifier:
        super().train(mode)
        for module in self.frozen_modules():
            module.eval()
        return self

    def _trained_keys(self) -> list[str]:
        if self.full:
            return list(super().state_dict())
        top = tuple(f"encoder.encoder.layer.{i}." for i in range(self.frozen, len(self.layers)))
        return [k for k in super().state_dict() if k.startswith((*top, "classifier."))]

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        """Only the trained tensors: the frozen ones are the pretrained folder's."""
        full = super().state_dict(*args, **kwargs)
        prefix = kwargs.get("prefix", "")
        keep = {prefix + k for k in self._trained_keys()}
        return {k: v for k, v in full.items() if k in keep}

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> Any:
        """Load a state from :meth:`state_dict` (the frozen tensors stay the pretrained ones)."""
        missing = sorted(set(self._trained_keys()) - set(state_dict))
        if strict and missing:
            raise ConfigError(
                f"checkpoint for encoder {self.cfg.pretrained} lacks {len(missing)} trained "
                f"tensor(s) (e.g. {missing[0]}); it was saved with other train_layers"
            )
        return super().load_state_dict({**super().state_dict(), **state_dict}, strict, assign)

    def parameter_groups(self, lr: float, weight_decay: float) -> list[dict[str, Any]]:
        """Optimizer groups: the head at ``lr``, each layer below the top at ``layer_decay``
        times the one above, the embeddings below the bottom layer; no weight decay on biases
        and LayerNorm weights. Frozen parameters are left out."""
        decay = self.cfg.layer_decay
        blocks: list[tuple[float, Iterator[tuple[str, nn.Parameter]]]] = [
            (lr, self.classifier.named_parameters())
        ]
        depth = len(self.layers)
        for i in range(depth - 1, -1, -1):
            blocks.append((lr * decay ** (depth - 1 - i), self.layers[i].named_parameters()))
        blocks.append((lr * decay**depth, self.encoder.embeddings.named_parameters()))
        groups = []
        for rate, named in blocks:
            params = [(n, p) for n, p in named if p.requires_grad]
            for wd, chosen in (
                (weight_decay, [p for n, p in params if not n.endswith(NO_DECAY)]),
                (0.0, [p for n, p in params if n.endswith(NO_DECAY)]),
            ):
                if chosen:
                    groups.append({"params": chosen, "lr": rate, "weight_decay": wd})
        return groups

    def attach_features(self, table: FeatureTable | None) -> None:
        """Read the frozen bottom's output from ``table`` (None: run the encoder on token ids)."""
        if table is not None and self.full:
            raise ConfigError("cached features are for a frozen bottom; this model trains it all")
        device = self.classifier.weight.device
        self.features = table.to(device) if table is not None else None

    # --- forward -------------------------------------------------------------------------------
    def _with_specials(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        batch, width = tokens.shape
        ids = tokens.new_full((batch, width + 2), self.pad_id)  # (B, W+2)
        ids[:, 0] = self.cls_id
        real = length_mask(lengths, width)  # (B, W)
        ids[:, 1 : width + 1] = torch.where(real, tokens, ids[:, 1 : width + 1])
        ids[torch.arange(batch, device=tokens.device), lengths + 1] = self.sep_id
        return ids

    def _mask(self, h: torch.Tensor, valid: torch.Tensor) -> Any:
        """The attention mask the encoder's layers take for real positions ``valid`` (B, W+2)."""
        return self._bidirectional_mask(
            config=self.encoder.config, inputs_embeds=h, attention_mask=valid.long()
        )

    def embed(self, tokens: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """The embeddings (B, W + 2, H) of [CLS], tokens, [SEP] and their attention mask."""
        ids = self._with_specials(tokens, lengths)
        h = self.encoder.embeddings(input_ids=ids)  # (B, W+2, H)
        return h, self._mask(h, length_mask(lengths + 2, ids.shape[1]))

    @staticmethod
    def run(h: torch.Tensor, mask: Any, layers: Iterable[nn.Module]) -> torch.Tensor:
        """Hidden states ``h`` through ``layers``."""
        for layer in layers:
            out = layer(h, mask)
            h = out[0] if isinstance(out, tuple) else out
        return h

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Map tokens (B, L) (or feature rows) and lengths (B,) to logits (B, num_classes)."""
        width = tokens.shape[1]
        if width > self.cfg.max_len:
            raise ConfigError(
                f"model 'encoder' got a batch {width} tokens wide but its max_len is "
                f"{self.cfg.max_len}; encode the texts with max_len {self.cfg.max_len}"
            )
        valid = length_mask(lengths + 2, width + 2)  # (B, W+2): [CLS], tokens, [SEP]
        if self.features is not None:
            h = self.features.gather(tokens, lengths)  # (B, W+2, H)
            mask = self._mask(h, valid)
        else:
            with torch.set_grad_enabled(self.full and torch.is_grad_enabled()):
                h, mask = self.embed(tokens, lengths)
                h = self.run(h, mask, self.layers[: self.frozen])
        h = self.run(h, mask, self.layers[self.frozen :])  # (B, W+2, H)
        if self.cfg.pooling == "cls":
            pooled = h[:, 0]  # (B, H)
        else:
            h = h.masked_fill(~valid.unsqueeze(-1), 0.0)
            pooled = h.sum(dim=1) / valid.sum(dim=1, keepdim=True).to(h.dtype)  # (B, H)
        return self.classifier(self.dropout(pooled))  # (B, C)


@torch.no_grad()
def compute_features(
    pretrained: str,
    ids: list[list[int]],
    train_layers: Iterable[int],
    batch_size: int = 64,
    dtype: torch.dtype = torch.float16,
    device: torch.device | None = None,
) -> dict[int, FeatureTable]:
    """For each ``train_layers`` value k below the encoder's depth, the states below its top k
    layers for every text of ``ids`` (from :func:`tokenize`), in one pass of the encoder."""
    width = max(len(row) for row in ids)
    model = EncoderClassifier(
        EncoderConfig(
            vocab_size=2, num_classes=2, pretrained=pretrained, max_len=width, train_layers=0
        )
    )
    device = device or torch.device("cpu")
    model = model.to(device).eval()
    depth = len(model.layers)
    wanted = sorted({depth - k for k in train_layers if 0 <= k < depth})
    per_text: dict[int, list[torch.Tensor | None]] = {d: [None] * len(ids) for d in wanted}
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # little padding
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch = pad_batch([ids[i] for i in chunk], [0] * len(chunk)).to(device)
        h, mask = model.embed(batch.tokens, batch.lengths)
        for d in range(1, max(wanted, default=0) + 1):
            h = model.run(h, mask, [model.layers[d - 1]])
            if d in per_text:
                for row, i in enumerate(chunk):
                    per_text[d][i] = h[row, : len(ids[i]) + 2].to("cpu", dtype)
    return {
        depth - d: FeatureTable.from_texts([t for t in texts if t is not None])
        for d, texts in per_text.items()
    }
