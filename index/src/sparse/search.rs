//! Top-k search of one segment's sparse vector: MaxScore over the postings,
//! or an exhaustive scan.

use super::SparseVector;
use super::store::{Postings, SparseStore};
use crate::topk::TopK;
use crate::types::Offset;

/// A query index's postings in one segment and its weight in the query.
pub(crate) type Term<'a> = (Postings<'a>, f32);

/// Offsets scored together by [`max_score`]: a block's scores fit in the
/// L1 cache.
const BLOCK: u32 = 4_096;

/// The `k` best offsets `accept` takes by `Σ weight · posting weight` over
/// `terms`, by MaxScore: lists sorted by the most each can add; once `k`
/// are kept, the lists whose bounds sum to at most the `k`-th score cannot
/// bring a new point on their own (non-essential), so only the others
/// propose candidates, and a candidate stops being scored once what is left
/// cannot lift it past the `k`-th. Exact (as [`exhaustive`]), up to
/// rounding.
///
/// The essential lists are read a block of offsets at a time, term at a
/// time, into a block of scores; the block's candidates are then completed
/// from the non-essential lists in offset order.
pub(crate) fn max_score(
    terms: &[Term<'_>],
    k: usize,
    accept: &dyn Fn(Offset) -> bool,
) -> Vec<(Offset, f32)> {
    max_score_in_blocks(terms, k, accept, BLOCK)
}

fn max_score_in_blocks(
    terms: &[Term<'_>],
    k: usize,
    accept: &dyn Fn(Offset) -> bool,
    block: u32,
) -> Vec<(Offset, f32)> {
    struct Cursor<'a> {
        docs: &'a [u32],
        values: &'a [f32],
        weight: f32,
        bound: f32,
        at: usize,
    }
    if k == 0 {
        return Vec::new();
    }
    let mut cursors: Vec<Cursor<'_>> = terms
        .iter()
        .filter(|(p, weight)| *weight != 0.0 && !p.docs.is_empty())
        .map(|(p, weight)| Cursor {
            docs: p.docs,
            values: p.values,
            weight: *weight,
            bound: (weight * p.max).max(weight * p.min).max(0.0),
            at: 0,
        })
        .collect();
    cursors.sort_by(|a, b| a.bound.total_cmp(&b.bound));
    // What lists 0..=i can add at most, slightly raised so that rounding
    // never prunes a point that belongs.
    let mut sum = 0.0f64;
    let prefix: Vec<f32> = cursors
        .iter()
        .map(|c| {
            sum += f64::from(c.bound);
            (sum * (1.0 + 1e-5)) as f32
        })
        .collect();
    let n = cursors.len();
    let last = cursors
        .iter()
        .filter_map(|c| c.docs.last().copied())
        .max()
        .unwrap_or(0);
    let mut top = TopK::new(k);
    let mut threshold = f32::NEG_INFINITY;
    // Lists before `first` are non-essential (it only grows: the threshold
    // only rises).
    let mut first = 0;
    let words = (block as usize).div_ceil(64);
    let mut scores = vec![0.0f32; block as usize];
    let mut touched = vec![0u64; words];
    let mut start = 0u32;
    while first < n && start <= last {
        let end = start.saturating_add(block);
        for c in &mut cursors[first..] {
            while let Some(&d) = c.docs.get(c.at) {
                if d >= end {
                    break;
                }
                let local = (d - start) as usize;
                scores[local] += c.weight * c.values[c.at];
                touched[local / 64] |= 1 << (local % 64);
                c.at += 1;
            }
        }
        for (w, word) in touched.iter_mut().enumerate() {
            let mut bits = std::mem::take(word);
            while bits != 0 {
                let local = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let doc = start + local as u32;
                let mut score = std::mem::take(&mut scores[local]);
                let mut pruned = false;
                // A list that turned non-essential within this block has
                // already given this block's points their share: its cursor
                // is past them.
                for i in (0..first).rev() {
                    if score + prefix[i] <= threshold {
                        pruned = true;
                        break;
                    }
                    let c = &mut cursors[i];
                    c.at += c.docs[c.at..].partition_point(|&d| d < doc);
                    if c.docs.get(c.at) == Some(&doc) {
                        score += c.weight * c.values[c.at];
                    }
                }
                if pruned || score <= threshold || !accept(doc) {
                    continue;
                }
                top.push(score, doc);
                if let Some(t) = top.threshold() {
                    threshold = t;
                    while first < n && prefix[first] <= threshold {
                        first += 1;
                    }
                }
            }
        }
        start = end;
        if end == u32::MAX {
            break;
        }
    }
    top.into_sorted()
}

/// The `k` best of `offsets` that `accept` takes, by the dot product of
/// their vectors in `store` with `query`, scoring every one (the exact
/// scan).
pub(crate) fn exhaustive(
    store: &SparseStore,
    query: &SparseVector,
    offsets: impl Iterator<Item = Offset>,
    k: usize,
    accept: &dyn Fn(Offset) -> bool,
) -> Vec<(Offset, f32)> {
    let mut top = TopK::new(k);
    if k == 0 || query.is_empty() {
        return Vec::new();
    }
    for o in offsets {
        let Some((indices, values)) = store.get(o) else {
            continue;
        };
        // Points sharing no index with the query are not candidates.
        let mut shared = false;
        let (mut i, mut j, mut score) = (0, 0, 0.0f32);
        while i < indices.len() && j < query.indices.len() {
            match indices[i].cmp(&query.indices[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    shared = true;
                    score += query.values[j] * values[i];
                    i += 1;
                    j += 1;
                }
            }
        }
        if shared && top.threshold().is_none_or(|t| score > t) && accept(o) {
            top.push(score, o);
        }
    }
    top.into_sorted()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// MaxScore keeps exactly the best `k` the exhaustive scan keeps
        /// (scores compared; ties may pick either point), whatever the
        /// weights' signs, the filter and `k`.
        #[test]
        fn max_score_equals_the_exhaustive_scan(
            points in prop::collection::vec(crate::sparse::strategy(), 0..400),
            query in crate::sparse::strategy(),
            k in 1usize..20,
            modulus in 1u32..4,
            block in prop::sample::select(vec![1u32, 7, 64, 100, BLOCK]),
        ) {
            let mut store = SparseStore::heap();
            for p in &points {
                store.push(Some(p));
            }
            let accept = |o: Offset| o.is_multiple_of(modulus);
            let terms: Vec<Term<'_>> = query
                .indices
                .iter()
                .zip(&query.values)
                .filter_map(|(&t, &w)| store.postings(t).map(|p| (p, w)))
                .collect();
            let pruned = max_score_in_blocks(&terms, k, &accept, block);
            let exact = exhaustive(&store, &query, 0..points.len() as Offset, k, &accept);
            prop_assert_eq!(pruned.len(), exact.len(), "{:?} vs {:?}", pruned, exact);
            for (a, b) in pruned.iter().zip(&exact) {
                prop_assert!((a.1 - b.1).abs() <= 1e-4 * b.1.abs().max(1.0), "{:?} vs {:?}", pruned, exact);
                prop_assert!(accept(a.0));
                let direct = points[a.0 as usize].dot(&query);
                prop_assert!((a.1 - direct).abs() <= 1e-4 * direct.abs().max(1.0));
            }
        }

    }
}
