//! Sparse vectors (SPLADE-style term weights, or any `{indices, values}`
//! weights a user brings): per segment an inverted index scored by dot
//! product, searched with MaxScore pruning, and the forward vectors for
//! exact scans, merges and reads.
//!
//! A sealed segment keeps each sparse vector in one mapped file
//! (`sparse.<name>.bin`, kind `SSPV`):
//!
//! ```text
//! count:u64 nnz:u64 terms:u64 holding:u64
//! starts:u64*(count+1)              offset o's entries: starts[o]..starts[o+1]
//! list_starts:u64*(terms+1)         term i's postings: list_starts[i]..list_starts[i+1]
//! indices:u32*nnz values:f32*nnz    the forward vectors, by offset
//! terms:u32*terms (ascending) max:f32*terms min:f32*terms
//! docs:u32*nnz weights:f32*nnz      the postings, by term, offsets ascending
//! ```
//!
//! A zero weight is the same as an absent index (it is dropped when a vector
//! is prepared), and a vector with no weight left is the same as none: it is
//! never a candidate. Scores are `Σ query[t] · point[t]` over the indices
//! both hold; with IDF the query's weights are first multiplied by BM25's
//! `ln(1 + (N − df + 0.5) / (df + 0.5))`, `N` the points holding the vector
//! and `df` those holding the index, over every segment of the collection
//! (a deleted or replaced point's old vector counts until its segment is
//! sealed or merged, as in tantivy).

mod search;
mod store;

use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};

pub(crate) use search::{Term, exhaustive, max_score};
pub(crate) use store::{KIND, SparseStore, write};

/// Most weights a sparse vector may hold.
pub const MAX_NNZ: usize = 65_536;

/// A sparse vector: ascending unique indices and their non-zero weights.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SparseVector {
    /// The indices (terms, dimensions), ascending.
    pub indices: Vec<u32>,
    /// Their weights.
    pub values: Vec<f32>,
}

impl SparseVector {
    /// Checks a vector as given (`field` names it in errors): as many
    /// indices as values, at most [`MAX_NNZ`], finite weights, no index
    /// twice; returns it sorted by index without its zero weights.
    pub fn prepare(field: &str, indices: Vec<u32>, values: Vec<f32>) -> Result<Self> {
        let invalid = |reason: String| IndexError::InvalidVector {
            field: field.to_string(),
            reason,
        };
        if indices.len() != values.len() {
            return Err(invalid(format!(
                "{} indices but {} values: give one value per index",
                indices.len(),
                values.len()
            )));
        }
        if indices.len() > MAX_NNZ {
            return Err(invalid(format!(
                "{} weights: a sparse vector holds at most {MAX_NNZ}",
                indices.len()
            )));
        }
        if let Some(i) = values.iter().position(|x| !x.is_finite()) {
            return Err(invalid(format!(
                "values[{i}] is {} (only finite numbers are allowed)",
                values[i]
            )));
        }
        let mut pairs: Vec<(u32, f32)> = indices.into_iter().zip(values).collect();
        pairs.sort_unstable_by_key(|p| p.0);
        if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(invalid(format!(
                "index {} appears twice: give each index once",
                w[0].0
            )));
        }
        pairs.retain(|p| p.1 != 0.0);
        Ok(Self {
            indices: pairs.iter().map(|p| p.0).collect(),
            values: pairs.iter().map(|p| p.1).collect(),
        })
    }

    /// Weights held.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// True when it holds no weight.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Its dot product with another (both prepared).
    pub fn dot(&self, other: &SparseVector) -> f32 {
        dot(&self.indices, &self.values, &other.indices, &other.values)
    }
}

/// The dot product of two sparse vectors given as ascending indices and
/// their weights.
pub fn dot(ai: &[u32], av: &[f32], bi: &[u32], bv: &[f32]) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0f32);
    while i < ai.len() && j < bi.len() {
        match ai[i].cmp(&bi[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += av[i] * bv[j];
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

/// A sparse vector of a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SparseConfig {
    /// Weigh each query index by its inverse document frequency over the
    /// collection (for term weights that carry no rarity of their own, such
    /// as raw term counts; SPLADE's weights already do).
    #[serde(default)]
    pub idf: bool,
}

/// BM25's inverse document frequency of an index held by `df` of `n` points.
pub fn idf(n: u64, df: u64) -> f32 {
    let (n, df) = (n as f64, df.min(n) as f64);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln() as f32
}

/// Random prepared vectors over 40 indices with signed weights (tests).
#[cfg(test)]
fn strategy() -> impl proptest::strategy::Strategy<Value = SparseVector> {
    use proptest::prelude::*;
    prop::collection::btree_map(0u32..40, -4.0f32..8.0, 0..16).prop_map(|m| {
        SparseVector::prepare(
            "v",
            m.keys().copied().collect(),
            m.values().copied().collect(),
        )
        .unwrap()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_checked_sorted_and_lose_their_zeros() {
        let v = SparseVector::prepare("v", vec![9, 2, 5], vec![1.5, -2.0, 0.0]).unwrap();
        assert_eq!(v.indices, [2, 9]);
        assert_eq!(v.values, [-2.0, 1.5]);
        for (indices, values, says) in [
            (vec![1, 2], vec![1.0], "2 indices but 1 values"),
            (vec![3, 3], vec![1.0, 2.0], "index 3 appears twice"),
            (vec![1], vec![f32::NAN], "values[0] is NaN"),
        ] {
            let err = SparseVector::prepare("q.sparse", indices, values)
                .unwrap_err()
                .to_string();
            assert!(err.contains(says) && err.contains("q.sparse"), "{err}");
        }
        let a = SparseVector::prepare("a", vec![1, 3, 7], vec![1.0, 2.0, 3.0]).unwrap();
        let b = SparseVector::prepare("b", vec![3, 7, 8], vec![0.5, 2.0, 9.0]).unwrap();
        assert_eq!(a.dot(&b), 7.0);
        assert!(idf(100, 1) > idf(100, 50));
        assert!(idf(100, 100) > 0.0);
    }
}
