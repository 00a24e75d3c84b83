//! The model directory and its `trawl-model.json`.
//!
//! A model directory holds the ONNX graph(s), `tokenizer.json`, and a small
//! `trawl-model.json` saying how to turn the graph's `last_hidden_state` into
//! embeddings:
//!
//! ```json
//! {"name": "all-minilm-l6-v2", "dims": 384, "pooling": "mean", "normalize": true,
//!  "max_tokens": 256, "files": {"fp32": "model.onnx", "int8": "model_int8.onnx"},
//!  "tokenizer": "tokenizer.json", "segment_mask": true}
//! ```
//!
//! `segment_mask` (default `false`) says the graph accepts segment numbers in
//! `attention_mask`: tokens marked `k > 0` are text `k` of their row, attend
//! only to each other and take positions from 0 within the text, and 0 is
//! padding. Trawl's exporter writes such graphs; with them several short texts
//! share one row instead of each being padded to the longest of the batch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{EncodeError, Result};

/// File name of the model description inside a model directory.
pub const SPEC_FILE: &str = "trawl-model.json";

/// How token states become one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// Mean over the tokens under the attention mask.
    Mean,
    /// The first token's (`[CLS]`) state.
    Cls,
}

/// Which weights to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    /// The float32 graph.
    Fp32,
    /// The dynamically quantised int8 graph (per-channel weights).
    Int8,
}

impl Precision {
    /// The key of this precision in `trawl-model.json`'s `files`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Fp32 => "fp32",
            Self::Int8 => "int8",
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "fp32" => Ok(Self::Fp32),
            "int8" => Ok(Self::Int8),
            other => Err(format!(
                "unknown precision {other:?}: expected fp32 or int8"
            )),
        }
    }
}

#[derive(Debug, Deserialize)]
struct RawSpec {
    name: String,
    dims: usize,
    pooling: Pooling,
    normalize: bool,
    max_tokens: usize,
    files: BTreeMap<String, String>,
    #[serde(default)]
    segment_mask: bool,
    #[serde(default = "default_tokenizer")]
    tokenizer: String,
}

fn default_tokenizer() -> String {
    "tokenizer.json".to_string()
}

/// A validated model description with absolute file paths.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// The model's name, as reported in answers.
    pub name: String,
    /// The dimension of the pooled vector and of each token vector.
    pub dims: usize,
    /// How token states are pooled.
    pub pooling: Pooling,
    /// Whether pooled vectors are L2-normalised.
    pub normalize: bool,
    /// Inputs are truncated to this many tokens, special tokens included.
    pub max_tokens: usize,
    /// The model directory.
    pub dir: PathBuf,
    /// ONNX files by precision.
    pub files: BTreeMap<String, PathBuf>,
    /// The tokenizer file.
    pub tokenizer: PathBuf,
    /// Whether the graph reads segment numbers from `attention_mask`, so that
    /// several texts can share a row (packed first fit, longest first).
    /// Graphs without it (most exports) get one text per padded row.
    pub segment_mask: bool,
}

impl ModelSpec {
    /// Reads and validates `dir/trawl-model.json`.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(SPEC_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| EncodeError::Io {
            path: path.clone(),
            source,
        })?;
        let invalid = |reason: String| EncodeError::InvalidModel {
            path: dir.to_path_buf(),
            reason,
        };
        let raw: RawSpec =
            serde_json::from_str(&text).map_err(|e| invalid(format!("{SPEC_FILE}: {e}")))?;
        if raw.dims == 0 {
            return Err(invalid("dims must be positive".into()));
        }
        if raw.max_tokens < 2 {
            return Err(invalid("max_tokens must be at least 2".into()));
        }
        if raw.files.is_empty() {
            return Err(invalid("files names no ONNX graph".into()));
        }
        Ok(Self {
            name: raw.name,
            dims: raw.dims,
            pooling: raw.pooling,
            normalize: raw.normalize,
            max_tokens: raw.max_tokens,
            files: raw
                .files
                .into_iter()
                .map(|(k, v)| (k, dir.join(v)))
                .collect(),
            tokenizer: dir.join(raw.tokenizer),
            segment_mask: raw.segment_mask,
            dir: dir.to_path_buf(),
        })
    }

    /// The ONNX file for `precision`, or an error naming the ones there are.
    pub fn onnx_file(&self, precision: Precision) -> Result<&Path> {
        self.files
            .get(precision.key())
            .map(PathBuf::as_path)
            .ok_or_else(|| EncodeError::InvalidModel {
                path: self.dir.clone(),
                reason: format!(
                    "no {} graph (files: {})",
                    precision.key(),
                    self.files.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            })
    }
}
