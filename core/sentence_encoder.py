"""all-MiniLM-L6-v2 run in plain torch: the BERT encoder, its Rust tokenizer, mean pooling.

Why not sentence-transformers: importing it (through `transformers`' model classes) took 3 s of
the 5 s a process may spend loading the model, while building the model from its files takes
0.15 s. This module reads the same files (config.json, model.safetensors, tokenizer.json) and
computes the same vectors (tests/test_sentence_encoder.py compares them with sentence-transformers'),
so catalogues embedded before stay valid.

Variants: "fp32" is the model as published. "bf16" runs the six layers in bfloat16 (the weights
converted when the package's file is read, nothing stored or downloaded): on a CPU with AMX or
AVX512-BF16 every product runs in hardware and the model encodes about twice as fast (1.93-1.96x
on 2,000 course texts), with vectors within a cosine of 0.9999 of fp32's. The embeddings and their
normalisation stay in fp32 (a word-piece table lookup costs nothing) and the token vectors come out
as fp32, so pooling and the skill extractor read what they always read. int8 forms (torch's
dynamic quantisation, ONNX Runtime's) were measured and not kept: 1.3-1.5x fp32's rate, cosine
0.983-0.989 (docs/benchmarks-speed.md).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from safetensors.torch import load_file
from tokenizers import Tokenizer


@dataclass(frozen=True)
class Tokens:
    """A tokenized batch, padded to its longest text."""

    ids: torch.Tensor  # texts × tokens, int64
    mask: torch.Tensor  # 1 for a text's tokens, [CLS] and [SEP] included; 0 for padding
    offsets: np.ndarray  # texts × tokens × 2: each token's character range in its text, (0, 0) if none
    word_ids: list[list[int | None]]  # per text, each token's word (None for special tokens and padding)


VARIANT_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


class SentenceEncoder:
    def __init__(self, path: Path, variant: str = "fp32") -> None:
        config = json.loads((path / "config.json").read_text())
        self.max_seq_length = json.loads((path / "sentence_bert_config.json").read_text())["max_seq_length"]
        self.dimensions = config["hidden_size"]
        self._heads = config["num_attention_heads"]
        self._layers = config["num_hidden_layers"]
        self._eps = config["layer_norm_eps"]
        if config.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"only the exact (erf) GELU is written here, not {config['hidden_act']!r}")
        weights = load_file(path / "model.safetensors")
        # Checkpoints saved from a BertFor... head model prefix the encoder's names with "bert.".
        self._w = {name.removeprefix("bert."): tensor for name, tensor in weights.items()}
        for i in range(self._layers):
            # Query, key and value as one product: one matrix multiplication per layer instead of three.
            prefix = f"encoder.layer.{i}.attention.self."
            for part in ("weight", "bias"):
                self._w[f"{prefix}qkv.{part}"] = torch.cat(
                    [self._w.pop(f"{prefix}{n}.{part}") for n in ("query", "key", "value")]
                )
        self.variant = variant
        self._dtype = VARIANT_DTYPES[variant]
        for name in self._w:
            if name.startswith("encoder."):
                self._w[name] = self._w[name].to(self._dtype)
        self._tokenizer_spec = (path / "tokenizer.json").read_text()
        self._pad_id = config.get("pad_token_id", 0)
        # One configured tokenizer per cut length, so threads cutting at different lengths never
        # change each other's settings.
        self._tokenizers: dict[int, Tokenizer] = {}
        self._tokenizers_lock = threading.Lock()

    def _tokenizer(self, max_length: int) -> Tokenizer:
        with self._tokenizers_lock:
            if max_length not in self._tokenizers:
                # tokenizer.json itself pads every text to 128: batches are padded to their longest instead.
                tokenizer = Tokenizer.from_str(self._tokenizer_spec)
                tokenizer.enable_truncation(max_length)
                tokenizer.enable_padding(pad_id=self._pad_id, pad_token=tokenizer.id_to_token(self._pad_id))
                self._tokenizers[max_length] = tokenizer
            return self._tokenizers[max_length]

    def tokenize(self, texts: list[str], max_length: int | None = None) -> Tokens:
        """Word pieces of each text, cut at `max_length` tokens ([CLS] and [SEP] included; default the model's)."""
        encodings = self._tokenizer(max_length or self.max_seq_length).encode_batch(texts)
        return Tokens(
            ids=torch.tensor([e.ids for e in encodings], dtype=torch.int64),
            mask=torch.tensor([e.attention_mask for e in encodings], dtype=torch.int64),
            offsets=np.array([e.offsets for e in encodings], dtype=np.int64).reshape(len(texts), -1, 2),
            word_ids=[e.word_ids for e in encodings],
        )

    def hidden_states(self, tokens: Tokens) -> torch.Tensor:
        """The last layer's token vectors, fp32 in every variant: texts × tokens × dimensions (padding
        positions hold noise)."""
        w, size = self._w, self.dimensions
        batch, length = tokens.ids.shape
        # Every token is of type 0: a single text, never a pair.
        x = (
            w["embeddings.word_embeddings.weight"][tokens.ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm").to(self._dtype)
        attend = tokens.mask.bool()[:, None, None, :]  # no token attends to padding
        for i in range(self._layers):
            prefix = f"encoder.layer.{i}."
            qkv = self._linear(x, prefix + "attention.self.qkv")
            q, k, v = qkv.view(batch, length, 3, self._heads, size // self._heads).permute(2, 0, 3, 1, 4)
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=attend)
            context = context.transpose(1, 2).reshape(batch, length, size)
            x = self._norm(
                self._linear(context, prefix + "attention.output.dense") + x, prefix + "attention.output.LayerNorm"
            )
            inner = F.gelu(self._linear(x, prefix + "intermediate.dense"))
            x = self._norm(self._linear(inner, prefix + "output.dense") + x, prefix + "output.LayerNorm")
        return x.float()

    @staticmethod
    def pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Sentence vectors: the mean of each text's token vectors, L2-normalised (the model's own pooling)."""
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        return F.normalize(mean, p=2, dim=1)

    def embed(self, texts: list[str], max_length: int | None = None) -> torch.Tensor:
        """One batch of normalised sentence vectors; call under `torch.inference_mode()`."""
        tokens = self.tokenize(texts, max_length)
        return self.pool(self.hidden_states(tokens), tokens.mask)

    def _linear(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.linear(x, self._w[name + ".weight"], self._w[name + ".bias"])

    def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.layer_norm(x, (self.dimensions,), self._w[name + ".weight"], self._w[name + ".bias"], self._eps)
