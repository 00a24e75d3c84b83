"""Reference BERT sentence encoder in float64 numpy.

This is the yardstick for the ONNX export: it reads the same ``model.safetensors``
and ``config.json`` but shares no code with ``export_model.py``. Everything is
plain numpy in float64: embeddings (word + token type + position ids
``0..S-1``), LayerNorm, multi-head self-attention with padded keys masked out
via ``np.where(..., -inf)``, exact GELU using ``math.erf`` element-wise, and the
feed-forward block.

Tokenization uses the checkpoint's ``tokenizer.json`` through the
``tokenizers`` library, with truncation overridden to ``max_tokens``
(``sentence_bert_config.json`` ``max_seq_length`` unless given) and padding to
the longest text of the batch. Pooling follows ``1_Pooling/config.json`` (mean
over the attention mask, or the [CLS] row), and pooled vectors are always
L2-normalised.

Usage::

    import numpy_bert
    model = numpy_bert.load(src_dir)
    embeddings, token_states, token_ids, truncated = model.encode(["some text"])
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

_erf = np.frompyfunc(math.erf, 1, 1)


class Encoded(NamedTuple):
    """Result of :meth:`NumpyBert.encode`, one entry per input text."""

    embeddings: np.ndarray  # [n, hidden] float64, pooled and L2-normalised
    token_states: list[np.ndarray]  # [len_i, hidden] float64 last_hidden_state rows under the mask
    token_ids: list[list[int]]  # unpadded ids, special tokens included
    truncated: list[bool]  # whether the text had to be cut to max_tokens


def gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def l2_normalise(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def read_pooling(src: Path) -> str:
    pooling = json.loads((src / "1_Pooling" / "config.json").read_text())
    if pooling.get("pooling_mode_cls_token"):
        return "cls"
    if pooling.get("pooling_mode_mean_tokens"):
        return "mean"
    raise ValueError(f"unsupported pooling config: {pooling}")


def load_tensors(path: Path) -> dict[str, np.ndarray]:
    """All tensors as float64, keys stripped of a leading ``bert.``."""
    return {key.removeprefix("bert."): value.astype(np.float64) for key, value in load_file(str(path)).items()}


class NumpyBert:
    def __init__(self, config: dict, tensors: dict[str, np.ndarray], tokenizer: Tokenizer, pooling: str,
                 max_tokens: int):
        self.config = config
        self.tensors = tensors
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.max_tokens = max_tokens

    @property
    def hidden(self) -> int:
        return self.config["hidden_size"]

    def linear(self, x: np.ndarray, key: str) -> np.ndarray:
        return x @ self.tensors[f"{key}.weight"].T + self.tensors[f"{key}.bias"]

    def norm(self, x: np.ndarray, key: str) -> np.ndarray:
        return layer_norm(x, self.tensors[f"{key}.weight"], self.tensors[f"{key}.bias"], self.config["layer_norm_eps"])

    def embed(self, ids: np.ndarray, type_ids: np.ndarray) -> np.ndarray:
        t = self.tensors
        positions = np.arange(ids.shape[1])
        x = (t["embeddings.word_embeddings.weight"][ids]
             + t["embeddings.token_type_embeddings.weight"][type_ids]
             + t["embeddings.position_embeddings.weight"][positions][None, :, :])
        return self.norm(x, "embeddings.LayerNorm")

    def attention(self, x: np.ndarray, mask: np.ndarray, key: str) -> np.ndarray:
        batch, seq, hidden = x.shape
        heads = self.config["num_attention_heads"]
        head_dim = hidden // heads

        def heads_first(y: np.ndarray) -> np.ndarray:
            return y.reshape(batch, seq, heads, head_dim).transpose(0, 2, 1, 3)

        q = heads_first(self.linear(x, f"{key}.query"))
        k = heads_first(self.linear(x, f"{key}.key"))
        v = heads_first(self.linear(x, f"{key}.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head_dim)
        scores = np.where(mask[:, None, None, :], scores, -np.inf)
        context = softmax(scores) @ v
        return context.transpose(0, 2, 1, 3).reshape(batch, seq, hidden)

    def layer(self, x: np.ndarray, mask: np.ndarray, index: int) -> np.ndarray:
        key = f"encoder.layer.{index}"
        attended = self.linear(self.attention(x, mask, f"{key}.attention.self"), f"{key}.attention.output.dense")
        x = self.norm(attended + x, f"{key}.attention.output.LayerNorm")
        hidden = gelu(self.linear(x, f"{key}.intermediate.dense"))
        return self.norm(self.linear(hidden, f"{key}.output.dense") + x, f"{key}.output.LayerNorm")

    def forward(self, ids: np.ndarray, mask: np.ndarray, type_ids: np.ndarray) -> np.ndarray:
        """last_hidden_state [B, S, hidden] float64 for padded ``ids``; ``mask`` is 1 for real tokens."""
        mask = mask.astype(bool)
        x = self.embed(ids, type_ids)
        for index in range(self.config["num_hidden_layers"]):
            x = self.layer(x, mask, index)
        return x

    def pool(self, states: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.pooling == "cls":
            return states[:, 0, :]
        weights = mask[:, :, None].astype(np.float64)
        return (states * weights).sum(axis=1) / weights.sum(axis=1)

    def encode(self, texts: list[str]) -> Encoded:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        type_ids = np.array([e.type_ids for e in encodings], dtype=np.int64)
        states = self.forward(ids, mask, type_ids)
        lengths = mask.sum(axis=1)
        return Encoded(
            embeddings=l2_normalise(self.pool(states, mask)),
            token_states=[states[i, :n] for i, n in enumerate(lengths)],
            token_ids=[e.ids[:n] for e, n in zip(encodings, lengths)],
            truncated=[bool(e.overflowing) for e in encodings],
        )


def load_tokenizer(path: Path, max_tokens: int) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(path))
    padding = tokenizer.padding or {}
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.enable_padding(pad_id=padding.get("pad_id", 0), pad_token=padding.get("pad_token", "[PAD]"))
    return tokenizer


def load(src: str | Path, max_tokens: int | None = None) -> NumpyBert:
    """Load a sentence-transformers BERT directory; ``max_tokens`` defaults to its max_seq_length."""
    src = Path(src)
    config = json.loads((src / "config.json").read_text())
    if max_tokens is None:
        max_tokens = json.loads((src / "sentence_bert_config.json").read_text())["max_seq_length"]
    return NumpyBert(
        config=config,
        tensors=load_tensors(src / "model.safetensors"),
        tokenizer=load_tokenizer(src / "tokenizer.json", max_tokens),
        pooling=read_pooling(src),
        max_tokens=max_tokens,
    )
