//! The crate's error type.

use crate::filter::FilterError;
use crate::storage::StorageError;

/// Everything an index operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// A vector has the wrong number of components.
    #[error("{field}: expected {expected} dimensions, got {got}")]
    DimensionMismatch {
        /// Where the vector came from (`points[3].vector`, `vector`).
        field: String,
        /// The collection's dimension.
        expected: usize,
        /// What was sent.
        got: usize,
    },
    /// A vector holds NaN or an infinity, or cannot be normalised.
    #[error("{field}: {reason}")]
    InvalidVector {
        /// Where the vector came from.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A parameter is out of range or unsupported.
    #[error("{field}: {reason}")]
    InvalidParameter {
        /// The parameter.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A filter refers to fields or values it cannot.
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// No collection has this name.
    #[error("collection {0:?} does not exist")]
    CollectionNotFound(String),
    /// A collection with this name exists already.
    #[error("collection {0:?} already exists")]
    CollectionExists(String),
    /// No point has this id.
    #[error("point {0} does not exist")]
    PointNotFound(String),
    /// A limit was exceeded.
    #[error("{field}: {got} exceeds the limit of {limit}")]
    LimitExceeded {
        /// What was counted.
        field: String,
        /// The limit.
        limit: usize,
        /// What was asked.
        got: usize,
    },
    /// Reading or writing the disk failed, or stored data is corrupt.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The crate's result type.
pub type Result<T, E = IndexError> = std::result::Result<T, E>;
