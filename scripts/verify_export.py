#!/usr/bin/env python3
"""Check an exported model directory against the float64 numpy reference.

A fixed set of test texts (empty, short, non-ASCII, and one far longer than
``max_tokens``) is tokenized once by ``numpy_bert`` and the same token ids are
fed to ONNX Runtime, so only the encoder graph is under test:

* ``model.onnx`` runs the texts as one padded batch and again one text at a
  time. Pooled, L2-normalised embeddings and the L2-normalised token vectors of
  both runs must be within ``TOLERANCE`` (max abs difference) of numpy's.
  When the manifest says ``"segment_mask": true``, the texts also run packed
  several to a row (each marked by its segment number in ``attention_mask``)
  and must match numpy just as closely.
* ``model_int8.onnx`` runs the batch; its mean cosine similarity to the fp32
  ONNX embeddings must be at least ``MIN_INT8_COSINE``.

Any miss prints the numbers and exits 1. With ``--write-reference`` the numpy
results are written to ``<model-dir>/reference.json`` for the Rust tests::

    {"model": name, "max_tokens": N,
     "items": [{"text", "input_ids", "truncated", "embedding", "token_vectors"}]}

where ``embedding`` is the pooled, normalised vector and ``token_vectors`` the
L2-normalised last_hidden_state rows under the attention mask, in token order,
[CLS] and [SEP] included.

Usage::

    verify_export.py --src <hf model dir> --model-dir <model dir> [--write-reference]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

import numpy_bert

TOLERANCE = 1e-4
MIN_INT8_COSINE = 0.99
REFERENCE_FILE = "reference.json"

_LONG_PARAGRAPH = (
    "Trawl stores one embedding per document and answers nearest-neighbour queries over them. "
    "Each paragraph is split into tokens, encoded by a small transformer, pooled and normalised. "
)
LONG_TEXT = " ".join(f"Section {i}. {_LONG_PARAGRAPH}" for i in range(1, 21))

TEST_TEXTS = [
    "",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "A monkey is playing drums.",
    "The quick brown fox jumps over the lazy dog.",
    "How do I reset my password?",
    "Rust guarantees memory safety without a garbage collector.",
    "Café naïve — 東京 résumé",
    "Zürich, São Paulo and Kraków are cities; Ελληνικά and русский are languages.",
    "   leading and trailing whitespace   ",
    "x",
    LONG_TEXT,
]


@dataclass
class Report:
    fp32_batch_max_diff: float
    fp32_single_max_diff: float
    token_batch_max_diff: float
    token_single_max_diff: float
    fp32_packed_max_diff: float
    token_packed_max_diff: float
    int8_mean_cosine: float
    int8_min_cosine: float

    def failures(self) -> list[str]:
        checks = {
            "fp32 batch embeddings": self.fp32_batch_max_diff,
            "fp32 single embeddings": self.fp32_single_max_diff,
            "fp32 batch token vectors": self.token_batch_max_diff,
            "fp32 single token vectors": self.token_single_max_diff,
            "fp32 packed embeddings": self.fp32_packed_max_diff,
            "fp32 packed token vectors": self.token_packed_max_diff,
        }
        failed = [f"{what}: max abs diff {diff:.3e} >= {TOLERANCE:g}" for what, diff in checks.items()
                  if not diff < TOLERANCE]
        if not self.int8_mean_cosine >= MIN_INT8_COSINE:
            failed.append(f"int8: mean cosine {self.int8_mean_cosine:.5f} < {MIN_INT8_COSINE}")
        return failed

    def summary(self) -> str:
        return "\n".join([
            f"fp32 vs numpy, embeddings, batch:     max abs diff {self.fp32_batch_max_diff:.3e}",
            f"fp32 vs numpy, embeddings, single:    max abs diff {self.fp32_single_max_diff:.3e}",
            f"fp32 vs numpy, token vectors, batch:  max abs diff {self.token_batch_max_diff:.3e}",
            f"fp32 vs numpy, token vectors, single: max abs diff {self.token_single_max_diff:.3e}",
            f"fp32 vs numpy, embeddings, packed:    max abs diff {self.fp32_packed_max_diff:.3e}",
            f"fp32 vs numpy, token vectors, packed: max abs diff {self.token_packed_max_diff:.3e}",
            f"int8 vs fp32 cosine: mean {self.int8_mean_cosine:.5f}, min {self.int8_min_cosine:.5f}",
        ])


def l2_normalise(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def run_onnx(session: ort.InferenceSession, token_ids: list[list[int]]) -> list[np.ndarray]:
    """Run one right-padded batch; returns each text's last_hidden_state rows without padding."""
    width = max(len(ids) for ids in token_ids)
    input_ids = np.zeros((len(token_ids), width), dtype=np.int64)
    attention_mask = np.zeros_like(input_ids)
    for row, ids in enumerate(token_ids):
        input_ids[row, :len(ids)] = ids
        attention_mask[row, :len(ids)] = 1
    feeds = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": np.zeros_like(input_ids)}
    (states,) = session.run(["last_hidden_state"], feeds)
    return [states[row, :len(ids)] for row, ids in enumerate(token_ids)]


def run_onnx_singly(session: ort.InferenceSession, token_ids: list[list[int]]) -> list[np.ndarray]:
    return [run_onnx(session, [ids])[0] for ids in token_ids]


def run_onnx_packed(session: ort.InferenceSession, token_ids: list[list[int]]) -> list[np.ndarray]:
    """Pack the texts into rows as wide as the longest one, each text marked by its segment number.

    First fit in order of decreasing length, as the server packs (it may
    also try wider rows); returns each text's last_hidden_state rows, in the order of ``token_ids``.
    """
    width = max(len(ids) for ids in token_ids)
    rows: list[list[int]] = []  # text indices per row
    used: list[int] = []
    for index in sorted(range(len(token_ids)), key=lambda i: -len(token_ids[i])):
        length = len(token_ids[index])
        row = next((r for r, u in enumerate(used) if u + length <= width), None)
        if row is None:
            rows.append([])
            used.append(0)
            row = len(rows) - 1
        rows[row].append(index)
        used[row] += length
    input_ids = np.zeros((len(rows), width), dtype=np.int64)
    segments = np.zeros_like(input_ids)
    where: dict[int, tuple[int, int]] = {}
    for row, members in enumerate(rows):
        offset = 0
        for segment, index in enumerate(members, start=1):
            ids = token_ids[index]
            input_ids[row, offset:offset + len(ids)] = ids
            segments[row, offset:offset + len(ids)] = segment
            where[index] = (row, offset)
            offset += len(ids)
    feeds = {"input_ids": input_ids, "attention_mask": segments, "token_type_ids": np.zeros_like(input_ids)}
    (states,) = session.run(["last_hidden_state"], feeds)
    return [states[where[i][0], where[i][1]:where[i][1] + len(ids)] for i, ids in enumerate(token_ids)]


def pool(token_states: list[np.ndarray], pooling: str) -> np.ndarray:
    """Pool unpadded per-text states (``mean`` or ``cls``) and L2-normalise."""
    pooled = [states[0] if pooling == "cls" else states.mean(axis=0) for states in token_states]
    return l2_normalise(np.array(pooled, dtype=np.float64))


def max_token_diff(onnx_states: list[np.ndarray], numpy_states: list[np.ndarray]) -> float:
    return max(float(np.abs(l2_normalise(o.astype(np.float64)) - l2_normalise(n)).max())
               for o, n in zip(onnx_states, numpy_states))


def load_manifest(model_dir: Path) -> dict:
    return json.loads((model_dir / "trawl-model.json").read_text())


def session_for(model_dir: Path, file_name: str) -> ort.InferenceSession:
    return ort.InferenceSession(str(model_dir / file_name), providers=["CPUExecutionProvider"])


def reference_encoding(src: Path, manifest: dict) -> numpy_bert.Encoded:
    model = numpy_bert.load(src, max_tokens=manifest["max_tokens"])
    if model.pooling != manifest["pooling"] or model.hidden != manifest["dims"]:
        raise ValueError(f"manifest {manifest} disagrees with {src}: pooling {model.pooling}, dims {model.hidden}")
    return model.encode(TEST_TEXTS)


def check(model_dir: Path, manifest: dict, reference: numpy_bert.Encoded) -> Report:
    """Compare the exported models in ``model_dir`` with numpy's encoding of ``TEST_TEXTS``."""
    pooling = manifest["pooling"]
    fp32 = session_for(model_dir, manifest["files"]["fp32"])
    batch_states = run_onnx(fp32, reference.token_ids)
    single_states = run_onnx_singly(fp32, reference.token_ids)
    # Graphs without segment masks (the manifest does not say "segment_mask") are checked padded only.
    packed_states = (run_onnx_packed(fp32, reference.token_ids) if manifest.get("segment_mask")
                     else batch_states)
    batch = pool(batch_states, pooling)
    int8 = pool(run_onnx(session_for(model_dir, manifest["files"]["int8"]), reference.token_ids), pooling)
    cosines = (int8 * batch).sum(axis=1)
    return Report(
        fp32_batch_max_diff=float(np.abs(batch - reference.embeddings).max()),
        fp32_single_max_diff=float(np.abs(pool(single_states, pooling) - reference.embeddings).max()),
        token_batch_max_diff=max_token_diff(batch_states, reference.token_states),
        token_single_max_diff=max_token_diff(single_states, reference.token_states),
        fp32_packed_max_diff=float(np.abs(pool(packed_states, pooling) - reference.embeddings).max()),
        token_packed_max_diff=max_token_diff(packed_states, reference.token_states),
        int8_mean_cosine=float(cosines.mean()),
        int8_min_cosine=float(cosines.min()),
    )


def verify(src: Path, model_dir: Path) -> Report:
    """Encode ``TEST_TEXTS`` with numpy from ``src`` and check the models in ``model_dir`` against it."""
    manifest = load_manifest(model_dir)
    return check(model_dir, manifest, reference_encoding(src, manifest))


def write_reference(path: Path, manifest: dict, reference: numpy_bert.Encoded) -> None:
    items = [
        {
            "text": text,
            "input_ids": ids,
            "truncated": truncated,
            "embedding": embedding.tolist(),
            "token_vectors": l2_normalise(states).tolist(),
        }
        for text, ids, truncated, embedding, states in zip(
            TEST_TEXTS, reference.token_ids, reference.truncated, reference.embeddings, reference.token_states)
    ]
    document = {"model": manifest["name"], "max_tokens": manifest["max_tokens"], "items": items}
    staged = path.with_name(f".partial-{os.getpid()}-{path.name}")
    staged.write_text(json.dumps(document, ensure_ascii=False) + "\n")
    os.replace(staged, path)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, required=True, help="Hugging Face model directory that was exported")
    parser.add_argument("--model-dir", type=Path, required=True, help="directory written by export_model.py")
    parser.add_argument("--write-reference", action="store_true", help=f"write <model-dir>/{REFERENCE_FILE}")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    manifest = load_manifest(args.model_dir)
    reference = reference_encoding(args.src, manifest)
    report = check(args.model_dir, manifest, reference)
    print(report.summary())
    failures = report.failures()
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    if args.write_reference:
        write_reference(args.model_dir / REFERENCE_FILE, manifest, reference)
        print(f"wrote {args.model_dir / REFERENCE_FILE}")
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
