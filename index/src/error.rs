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
    /// No alias has this name.
    #[error("alias {0:?} does not exist")]
    AliasNotFound(String),
    /// A name is taken (by a collection or an alias) where a new one is made.
    #[error("{0}")]
    NameTaken(String),
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
    /// The disk is full (or a quota is reached): the write was not applied and
    /// nothing acknowledged is lost; writes succeed again once space returns.
    #[error("collection {collection:?}: no space left on the device: {source}")]
    InsufficientStorage {
        /// The collection written to.
        collection: String,
        /// The failed call.
        source: StorageError,
    },
    /// No stored snapshot of that name.
    #[error("collection {collection:?} has no snapshot {name:?}")]
    SnapshotNotFound {
        /// The collection.
        collection: String,
        /// The snapshot asked for.
        name: String,
    },
    /// An uploaded snapshot is not one, is incomplete, or was altered: nothing
    /// was changed.
    #[error("invalid snapshot: {0}")]
    InvalidSnapshot(String),
    /// The collection's files are damaged or missing: it is not served until
    /// an operator restores it or accepts what is intact.
    #[error("collection {name:?} is damaged and not served: {reason}")]
    CollectionDamaged {
        /// The collection.
        name: String,
        /// What was found, and what an operator can do.
        reason: String,
    },
}

impl IndexError {
    /// Names `collection` in a storage error that says the disk is full.
    pub fn in_collection(self, collection: &str) -> Self {
        match self {
            IndexError::Storage(source) if source.is_storage_full() => {
                IndexError::InsufficientStorage {
                    collection: collection.to_string(),
                    source,
                }
            }
            other => other,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = IndexError> = std::result::Result<T, E>;
