//! Text to embeddings with ONNX Runtime: float, Matryoshka, binary and per-token
//! multi-vectors, with dynamic batching.
//!
//! The pieces, in the order a text meets them: [`Tokenizer`] (the model's
//! `tokenizer.json`, truncated at the model's `max_tokens`), the batching
//! [`queue`] (one thread, token budget, length grouping), [`OnnxEncoder`] (one
//! ONNX Runtime session per worker thread, pooling and normalisation), and the
//! [`codes`] derived from the pooled vector. [`Embedder`] ties them together.
//!
//! ```no_run
//! use std::path::Path;
//! use trawl_encoders::{Embedder, EmbedderConfig};
//!
//! # fn main() -> trawl_encoders::Result<()> {
//! trawl_encoders::init_runtime(Path::new("vendor/onnxruntime/libonnxruntime.so.1.31.1"))?;
//! let embedder = Embedder::load(&EmbedderConfig::new("models/all-minilm-l6-v2"), std::sync::Arc::new(()))?;
//! let texts = vec!["A man is eating food.".to_string()];
//! let encoded = embedder.embed_blocking(&texts, false)?;
//! assert_eq!(encoded[0].pooled.len(), embedder.spec().dims);
//! let bits = trawl_encoders::codes::binarize(&encoded[0].pooled, 1)?;
//! assert_eq!(bits.to_bytes().len(), embedder.spec().dims / 8);
//! # Ok(())
//! # }
//! ```

pub mod codes;
mod embedder;
mod error;
pub mod queue;
mod runtime;
mod session;
mod spec;
mod tokenize;

pub use embedder::{Embedder, EmbedderConfig, MAX_DEFAULT_SESSIONS, default_sessions};
pub use error::{EncodeError, Result};
pub use queue::{BatchLimits, BatchObserver, BatchStats, DEFAULT_BATCH_OVERHEAD_TOKENS};
pub use runtime::init_runtime;
pub use session::{Encoded, OnnxEncoder, SessionOptions, normalize, pool};
pub use spec::{ModelSpec, Pooling, Precision, SPEC_FILE};
pub use tokenize::{Tokenizer, Tokens};
