//! One sparse vector's data in a segment: the appendable segment's in the
//! heap, a sealed segment's in one mapped file (layout in [`super`]).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use super::{MAX_NNZ, SparseVector};
use crate::error::{IndexError, Result};
use crate::storage::{FileWriter, MappedFile, StorageError};
use crate::types::Offset;

/// The file kind of a sealed segment's sparse vector.
pub(crate) const KIND: [u8; 4] = *b"SSPV";
const VERSION: u16 = 1;
const HEADER: usize = 32;

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A sealed file reads back the vectors and postings it was written from.
        #[test]
        fn sealed_files_read_back(points in prop::collection::vec(prop::option::of(crate::sparse::strategy()), 0..60)) {
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
