#!/usr/bin/env python3
"""Export a BERT-family sentence encoder to ONNX without torch.

The encoder graph is written node by node with ``onnx.helper`` from the
checkpoint's ``model.safetensors`` and ``config.json``; nothing is traced. The
layer count, head count, hidden and intermediate sizes, position table size,
layer-norm epsilon and token-type vocabulary all come from ``config.json``, and
safetensors keys may carry a ``bert.`` prefix, so BERT-family checkpoints such
as all-MiniLM-L6-v2, bge-small and e5-small export the same way.

Graph (opset 17, IR version 8):

* Inputs ``input_ids``, ``attention_mask`` and ``token_type_ids``, all int64
  ``[batch, sequence]``. Output ``last_hidden_state``, float32
  ``[batch, sequence, hidden]``. Pooling and normalisation are left to the
  caller and described in ``trawl-model.json``.
* Embeddings: ``Gather`` on the word, token-type and position tables, then
  ``LayerNormalization``.
* Packed rows: ``attention_mask`` may hold **segment numbers** instead of
  0/1. Tokens marked ``k > 0`` form text ``k`` of their row; 0 is padding. A
  token attends only to the tokens of its own segment, and its position id
  counts the earlier tokens of that segment, so several short texts packed
  into one row come out exactly as if each ran alone (the manifest says
  ``"segment_mask": true``). An ordinary 0/1 mask is the one-segment case and
  gives the usual BERT result. The attention bias is ``0`` where query and key
  carry the same positive number and ``lowest_float32`` elsewhere, shaped
  ``[B, 1, S, S]`` and added to the attention scores.
* Each layer: self-attention (``MatMul`` against weights transposed once at
  export time, so no ``Transpose`` of weights at run time), residual +
  ``LayerNormalization``, feed-forward with exact GELU
  ``0.5 * x * (1 + erf(x / sqrt 2))``, residual + ``LayerNormalization``.

Position ids, and a trap: the usual export builds position ids with
``Range(0, seq_len)``, a pattern that ONNX Runtime 1.31's graph optimiser is
known to break. This exporter has no ``Range`` node: a token's position id is
``ReduceSum(same_segment * strictly_earlier)`` over its row, where
``strictly_earlier`` is a constant lower-triangular matrix sliced to the
sequence length, clamped to the table's last row (only padding can count
that far), then ``Gather`` from the position table.

Outputs in ``--out``: ``model.onnx`` (fp32), ``model_int8.onnx`` (dynamic int8,
per-channel: per-tensor scales lose too much accuracy; unsigned weights: with
signed weights ONNX Runtime's u8·s8 kernel on x86 CPUs without VNNI (AVX2 only)
saturates its 16-bit pair sums, and the mean cosine to fp32 fell to 0.988 on
such a machine, against 0.991 with u8·u8), ``tokenizer.json``
and the manifest ``trawl-model.json``. The tokenizer is copied unchanged, so
its own truncation and padding settings come along (all-MiniLM-L6-v2's say 128
tokens, fixed padding); consumers must truncate to the manifest's
``max_tokens`` instead. Every file is written under a temporary name and renamed
into place, the manifest last, so an interrupted run never leaves a half-written
file under a final name.

Usage::

    export_model.py --src <hf model dir> --out <model dir> [--max-tokens N] [--name NAME]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic
from safetensors.numpy import load_file

OPSET = 17
IR_VERSION = 8
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "trawl-model.json"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"
MASK_FILL = float(np.finfo(np.float32).min)


@dataclass(frozen=True)
class BertConfig:
    """The ``config.json`` fields that shape the encoder graph."""

    num_layers: int
    num_heads: int
    hidden: int
    intermediate: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float

    @property
    def head_dim(self) -> int:
        return self.hidden // self.num_heads

    @classmethod
    def from_file(cls, path: Path) -> "BertConfig":
        raw = json.loads(path.read_text())
        activation = raw.get("hidden_act", "gelu")
        if activation != "gelu":
            raise ValueError(f"hidden_act {activation!r} is not supported; only exact 'gelu' is")
        position_type = raw.get("position_embedding_type", "absolute")
        if position_type != "absolute":
            raise ValueError(f"position_embedding_type {position_type!r} is not supported")
        config = cls(
            num_layers=raw["num_hidden_layers"],
            num_heads=raw["num_attention_heads"],
            hidden=raw["hidden_size"],
            intermediate=raw["intermediate_size"],
            max_positions=raw["max_position_embeddings"],
            type_vocab_size=raw["type_vocab_size"],
            layer_norm_eps=raw["layer_norm_eps"],
        )
        if config.hidden % config.num_heads:
            raise ValueError(f"hidden_size {config.hidden} is not divisible by {config.num_heads} heads")
        return config


class Weights:
    """Checkpoint tensors as float32, looked up without the optional ``bert.`` prefix."""

    def __init__(self, path: Path):
        tensors = load_file(str(path))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in tensors else ""
        self._tensors = tensors
        self._prefix = prefix

    def __getitem__(self, key: str) -> np.ndarray:
        full_key = self._prefix + key
        if full_key not in self._tensors:
            raise KeyError(f"checkpoint has no tensor {full_key!r}")
        return self._tensors[full_key].astype(np.float32)


class GraphBuilder:
    """Collects nodes and initializers; every node has one output named after the node."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], name: str, **attributes) -> str:
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, **attributes))
        return name

    def linear(self, x: str, weights: Weights, key: str, name: str) -> str:
        """``x @ W.T + b`` for a torch Linear stored as ``key.weight`` [out, in] and ``key.bias``."""
        weight_t = self.constant(f"{key}.weight.T", weights[f"{key}.weight"].T)
        bias = self.constant(f"{key}.bias", weights[f"{key}.bias"])
        return self.op("Add", [self.op("MatMul", [x, weight_t], f"{name}/matmul"), bias], name)

    def layer_norm(self, x: str, weights: Weights, key: str, eps: float, name: str) -> str:
        gamma = self.constant(f"{key}.weight", weights[f"{key}.weight"])
        beta = self.constant(f"{key}.bias", weights[f"{key}.bias"])
        return self.op("LayerNormalization", [x, gamma, beta], name, axis=-1, epsilon=eps)


def add_shared_constants(g: GraphBuilder, config: BertConfig) -> None:
    g.constant("const/zero_2d", np.array([0, 0], dtype=np.int64))
    g.constant("const/axes_01", np.array([0, 1], dtype=np.int64))
    g.constant("const/axis1", np.array([1], dtype=np.int64))
    g.constant("const/axis2", np.array([2], dtype=np.int64))
    g.constant("const/zero_i64", np.array(0, dtype=np.int64))
    g.constant("const/zero_f32", np.array(0.0, dtype=np.float32))
    g.constant("const/one", np.array(1.0, dtype=np.float32))
    g.constant("const/half", np.array(0.5, dtype=np.float32))
    g.constant("const/sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))
    g.constant("const/mask_fill", np.array(MASK_FILL, dtype=np.float32))
    g.constant("const/attn_scale", np.array(1.0 / math.sqrt(config.head_dim), dtype=np.float32))
    g.constant("const/split_heads", np.array([0, 0, config.num_heads, config.head_dim], dtype=np.int64))
    g.constant("const/merge_heads", np.array([0, 0, config.hidden], dtype=np.int64))


def add_segments(g: GraphBuilder) -> tuple[str, str]:
    """Which tokens of a row belong together, from the segment numbers in ``attention_mask``.

    Returns ``same`` (bool ``[B, S, S]``: query and key tokens carry the same
    number) and ``key_real`` (bool ``[B, 1, S]``: the key is not padding).
    """
    query = g.op("Unsqueeze", ["attention_mask", "const/axis2"], "segments/query")
    key = g.op("Unsqueeze", ["attention_mask", "const/axis1"], "segments/key")
    same = g.op("Equal", [query, key], "segments/same")
    key_real = g.op("Greater", [key, "const/zero_i64"], "segments/key_real")
    return same, key_real


def add_embeddings(g: GraphBuilder, weights: Weights, config: BertConfig, same: str) -> str:
    """Word + token-type + position embeddings, then LayerNorm. See the module docstring for positions."""
    words = g.op("Gather", [g.constant("word_embeddings", weights["embeddings.word_embeddings.weight"]), "input_ids"],
                 "embeddings/words")
    types = g.op("Gather", [g.constant("token_type_embeddings", weights["embeddings.token_type_embeddings.weight"]),
                            "token_type_ids"], "embeddings/types")
    table = weights["embeddings.position_embeddings.weight"]
    n_positions = table.shape[0]
    seq_len = g.op("Shape", ["input_ids"], "embeddings/seq_len", start=1, end=2)
    square = g.op("Concat", [seq_len, seq_len], "embeddings/square", axis=0)
    earlier = g.constant("const/strictly_earlier", np.tril(np.ones((n_positions, n_positions), dtype=np.int64), -1))
    earlier = g.op("Slice", [earlier, "const/zero_2d", square, "const/axes_01"], "embeddings/earlier")
    same_earlier = g.op("Mul", [g.op("Cast", [same], "embeddings/same", to=TensorProto.INT64), earlier],
                        "embeddings/same_earlier")
    position_ids = g.op("ReduceSum", [same_earlier, "const/axis2"], "embeddings/position_ids_raw", keepdims=0)
    position_ids = g.op("Min", [position_ids, g.constant("const/last_position", np.array(n_positions - 1, np.int64))],
                        "embeddings/position_ids")
    positions = g.op("Gather", [g.constant("position_embeddings", table), position_ids], "embeddings/positions")
    summed = g.op("Add", [g.op("Add", [words, types], "embeddings/words_types"), positions], "embeddings/sum")
    return g.layer_norm(summed, weights, "embeddings.LayerNorm", config.layer_norm_eps, "embeddings/layer_norm")


def add_attention_bias(g: GraphBuilder, same: str, key_real: str) -> str:
    """0 where a query token may attend to a key, ``lowest_float32`` elsewhere, as float32 ``[B, 1, S, S]``."""
    allowed = g.op("And", [same, key_real], "mask/allowed")
    bias = g.op("Where", [allowed, "const/zero_f32", "const/mask_fill"], "mask/bias_bss")
    return g.op("Unsqueeze", [bias, "const/axis1"], "mask/bias")


def split_heads(g: GraphBuilder, x: str, perm: list[int], name: str) -> str:
    """[B, S, hidden] -> [B, S, heads, head_dim] -> transposed by ``perm``."""
    return g.op("Transpose", [g.op("Reshape", [x, "const/split_heads"], f"{name}/split")], name, perm=perm)


def add_self_attention(g: GraphBuilder, x: str, bias: str, weights: Weights, key: str, name: str) -> str:
    """Multi-head self-attention; returns the merged context before the output projection."""
    query = split_heads(g, g.linear(x, weights, f"{key}.query", f"{name}/query"), [0, 2, 1, 3], f"{name}/q_heads")
    key_t = split_heads(g, g.linear(x, weights, f"{key}.key", f"{name}/key"), [0, 2, 3, 1], f"{name}/k_heads_t")
    value = split_heads(g, g.linear(x, weights, f"{key}.value", f"{name}/value"), [0, 2, 1, 3], f"{name}/v_heads")
    scores = g.op("Mul", [g.op("MatMul", [query, key_t], f"{name}/qk"), "const/attn_scale"], f"{name}/scores")
    probs = g.op("Softmax", [g.op("Add", [scores, bias], f"{name}/masked_scores")], f"{name}/probs", axis=-1)
    context = g.op("Transpose", [g.op("MatMul", [probs, value], f"{name}/context_heads")], f"{name}/context_bshd",
                   perm=[0, 2, 1, 3])
    return g.op("Reshape", [context, "const/merge_heads"], f"{name}/context")


def add_gelu(g: GraphBuilder, x: str, name: str) -> str:
    """Exact GELU: ``0.5 * x * (1 + erf(x / sqrt 2))``."""
    erf = g.op("Erf", [g.op("Div", [x, "const/sqrt2"], f"{name}/scaled")], f"{name}/erf")
    gate = g.op("Mul", [g.op("Add", [erf, "const/one"], f"{name}/one_plus_erf"), "const/half"], f"{name}/gate")
    return g.op("Mul", [x, gate], name)


def add_layer(g: GraphBuilder, x: str, bias: str, weights: Weights, config: BertConfig, index: int) -> str:
    key = f"encoder.layer.{index}"
    name = f"layer{index}"
    eps = config.layer_norm_eps
    context = add_self_attention(g, x, bias, weights, f"{key}.attention.self", f"{name}/attention")
    attended = g.linear(context, weights, f"{key}.attention.output.dense", f"{name}/attention/output")
    x = g.layer_norm(g.op("Add", [attended, x], f"{name}/attention/residual"), weights,
                     f"{key}.attention.output.LayerNorm", eps, f"{name}/attention/layer_norm")
    hidden = add_gelu(g, g.linear(x, weights, f"{key}.intermediate.dense", f"{name}/ffn/up"), f"{name}/ffn/gelu")
    projected = g.linear(hidden, weights, f"{key}.output.dense", f"{name}/ffn/down")
    return g.layer_norm(g.op("Add", [projected, x], f"{name}/ffn/residual"), weights,
                        f"{key}.output.LayerNorm", eps, f"{name}/ffn/layer_norm")


def build_model(weights: Weights, config: BertConfig) -> onnx.ModelProto:
    g = GraphBuilder()
    add_shared_constants(g, config)
    same, key_real = add_segments(g)
    x = add_embeddings(g, weights, config, same)
    bias = add_attention_bias(g, same, key_real)
    for index in range(config.num_layers):
        x = add_layer(g, x, bias, weights, config, index)
    g.nodes.append(helper.make_node("Identity", [x], [OUTPUT_NAME], name=OUTPUT_NAME))

    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"]) for n in INPUT_NAMES]
    output = helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", "sequence", config.hidden])
    graph = helper.make_graph(g.nodes, "bert_encoder", inputs, [output], initializer=g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="trawl-export")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def read_pooling(src: Path) -> str:
    pooling = json.loads((src / "1_Pooling" / "config.json").read_text())
    if pooling.get("pooling_mode_cls_token"):
        return "cls"
    if pooling.get("pooling_mode_mean_tokens"):
        return "mean"
    raise ValueError(f"unsupported pooling in {src / '1_Pooling' / 'config.json'}: {pooling}")


def read_normalize(src: Path) -> bool:
    modules = json.loads((src / "modules.json").read_text())
    return any(m.get("type", "").endswith(".Normalize") for m in modules)


def read_max_tokens(src: Path, override: int | None, config: BertConfig) -> int:
    if override is not None:
        max_tokens = override
    else:
        max_tokens = json.loads((src / "sentence_bert_config.json").read_text())["max_seq_length"]
    if not 0 < max_tokens <= config.max_positions:
        raise ValueError(f"max_tokens {max_tokens} must be in 1..{config.max_positions} (max_position_embeddings)")
    return max_tokens


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_manifest(src: Path, name: str, config: BertConfig, max_tokens: int) -> dict:
    return {
        "name": name,
        "dims": config.hidden,
        "pooling": read_pooling(src),
        "normalize": read_normalize(src),
        "max_tokens": max_tokens,
        "segment_mask": True,
        "files": {"fp32": FP32_FILE, "int8": INT8_FILE},
        "tokenizer": TOKENIZER_FILE,
        "source": {"dir": src.name, "model_safetensors_sha256": sha256_of(src / "model.safetensors")},
    }


def staging_path(out: Path, file_name: str) -> Path:
    """Temporary sibling of ``out/file_name``; keeps the suffix for tools that look at it."""
    return out / f".partial-{os.getpid()}-{file_name}"


def write_outputs(src: Path, out: Path, model: onnx.ModelProto, manifest: dict) -> None:
    """Stage every file under a temporary name, then rename into place with the manifest last."""
    out.mkdir(parents=True, exist_ok=True)
    staged = {name: staging_path(out, name) for name in (FP32_FILE, INT8_FILE, TOKENIZER_FILE, MANIFEST_FILE)}
    try:
        onnx.save(model, staged[FP32_FILE])
        quantize_dynamic(staged[FP32_FILE], staged[INT8_FILE], per_channel=True, weight_type=QuantType.QUInt8)
        shutil.copyfile(src / TOKENIZER_FILE, staged[TOKENIZER_FILE])
        staged[MANIFEST_FILE].write_text(json.dumps(manifest, indent=2) + "\n")
        for name, path in staged.items():
            os.replace(path, out / name)
    finally:
        for path in staged.values():
            path.unlink(missing_ok=True)


def export(src: Path, out: Path, name: str | None = None, max_tokens: int | None = None) -> dict:
    """Export ``src`` (a sentence-transformers BERT directory) into ``out``; returns the manifest."""
    config = BertConfig.from_file(src / "config.json")
    manifest = build_manifest(src, name or out.resolve().name, config, read_max_tokens(src, max_tokens, config))
    model = build_model(Weights(src / "model.safetensors"), config)
    write_outputs(src, out, model, manifest)
    return manifest


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, required=True, help="Hugging Face sentence-transformers model directory")
    parser.add_argument("--out", type=Path, required=True, help="output model directory")
    parser.add_argument("--max-tokens", type=int, help="override sentence_bert_config.json max_seq_length")
    parser.add_argument("--name", help="model name for the manifest (default: the output directory's name)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    manifest = export(args.src, args.out, name=args.name, max_tokens=args.max_tokens)
    print(f"exported {manifest['name']} to {args.out}: {json.dumps(manifest, indent=2)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
