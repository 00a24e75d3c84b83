//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while loading a model or encoding text.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// A file of the model directory is missing or unreadable.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `trawl-model.json` is malformed or names an unsupported setting.
    #[error("invalid model directory {path}: {reason}")]
    InvalidModel {
        /// The model directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The ONNX Runtime library could not be loaded or initialised.
    #[error("cannot initialise ONNX Runtime from {path}: {reason}")]
    Runtime {
        /// The shared library's path.
        path: PathBuf,
        /// The runtime's message.
        reason: String,
    },
    /// ONNX Runtime failed while creating a session or running the model.
    #[error("ONNX Runtime: {0}")]
    Onnx(String),
    /// The tokenizer failed.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A requested output does not fit the model (for example a Matryoshka prefix longer than the vector).
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The request field at fault.
        field: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// The batching queue is full: the caller should retry later.
    #[error("the embedding queue is full ({capacity} texts waiting)")]
    QueueFull {
        /// The queue's capacity in texts.
        capacity: usize,
    },
    /// The encoder is shutting down or a worker died.
    #[error("the encoder is not running")]
    Stopped,
}

impl From<ort::Error> for EncodeError {
    fn from(error: ort::Error) -> Self {
        Self::Onnx(error.to_string())
    }
}

/// The crate's result type.
pub type Result<T, E = EncodeError> = std::result::Result<T, E>;
