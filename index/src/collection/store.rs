//! How one vector is stored in a segment: one type per representation.
//!
//! - [`VectorStore::Float`]: the full vectors, which scans score and the
//!   graph links.
//! - [`VectorStore::Compact`]: binary or Matryoshka codes in the heap, which
//!   scans score and the graph links, and the full vectors in a file, which
//!   only the rerank reads (BiDR's bi-granular layout).
//! - [`VectorStore::Multivector`]: token vectors in a file, which only the
//!   Chamfer rerank reads, and their MUVERA encodings (FDEs), which scans
//!   score and the graph links.
//!
//! What the log and the segment files hold per point is its *stored* vector:
//! the full vector, or the token vectors flattened.

use std::path::Path;
use std::sync::Arc;

use super::VectorConfig;
use super::multivector::TokenStore;
use super::points::fde_of;
use crate::codes::Codes;
use crate::error::Result;
use crate::muvera::Fde;
use crate::storage::{MappedFile, StorageError, VectorFile};
use crate::types::Offset;

/// The token vectors of multivector layouts in an appendable segment
/// (rewritten from the log at every open) are in files with this extension.
pub(crate) const TOKENS_EXT: &str = "tokens";
/// ... and their full vectors (compact layouts) in files with this one.
pub(crate) const VECTORS_EXT: &str = "f32";

/// The vectors a segment stores per offset: the full vectors, or a
/// multivector layout's document FDEs.
pub(crate) enum Vectors {
    /// In the heap (the appendable segment, float and multivector layouts).
    Heap { dims: usize, data: Vec<f32> },
    /// A growing file (the appendable segment of compact layouts, whose full
    /// vectors only reranks read; rewritten from the log at every open).
    File(VectorFile),
    /// A sealed segment's mapped file.
    Mapped { dims: usize, file: MappedFile },
}

impl Vectors {
    #[inline]
    pub(crate) fn get(&self, offset: Offset) -> &[f32] {
        if let Self::File(file) = self {
            return file.get(offset as usize);
        }
        let dims = self.dims();
        let start = offset as usize * dims;
        &self.all()[start..start + dims]
    }

    pub(crate) fn dims(&self) -> usize {
        match self {
            Self::Heap { dims, .. } | Self::Mapped { dims, .. } => *dims,
            Self::File(file) => file.dims(),
        }
    }

    /// Every vector, `dims` floats per offset.
    #[inline]
    pub(crate) fn all(&self) -> &[f32] {
        match self {
            Self::Heap { data, .. } => data,
            Self::Mapped { dims, file } => {
                let all = file.f32s(0);
                &all[..all.len() / dims * dims]
            }
            Self::File(file) => file.rows(0, file.len()),
        }
    }

    /// Room for `n` more vectors.
    fn reserve(&mut self, n: usize) -> Result<(), StorageError> {
        match self {
            Self::Heap { dims, data } => data.reserve(n * *dims),
            Self::File(file) => file.reserve(n)?,
            Self::Mapped { .. } => {}
        }
        Ok(())
    }

    /// Bytes of the vectors held (in the heap or a growing file).
    fn stored_bytes(&self) -> usize {
        match self {
            Self::File(file) => file.len() * file.dims() * 4,
            other => other.heap_bytes(),
        }
    }

    fn push(&mut self, v: &[f32]) -> Result<(), StorageError> {
        match self {
            Self::Heap { data, .. } => data.extend_from_slice(v),
            Self::File(file) => file.push(v)?,
            Self::Mapped { .. } => {}
        }
        Ok(())
    }

    /// Heap bytes (a mapped file's are the page cache's).
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Self::Heap { data, .. } => data.capacity() * 4,
            Self::Mapped { .. } | Self::File(_) => 0,
        }
    }

    /// Drops a sealed segment's vector file from the resident set after a
    /// pass over every vector.
    pub(crate) fn release_resident(&self) {
        if let Self::Mapped { file, .. } = self {
            file.release_resident();
        }
    }

    /// Bytes of the mapped file.
    pub(crate) fn mapped_bytes(&self) -> u64 {
        match self {
            Self::Heap { .. } => 0,
            Self::Mapped { file, .. } => file.len() as u64,
            Self::File(file) => file.disk_bytes(),
        }
    }
}

/// One vector's storage in a segment (see the module's documentation).
pub(crate) enum VectorStore {
    Float(Vectors),
    Compact {
        codes: Codes,
        vectors: Vectors,
    },
    Multivector {
        tokens: TokenStore,
        fdes: Vectors,
        fde: Arc<Fde>,
    },
}

impl VectorStore {
    /// An empty store for an appendable segment of `config`: token vectors
    /// (multivector) in a new file at `token_path`, full vectors (compact
    /// layouts) in a new file beside it, everything else in the heap.
    pub(crate) fn appendable(config: &VectorConfig, token_path: &Path) -> Result<Self> {
        let heap = |dims| Vectors::Heap {
            dims,
            data: Vec::new(),
        };
        if let Some(fde) = fde_of(config)? {
            return Ok(Self::Multivector {
                tokens: TokenStore::create(token_path, config.dims)?,
                fdes: heap(config.point_dims()),
                fde,
            });
        }
        Ok(match config.layout.code_spec(config.dims, config.metric) {
            Some(spec) => Self::Compact {
                codes: Codes::new(spec),
                vectors: Vectors::File(VectorFile::create(
                    &token_path.with_extension(VECTORS_EXT),
                    config.dims,
                )?),
            },
            None => Self::Float(heap(config.dims)),
        })
    }

    /// What scans score exactly and the graph links in float space: the full
    /// vectors, or the FDEs.
    #[inline]
    pub(crate) fn vectors(&self) -> &Vectors {
        match self {
            Self::Float(vectors) | Self::Compact { vectors, .. } => vectors,
            Self::Multivector { fdes, .. } => fdes,
        }
    }

    /// The compact codes (compact layouts).
    #[inline]
    pub(crate) fn codes(&self) -> Option<&Codes> {
        match self {
            Self::Compact { codes, .. } => Some(codes),
            _ => None,
        }
    }

    /// The token vectors and their encoder (multivector layout).
    #[inline]
    pub(crate) fn tokens(&self) -> Option<(&TokenStore, &Fde)> {
        match self {
            Self::Multivector { tokens, fde, .. } => Some((tokens, fde)),
            _ => None,
        }
    }

    /// The stored vector of `offset` (see the module's documentation).
    pub(crate) fn stored(&self, offset: Offset) -> &[f32] {
        match self {
            Self::Multivector { tokens, .. } => tokens.get(offset),
            other => other.vectors().get(offset),
        }
    }

    /// Whether a stored vector of `len` floats fits.
    pub(crate) fn fits(&self, len: usize) -> bool {
        match self {
            Self::Multivector { tokens, .. } => len > 0 && len.is_multiple_of(tokens.dims()),
            other => len == other.vectors().dims(),
        }
    }

    /// Room for `points` more points holding `token_rows` token vectors, so
    /// that appending them cannot then fail for want of disk.
    pub(crate) fn reserve(&mut self, points: usize, token_rows: usize) -> Result<(), StorageError> {
        match self {
            Self::Float(vectors) => vectors.reserve(points),
            Self::Compact { vectors, .. } => vectors.reserve(points),
            Self::Multivector { tokens, fdes, .. } => {
                fdes.reserve(points)?;
                tokens.reserve(points, token_rows)
            }
        }
    }

    /// Appends the next offset's stored vector (appendable segments).
    pub(crate) fn push(&mut self, stored: &[f32]) -> Result<(), StorageError> {
        match self {
            Self::Float(vectors) => vectors.push(stored),
            Self::Compact { codes, vectors } => {
                vectors.push(stored)?;
                codes.push(stored);
                Ok(())
            }
            Self::Multivector { tokens, fdes, fde } => {
                tokens.push(stored)?;
                fdes.push(&fde.encode_document(stored))
            }
        }
    }

    /// Appends a placeholder for the next offset, which does not hold this
    /// vector: zeros (no token vectors for a multivector), never scored (the
    /// segment's absence bitmap leaves it out of searches and graphs).
    pub(crate) fn push_absent(&mut self) -> Result<(), StorageError> {
        let zeros = vec![0.0; self.vectors().dims()];
        match self {
            Self::Float(vectors) => vectors.push(&zeros),
            Self::Compact { codes, vectors } => {
                vectors.push(&zeros)?;
                codes.push(&zeros);
                Ok(())
            }
            Self::Multivector { tokens, fdes, .. } => {
                tokens.push(&[])?;
                fdes.push(&zeros)
            }
        }
    }

    /// Bytes of the stored vectors (the sealing threshold's measure).
    pub(crate) fn stored_bytes(&self) -> usize {
        match self {
            Self::Float(vectors) | Self::Compact { vectors, .. } => vectors.stored_bytes(),
            Self::Multivector { tokens, fdes, .. } => {
                fdes.stored_bytes() + tokens.rows() * tokens.dims() * 4
            }
        }
    }

    /// Heap bytes of the codes.
    pub(crate) fn codes_bytes(&self) -> usize {
        self.codes().map_or(0, Codes::ram_bytes)
    }

    /// Removes an appendable segment's files once it is sealed (the mappings
    /// stay readable until dropped).
    pub(crate) fn remove_files(&self) {
        if let Self::Multivector { tokens, .. } = self {
            tokens.remove_file();
        }
        if let Vectors::File(file) = self.vectors() {
            let _ = std::fs::remove_file(file.path());
        }
    }

    /// Drops the vector file a rerank reads from the resident set after a
    /// pass over every vector (compact layouts).
    pub(crate) fn release_rerank_file(&self) {
        if let Self::Compact { vectors, .. } = self {
            vectors.release_resident();
        }
    }
}
