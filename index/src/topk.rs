//! The `k` best (score, offset) pairs of a scan, a rerank or a text search.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;

use crate::types::Offset;

#[derive(PartialEq)]
struct Scored(f32, Offset);

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    /// Reversed, so that a `BinaryHeap` keeps the worst of the best on top.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
    }
}

/// Keeps the `k` best (score, offset) pairs.
pub(crate) struct TopK {
    k: usize,
    heap: BinaryHeap<Scored>,
}

impl TopK {
    pub(crate) fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    pub(crate) fn push(&mut self, score: f32, offset: Offset) {
        if self.heap.len() < self.k {
            self.heap.push(Scored(score, offset));
        } else if self.heap.peek().is_some_and(|worst| score > worst.0) {
            self.heap.pop();
            self.heap.push(Scored(score, offset));
        }
    }

    /// The score a pair must beat to enter, once `k` are kept.
    pub(crate) fn threshold(&self) -> Option<f32> {
        (self.heap.len() >= self.k)
            .then(|| self.heap.peek().map(|worst| worst.0))
            .flatten()
    }

    pub(crate) fn into_sorted(self) -> Vec<(Offset, f32)> {
        let mut v: Vec<(Offset, f32)> = self.heap.into_iter().map(|s| (s.1, s.0)).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}
