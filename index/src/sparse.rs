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

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};
use crate::storage::{FileWriter, MappedFile, StorageError};
use crate::topk::TopK;
use crate::types::Offset;

/// Most weights a sparse vector may hold.
pub const MAX_NNZ: usize = 65_536;

/// The file kind of a sealed segment's sparse vector.
pub(crate) const KIND: [u8; 4] = *b"SSPV";
const VERSION: u16 = 1;
const HEADER: usize = 32;

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

/// The postings of one index in a segment: offsets ascending, their
/// weights, and the largest and smallest weight.
#[derive(Clone, Copy)]
pub(crate) struct Postings<'a> {
    pub(crate) docs: &'a [u32],
    pub(crate) values: &'a [f32],
    pub(crate) max: f32,
    pub(crate) min: f32,
}

/// One index's postings in the heap.
#[derive(Default)]
pub(crate) struct HeapList {
    docs: Vec<u32>,
    values: Vec<f32>,
    max: f32,
    min: f32,
}

/// One sparse vector's data in a segment.
pub(crate) enum SparseStore {
    /// The appendable segment's: forward vectors and postings in the heap.
    Heap {
        /// Per offset, where its weights start in `indices` and how many.
        spans: Vec<(u64, u32)>,
        indices: Vec<u32>,
        values: Vec<f32>,
        lists: HashMap<u32, HeapList>,
        holding: u64,
        /// Heap bytes, kept as points are pushed (read after every write).
        bytes: usize,
    },
    /// A sealed segment's mapped file (layout in the module's comment).
    Sealed {
        file: MappedFile,
        count: usize,
        nnz: usize,
        terms: usize,
        holding: u64,
    },
}

impl SparseStore {
    /// An empty store for the appendable segment.
    pub(crate) fn heap() -> Self {
        Self::Heap {
            spans: Vec::new(),
            indices: Vec::new(),
            values: Vec::new(),
            lists: HashMap::new(),
            holding: 0,
            bytes: 0,
        }
    }

    /// Appends the next offset's vector (heap stores only; `None` or empty:
    /// the point does not hold it).
    pub(crate) fn push(&mut self, vector: Option<&SparseVector>) {
        let Self::Heap {
            spans,
            indices,
            values,
            lists,
            holding,
            bytes,
        } = self
        else {
            return;
        };
        // A span, and per weight its forward entry and its posting.
        *bytes += std::mem::size_of::<(u64, u32)>();
        let offset = spans.len() as u32;
        let vector = vector.filter(|v| !v.is_empty());
        let n = vector.map_or(0, SparseVector::len);
        spans.push((indices.len() as u64, n as u32));
        if let Some(vector) = vector {
            *holding += 1;
            indices.extend_from_slice(&vector.indices);
            values.extend_from_slice(&vector.values);
            *bytes += 16 * vector.len();
            for (&t, &w) in vector.indices.iter().zip(&vector.values) {
                let list = lists.entry(t).or_insert_with(|| {
                    *bytes += std::mem::size_of::<HeapList>() + 8;
                    HeapList {
                        max: w,
                        min: w,
                        ..HeapList::default()
                    }
                });
                list.docs.push(offset);
                list.values.push(w);
                list.max = list.max.max(w);
                list.min = list.min.min(w);
            }
        }
    }

    /// Room for `n` more points of about `nnz` weights in all.
    pub(crate) fn reserve(&mut self, n: usize, nnz: usize) {
        if let Self::Heap {
            spans,
            indices,
            values,
            ..
        } = self
        {
            spans.reserve(n);
            indices.reserve(nnz);
            values.reserve(nnz);
        }
    }

    /// The weights of `offset`, if it holds the vector.
    pub(crate) fn get(&self, offset: Offset) -> Option<(&[u32], &[f32])> {
        let o = offset as usize;
        let (indices, values) = match self {
            Self::Heap {
                spans,
                indices,
                values,
                ..
            } => {
                let &(start, n) = spans.get(o)?;
                let range = start as usize..start as usize + n as usize;
                (&indices[range.clone()], &values[range])
            }
            Self::Sealed {
                file,
                count,
                nnz,
                terms,
                ..
            } => {
                if o >= *count {
                    return None;
                }
                let starts = &file.u64s(HEADER)[..*count + 1];
                let range = starts[o] as usize..starts[o + 1] as usize;
                let (fwd_indices, fwd_values, ..) = sections(*count, *nnz, *terms);
                (
                    &file.u32s(fwd_indices)[range.clone()],
                    &file.f32s(fwd_values)[range],
                )
            }
        };
        (!indices.is_empty()).then_some((indices, values))
    }

    /// The vector of `offset`, owned, if it holds one.
    pub(crate) fn vector(&self, offset: Offset) -> Option<SparseVector> {
        self.get(offset).map(|(i, v)| SparseVector {
            indices: i.to_vec(),
            values: v.to_vec(),
        })
    }

    /// The postings of index `term`, if any point of the segment holds it.
    pub(crate) fn postings(&self, term: u32) -> Option<Postings<'_>> {
        match self {
            Self::Heap { lists, .. } => lists.get(&term).map(|l| Postings {
                docs: &l.docs,
                values: &l.values,
                max: l.max,
                min: l.min,
            }),
            Self::Sealed {
                file,
                count,
                nnz,
                terms,
                ..
            } => {
                let (_, _, term_at, max_at, min_at, docs_at, weights_at) =
                    sections(*count, *nnz, *terms);
                let ids = &file.u32s(term_at)[..*terms];
                let i = ids.binary_search(&term).ok()?;
                let list_starts = &file.u64s(HEADER + 8 * (*count + 1))[..*terms + 1];
                let range = list_starts[i] as usize..list_starts[i + 1] as usize;
                Some(Postings {
                    docs: &file.u32s(docs_at)[range.clone()],
                    values: &file.f32s(weights_at)[range],
                    max: file.f32s(max_at)[i],
                    min: file.f32s(min_at)[i],
                })
            }
        }
    }

    /// Weights held by the segment's points (live or not).
    pub(crate) fn weights(&self) -> usize {
        match self {
            Self::Heap { indices, .. } => indices.len(),
            Self::Sealed { nnz, .. } => *nnz,
        }
    }

    /// Points of the segment holding the vector (live or not).
    pub(crate) fn holding(&self) -> u64 {
        match self {
            Self::Heap { holding, .. } | Self::Sealed { holding, .. } => *holding,
        }
    }

    /// Heap bytes (counted as points are pushed: a sum over every list
    /// would cost a pass over the vocabulary at every write).
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Self::Heap { bytes, .. } => *bytes,
            Self::Sealed { .. } => 0,
        }
    }

    /// Bytes of the mapped file.
    pub(crate) fn disk_bytes(&self) -> u64 {
        match self {
            Self::Heap { .. } => 0,
            Self::Sealed { file, .. } => file.len() as u64,
        }
    }

    /// Opens a sealed segment's file for `count` points, checking its shape
    /// (its checksum is the caller's: `verify`).
    pub(crate) fn open(path: &Path, count: usize, verify: bool) -> Result<Self> {
        let file = MappedFile::open(path, KIND, VERSION, true)?;
        if verify {
            file.verify()?;
        }
        let corrupt = |reason: &str| IndexError::from(StorageError::corrupt(path, reason));
        if file.len() < HEADER {
            return Err(corrupt("too short for its header"));
        }
        let header = &file.u64s(0)[..4];
        let stated = usize::try_from(header[0]).unwrap_or(usize::MAX);
        let nnz = usize::try_from(header[1]).unwrap_or(usize::MAX);
        let terms = usize::try_from(header[2]).unwrap_or(usize::MAX);
        let holding = header[3];
        if stated != count {
            return Err(corrupt("its count of points differs from the ids'"));
        }
        let expected = sections(count, nnz, terms)
            .6
            .checked_add(nnz.saturating_mul(4));
        if nnz > MAX_NNZ.saturating_mul(count) || terms > nnz || expected != Some(file.len()) {
            return Err(corrupt("its length does not fit its counts"));
        }
        let store = Self::Sealed {
            file,
            count,
            nnz,
            terms,
            holding,
        };
        store.check().map_err(|reason| corrupt(&reason))?;
        Ok(store)
    }

    /// Checks that a sealed file's tables are ordered and in bounds (reads
    /// trust them).
    fn check(&self) -> std::result::Result<(), String> {
        let Self::Sealed {
            file,
            count,
            nnz,
            terms,
            holding,
        } = self
        else {
            return Ok(());
        };
        let (count, nnz, terms) = (*count, *nnz, *terms);
        let ascending_to = |table: &[u64], end: usize| {
            table.first() == Some(&0)
                && table.last() == Some(&(end as u64))
                && table.windows(2).all(|w| w[0] <= w[1])
        };
        let starts = &file.u64s(HEADER)[..count + 1];
        let list_starts = &file.u64s(HEADER + 8 * (count + 1))[..terms + 1];
        if !ascending_to(starts, nnz) || !ascending_to(list_starts, nnz) {
            return Err("a table of starts is out of order or out of bounds".into());
        }
        let held = starts.windows(2).filter(|w| w[1] > w[0]).count() as u64;
        if held != *holding {
            return Err("its count of points holding the vector is wrong".into());
        }
        let (_, _, term_at, ..) = sections(count, nnz, terms);
        if file.u32s(term_at)[..terms].windows(2).any(|w| w[0] >= w[1]) {
            return Err("its indices are not ascending".into());
        }
        let (fwd_at, _, _, _, _, docs_at, _) = sections(count, nnz, terms);
        let docs = &file.u32s(docs_at)[..nnz];
        if docs.iter().any(|&d| d as usize >= count) {
            return Err("a posting names an offset past the segment's points".into());
        }
        // Searches rely on ascending postings and ascending indices.
        let ascending = |values: &[u32], table: &[u64]| {
            table.windows(2).all(|w| {
                values[w[0] as usize..w[1] as usize]
                    .windows(2)
                    .all(|p| p[0] < p[1])
            })
        };
        if !ascending(docs, list_starts) {
            return Err("a posting list is not in offset order".into());
        }
        if !ascending(&file.u32s(fwd_at)[..nnz], starts) {
            return Err("a point's indices are not ascending".into());
        }
        Ok(())
    }
}

/// Byte positions of a sealed file's sections for `count` points, `nnz`
/// weights and `terms` indices (see the module's comment).
fn sections(
    count: usize,
    nnz: usize,
    terms: usize,
) -> (usize, usize, usize, usize, usize, usize, usize) {
    let fwd_indices = HEADER + 8 * (count + 1) + 8 * (terms + 1);
    let fwd_values = fwd_indices + 4 * nnz;
    let term_ids = fwd_values + 4 * nnz;
    let max = term_ids + 4 * terms;
    let min = max + 4 * terms;
    let docs = min + 4 * terms;
    let weights = docs + 4 * nnz;
    (fwd_indices, fwd_values, term_ids, max, min, docs, weights)
}

/// What [`write`]'s source calls with each offset's vector.
pub(crate) type Visit<'a> = dyn FnMut(Option<(&[u32], &[f32])>) + 'a;

/// Writes the sparse vectors `each` yields, by offset (`None`: the point
/// does not hold it), into a sealed segment's file at `path`. `each` is
/// called several times and must yield the same vectors each time.
pub(crate) fn write(path: &Path, each: &dyn Fn(&mut Visit<'_>)) -> Result<()> {
    // Pass 1: counts.
    let (mut count, mut nnz, mut holding) = (0usize, 0usize, 0u64);
    let mut df: HashMap<u32, u32> = HashMap::new();
    each(&mut |v| {
        count += 1;
        if let Some((indices, _)) = v.filter(|v| !v.0.is_empty()) {
            holding += 1;
            nnz += indices.len();
            for &t in indices {
                *df.entry(t).or_default() += 1;
            }
        }
    });
    let mut terms: Vec<u32> = df.keys().copied().collect();
    terms.sort_unstable();
    let mut list_starts = Vec::with_capacity(terms.len() + 1);
    let mut position: HashMap<u32, usize> = HashMap::with_capacity(terms.len());
    let mut at = 0usize;
    for &t in &terms {
        list_starts.push(at as u64);
        position.insert(t, at);
        at += df[&t] as usize;
    }
    list_starts.push(at as u64);
    drop(df);
    // Pass 2: the postings, in the heap (8 bytes a weight), with each
    // index's extremes; offsets come in ascending order.
    let mut docs = vec![0u32; nnz];
    let mut weights = vec![0f32; nnz];
    let mut max = vec![f32::NEG_INFINITY; terms.len()];
    let mut min = vec![f32::INFINITY; terms.len()];
    let term_slot: HashMap<u32, usize> = terms.iter().enumerate().map(|(i, &t)| (t, i)).collect();
    let mut offset = 0u32;
    each(&mut |v| {
        if let Some((indices, values)) = v {
            for (&t, &w) in indices.iter().zip(values) {
                let at = position.get_mut(&t).expect("counted in the first pass");
                docs[*at] = offset;
                weights[*at] = w;
                *at += 1;
                let slot = term_slot[&t];
                max[slot] = max[slot].max(w);
                min[slot] = min[slot].min(w);
            }
        }
        offset += 1;
    });
    let mut out = FileWriter::create(path, KIND, VERSION)?;
    let io = |e: std::io::Error| IndexError::from(StorageError::io(path, e));
    let mut buffer: Vec<u8> = Vec::with_capacity(1 << 16);
    let flush = |buffer: &mut Vec<u8>, out: &mut FileWriter, force: bool| {
        if force || buffer.len() >= 1 << 16 {
            out.write_all(buffer).map_err(io)?;
            buffer.clear();
        }
        Ok::<(), IndexError>(())
    };
    for x in [count as u64, nnz as u64, terms.len() as u64, holding] {
        buffer.extend_from_slice(&x.to_le_bytes());
    }
    // Starts per offset.
    let mut start = 0u64;
    buffer.extend_from_slice(&start.to_le_bytes());
    let mut failed = None;
    each(&mut |v| {
        start += v.map_or(0, |v| v.0.len()) as u64;
        buffer.extend_from_slice(&start.to_le_bytes());
        if let Err(e) = flush(&mut buffer, &mut out, false) {
            failed.get_or_insert(e);
        }
    });
    for s in &list_starts {
        buffer.extend_from_slice(&s.to_le_bytes());
        flush(&mut buffer, &mut out, false)?;
    }
    each(&mut |v| {
        for t in v.map_or(&[][..], |v| v.0) {
            buffer.extend_from_slice(&t.to_le_bytes());
        }
        if let Err(e) = flush(&mut buffer, &mut out, false) {
            failed.get_or_insert(e);
        }
    });
    each(&mut |v| {
        for w in v.map_or(&[][..], |v| v.1) {
            buffer.extend_from_slice(&w.to_le_bytes());
        }
        if let Err(e) = flush(&mut buffer, &mut out, false) {
            failed.get_or_insert(e);
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let words = terms
        .iter()
        .map(|t| t.to_le_bytes())
        .chain(max.iter().map(|x| x.to_le_bytes()))
        .chain(min.iter().map(|x| x.to_le_bytes()))
        .chain(docs.iter().map(|x| x.to_le_bytes()))
        .chain(weights.iter().map(|x| x.to_le_bytes()));
    for word in words {
        buffer.extend_from_slice(&word);
        flush(&mut buffer, &mut out, false)?;
    }
    flush(&mut buffer, &mut out, true)?;
    out.finish()?;
    Ok(())
}

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

    use proptest::prelude::*;

    fn vector() -> impl Strategy<Value = SparseVector> {
        prop::collection::btree_map(0u32..40, -4.0f32..8.0, 0..16).prop_map(|m| {
            SparseVector::prepare(
                "v",
                m.keys().copied().collect(),
                m.values().copied().collect(),
            )
            .unwrap()
        })
    }

    proptest! {
        /// MaxScore keeps exactly the best `k` the exhaustive scan keeps
        /// (scores compared; ties may pick either point), whatever the
        /// weights' signs, the filter and `k`.
        #[test]
        fn max_score_equals_the_exhaustive_scan(
            points in prop::collection::vec(vector(), 0..400),
            query in vector(),
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

        /// A sealed file reads back the vectors and postings it was written from.
        #[test]
        fn sealed_files_read_back(points in prop::collection::vec(prop::option::of(vector()), 0..60)) {
            let dir = crate::storage::testdir::TestDir::new("sparse-file");
            let path = dir.join("sparse.s.bin");
            write(&path, &|f| {
                for p in &points {
                    f(p.as_ref().map(|v| (&v.indices[..], &v.values[..])));
                }
            })
            .unwrap();
            let sealed = SparseStore::open(&path, points.len(), true).unwrap();
            let mut heap = SparseStore::heap();
            for p in &points {
                heap.push(p.as_ref());
            }
            prop_assert_eq!(sealed.holding(), heap.holding());
            for o in 0..points.len() as Offset {
                prop_assert_eq!(sealed.vector(o), heap.vector(o));
            }
            for t in 0..64 {
                let (a, b) = (sealed.postings(t), heap.postings(t));
                prop_assert_eq!(a.is_some(), b.is_some());
                if let (Some(a), Some(b)) = (a, b) {
                    prop_assert_eq!(a.docs, b.docs);
                    prop_assert_eq!(a.values, b.values);
                    prop_assert_eq!((a.max, a.min), (b.max, b.min));
                }
            }
            prop_assert!(SparseStore::open(&path, points.len() + 1, false).is_err());
        }
    }
}
