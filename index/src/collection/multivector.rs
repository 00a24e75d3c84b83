//! Multi-vector points (ColBERT-style token sets): the fine side on disk, the
//! MUVERA encoding in memory.
//!
//! A point of a `multivector` collection is a set of token vectors. Its
//! document FDE ([`crate::muvera`]) is what the heap holds and the graph links
//! (dot product); its token vectors go to a memory-mapped file, one row per
//! token, that only the rerank reads: a search takes `limit × oversample`
//! candidates by FDE dot product and reranks them by exact Chamfer
//! similarity. The log and snapshots store the token vectors; the FDE is
//! derived from them (deterministically, from the seed in the collection's
//! config) when they are applied.

use super::point_ops::prepare_vector;
use crate::distance::Metric;
use crate::error::{IndexError, Result};
use crate::graph::Scorer;
use crate::muvera::chamfer;
use crate::storage::{MappedFile, StorageError, VectorFile};
use crate::types::Offset;

/// Most token vectors one point or query may hold.
pub const MAX_TOKENS: usize = 8_192;

/// Where the token rows are.
enum TokenRows {
    /// The appendable segment's growing file.
    Growing(VectorFile),
    /// A sealed segment's file.
    Sealed(MappedFile),
}

/// Every point's token vectors: rows of a memory-mapped file, and where each
/// point's rows are.
pub(crate) struct TokenStore {
    rows: TokenRows,
    dims: usize,
    /// Per offset: first row and number of rows.
    spans: Vec<(u64, u32)>,
}

impl TokenStore {
    /// An empty store over a new (or emptied) file at `path`.
    pub(crate) fn create(path: &std::path::Path, dims: usize) -> Result<Self, StorageError> {
        Ok(Self {
            rows: TokenRows::Growing(VectorFile::create(path, dims)?),
            dims,
            spans: Vec::new(),
        })
    }

    /// A sealed store: `file`'s body holds the rows, `spans` where each
    /// offset's are (checked to lie inside the file).
    pub(crate) fn sealed(
        file: MappedFile,
        dims: usize,
        spans: Vec<(u64, u32)>,
    ) -> Result<Self, String> {
        let rows = (file.len() / 4 / dims.max(1)) as u64;
        if let Some(i) = spans
            .iter()
            .position(|&(start, n)| start.saturating_add(u64::from(n)) > rows)
        {
            return Err(format!(
                "token span {i} lies past the {rows} rows of the file"
            ));
        }
        Ok(Self {
            rows: TokenRows::Sealed(file),
            dims,
            spans,
        })
    }

    /// Makes room for `rows` more token rows and `points` more spans.
    pub(crate) fn reserve(&mut self, points: usize, rows: usize) -> Result<(), StorageError> {
        self.spans.reserve(points);
        match &mut self.rows {
            TokenRows::Growing(file) => file.reserve(rows),
            TokenRows::Sealed(_) => Ok(()),
        }
    }

    /// Appends the next offset's tokens (flattened, `dims` floats each);
    /// only an appendable segment's store grows.
    pub(crate) fn push(&mut self, tokens: &[f32]) -> Result<(), StorageError> {
        let TokenRows::Growing(file) = &mut self.rows else {
            return Ok(());
        };
        let rows = tokens.len() / self.dims;
        file.reserve(rows)?;
        let start = file.len() as u64;
        file.push_rows(tokens)?;
        self.spans.push((start, rows as u32));
        Ok(())
    }

    /// The tokens of `offset`, flattened.
    #[inline]
    pub(crate) fn get(&self, offset: Offset) -> &[f32] {
        let (start, n) = self.spans[offset as usize];
        match &self.rows {
            TokenRows::Growing(file) => file.rows(start as usize, n as usize),
            TokenRows::Sealed(file) => {
                let from = start as usize * self.dims;
                &file.f32s(0)[from..from + n as usize * self.dims]
            }
        }
    }

    /// Floats per token.
    pub(crate) fn dims(&self) -> usize {
        self.dims
    }

    /// Token rows stored (tombstones included).
    pub(crate) fn rows(&self) -> usize {
        match &self.rows {
            TokenRows::Growing(file) => file.len(),
            TokenRows::Sealed(file) => file.len() / 4 / self.dims.max(1),
        }
    }

    /// Removes a growing store's file (its segment is sealed; the mapping
    /// stays readable until dropped).
    pub(crate) fn remove_file(&self) {
        if let TokenRows::Growing(file) = &self.rows {
            let _ = std::fs::remove_file(file.path());
        }
    }

    pub(crate) fn ram_bytes(&self) -> usize {
        self.spans.capacity() * std::mem::size_of::<(u64, u32)>()
    }

    pub(crate) fn disk_bytes(&self) -> u64 {
        match &self.rows {
            TokenRows::Growing(file) => file.disk_bytes(),
            TokenRows::Sealed(file) => file.len() as u64,
        }
    }
}

/// Checks a token set (flattened rows of `dims`): at least one token, whole
/// rows, at most [`MAX_TOKENS`], finite values; each token is normalised for
/// cosine, as a single vector would be.
pub(crate) fn prepare_tokens(
    field: &str,
    mut tokens: Vec<f32>,
    dims: usize,
    metric: Metric,
) -> Result<Vec<f32>> {
    if tokens.is_empty() {
        return Err(IndexError::InvalidVector {
            field: field.to_string(),
            reason: "a multi-vector needs at least one token vector".into(),
        });
    }
    if !tokens.len().is_multiple_of(dims) {
        return Err(IndexError::DimensionMismatch {
            field: field.to_string(),
            expected: dims,
            got: tokens.len() % dims,
        });
    }
    let rows = tokens.len() / dims;
    if rows > MAX_TOKENS {
        return Err(IndexError::LimitExceeded {
            field: field.to_string(),
            limit: MAX_TOKENS,
            got: rows,
        });
    }
    for (i, row) in tokens.chunks_exact_mut(dims).enumerate() {
        let prepared = prepare_vector(&format!("{field}[{i}]"), row.to_vec(), dims, metric)?;
        row.copy_from_slice(&prepared);
    }
    Ok(tokens)
}

/// Exact Chamfer similarity of a query's tokens against stored points' tokens.
pub(crate) struct ChamferScorer<'a> {
    pub(crate) query: &'a [f32],
    pub(crate) dims: usize,
    pub(crate) store: &'a TokenStore,
}

impl Scorer for ChamferScorer<'_> {
    #[inline]
    fn score(&self, o: Offset) -> f32 {
        chamfer(self.query, self.store.get(o), self.dims)
    }

    #[inline]
    fn prefetch(&self, o: Offset) {
        crate::distance::prefetch(self.store.get(o));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testdir::TestDir;

    #[test]
    fn token_sets_of_any_length_read_back_by_offset() {
        let dir = TestDir::new("tokens");
        let mut store = TokenStore::create(&dir.path().join("tokens.f32"), 2).unwrap();
        store.push(&[1.0, 2.0]).unwrap();
        store.push(&[3.0, 4.0, 5.0, 6.0, 7.0, 8.0]).unwrap();
        for i in 0..2_000 {
            store.push(&[i as f32, 0.5]).unwrap();
        }
        assert_eq!(store.get(0), &[1.0, 2.0]);
        assert_eq!(store.get(1), &[3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        assert_eq!(store.get(2_001), &[1_999.0, 0.5]);
        assert_eq!(store.rows(), 2_004);
    }

    #[test]
    fn bad_token_sets_are_refused_naming_the_token() {
        let err = |v: Vec<f32>| {
            prepare_tokens("multivector", v, 2, Metric::Cosine)
                .unwrap_err()
                .to_string()
        };
        assert!(err(vec![]).contains("at least one token"));
        assert!(err(vec![1.0, 0.0, 1.0]).contains("expected 2 dimensions"));
        assert!(err(vec![1.0, 0.0, f32::NAN, 1.0]).contains("multivector[1]"));
        assert!(err(vec![1.0, 0.0, 0.0, 0.0]).contains("zero vector"));
        let too_many = vec![1.0; 2 * (MAX_TOKENS + 1)];
        assert!(err(too_many).contains("exceeds the limit"));
        let ok = prepare_tokens("m", vec![3.0, 4.0, 0.0, 2.0], 2, Metric::Cosine).unwrap();
        assert_eq!(ok, vec![0.6, 0.8, 0.0, 1.0]);
    }
}
