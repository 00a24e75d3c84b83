//! The points of one segment, by offset: ids, stored vectors, compact codes,
//! token vectors, payloads.
//!
//! The appendable segment keeps everything in the heap (its token vectors in
//! a file it rewrites at start-up) and takes writes; a sealed segment's
//! points come from its files ([`super::segment`]): full vectors, token
//! vectors and payloads stay in read-only mapped files, codes and ids are
//! read into the heap.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use roaring::RoaringBitmap;

use super::store::VectorStore;
use super::{CollectionConfig, Layout, VectorConfig};
use crate::codes::{CodeSpec, Codes};
use crate::error::{IndexError, Result};
use crate::graph::{BuildSpace, ByteSpace, Space};
use crate::muvera::Fde;
use crate::payload_index::PayloadIndex;
use crate::sparse::{SparseStore, SparseVector};
use crate::storage::{MappedFile, StorageError};
use crate::text::TextIndex;
use crate::types::{Offset, Payload, PointId};

/// Payloads by offset, as compact JSON: one buffer, not a map per point (a
/// parsed payload costs hundreds of heap bytes in small allocations, which
/// also fragment the heap once a sealed segment frees them).
pub(crate) enum Payloads {
    /// In the heap (the appendable segment): the JSON of each payload one
    /// after another, and each offset's `(start, length)` in it (length 0:
    /// no payload, or removed).
    Heap {
        json: Vec<u8>,
        spans: Vec<(u64, u32)>,
    },
    /// A sealed segment's file: JSON objects one after another (padded to 8
    /// bytes), then `count + 1` little-endian `u64` starts, then `count`.
    Disk { file: MappedFile, count: usize },
}

impl Payloads {
    /// An empty heap store.
    pub(crate) fn heap() -> Self {
        Self::Heap {
            json: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// The JSON of the payload of `offset`, if it has one.
    pub(crate) fn raw(&self, offset: Offset) -> Option<&[u8]> {
        let o = offset as usize;
        let bytes = match self {
            Self::Heap { json, spans } => {
                let &(start, len) = spans.get(o)?;
                json.get(start as usize..start as usize + len as usize)?
            }
            Self::Disk { file, count } => {
                if o >= *count {
                    return None;
                }
                let table = file.len() - 8 * (*count + 2);
                let starts = &file.u64s(table)[..*count + 1];
                file.body()
                    .get(starts[o] as usize..starts[o + 1] as usize)?
            }
        };
        (!bytes.is_empty()).then_some(bytes)
    }

    /// The payload of `offset`, parsed.
    pub(crate) fn get(&self, offset: Offset) -> Option<Cow<'_, Payload>> {
        let bytes = self.raw(offset)?;
        match serde_json::from_slice(bytes) {
            Ok(payload) => Some(Cow::Owned(payload)),
            Err(error) => {
                // Heap payloads were serialised here, and the file passed its
                // checksum when it was opened.
                tracing::error!(%error, offset, "a stored payload does not parse");
                None
            }
        }
    }

    /// The payloads of `offsets` (ascending), parsed one at a time. A sealed
    /// segment's file is dropped from the resident set behind the pass, every
    /// [`RELEASE_BEHIND`] bytes and when the pass ends: reading every payload
    /// (a payload index rebuilt at open or for a new field) never makes the
    /// whole file resident (8 MB at 200,000 small payloads).
    pub(crate) fn scan<I: Iterator<Item = Offset>>(&self, offsets: I) -> PayloadScan<'_, I> {
        PayloadScan {
            payloads: self,
            offsets,
            released: 0,
            table_released: None,
        }
    }

    /// Where the payload of `offset` starts in a sealed segment's file, and
    /// where its entry in the table of starts is.
    fn file_position(&self, offset: Offset) -> Option<(usize, usize)> {
        let Self::Disk { file, count } = self else {
            return None;
        };
        let o = (offset as usize).min(*count);
        let table = file.len() - 8 * (*count + 2);
        Some((file.u64s(table)[o] as usize, table + 8 * o))
    }

    /// Drops a sealed segment's payload file from the resident set after a
    /// pass over every payload.
    pub(crate) fn release_resident(&self) {
        if let Self::Disk { file, .. } = self {
            file.release_resident();
        }
    }

    /// Appends the next offset's payload (heap stores only).
    fn push(&mut self, payload: Option<&Payload>) {
        if let Self::Heap { json, spans } = self {
            let start = json.len();
            if let Some(payload) = payload
                && serde_json::to_writer(&mut *json, payload).is_err()
            {
                // A `Map` of JSON values always serialises; keep the store aligned.
                json.truncate(start);
            }
            let len = u32::try_from(json.len() - start).unwrap_or_else(|_| {
                tracing::error!("a payload of 4 GiB or more is not stored");
                json.truncate(start);
                0
            });
            spans.push((start as u64, len));
        }
    }

    /// Forgets the payload of `offset` (heap stores only), returning it.
    fn take(&mut self, offset: Offset) -> Option<Payload> {
        let payload = self.get(offset).map(Cow::into_owned);
        if let Self::Heap { spans, .. } = self
            && let Some(span) = spans.get_mut(offset as usize)
        {
            span.1 = 0;
        }
        payload
    }

    /// Heap bytes.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Self::Heap { json, spans } => {
                json.capacity() + spans.capacity() * std::mem::size_of::<(u64, u32)>()
            }
            Self::Disk { .. } => 0,
        }
    }

    /// Bytes of the payload file.
    pub(crate) fn disk_bytes(&self) -> u64 {
        match self {
            Self::Heap { .. } => 0,
            Self::Disk { file, .. } => file.len() as u64,
        }
    }
}

/// Bytes of a payload file a [`Payloads::scan`] reads before it drops them
/// from the resident set.
const RELEASE_BEHIND: usize = 1 << 20;

/// A pass over payloads in offset order (see [`Payloads::scan`]).
pub(crate) struct PayloadScan<'a, I> {
    payloads: &'a Payloads,
    offsets: I,
    /// Body bytes before this one are released.
    released: usize,
    /// ... and the table's before this one.
    table_released: Option<usize>,
}

impl<'a, I: Iterator<Item = Offset>> Iterator for PayloadScan<'a, I> {
    type Item = (Offset, Cow<'a, Payload>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let offset = self.offsets.next()?;
            if let (Some((at, entry)), Payloads::Disk { file, .. }) =
                (self.payloads.file_position(offset), self.payloads)
                && at >= self.released + RELEASE_BEHIND
            {
                file.release_range(self.released, at);
                self.released = at;
                let table = *self.table_released.get_or_insert(entry);
                file.release_range(table, entry);
                self.table_released = Some(entry);
            }
            if let Some(payload) = self.payloads.get(offset) {
                return Some((offset, payload));
            }
        }
    }
}

impl<I> Drop for PayloadScan<'_, I> {
    fn drop(&mut self) {
        // The table of starts and the tail of the body.
        self.payloads.release_resident();
    }
}

/// Ids by offset: 8 bytes a point while every id is a number (the usual
/// case), the general form once one is not.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum IdColumn {
    Num(Vec<u64>),
    Any(Vec<PointId>),
}

impl Default for IdColumn {
    fn default() -> Self {
        Self::Num(Vec::new())
    }
}

impl IdColumn {
    /// Room for `n` ids.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self::Num(Vec::with_capacity(n))
    }

    /// The id at `offset` (which must be below [`IdColumn::len`]).
    #[inline]
    pub(crate) fn get(&self, offset: Offset) -> PointId {
        match self {
            Self::Num(ids) => PointId::Num(ids[offset as usize]),
            Self::Any(ids) => ids[offset as usize].clone(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Num(ids) => ids.len(),
            Self::Any(ids) => ids.len(),
        }
    }

    pub(crate) fn push(&mut self, id: PointId) {
        match (&mut *self, id) {
            (Self::Num(ids), PointId::Num(n)) => ids.push(n),
            (Self::Num(ids), other) => {
                let mut any: Vec<PointId> = Vec::with_capacity(ids.capacity().max(ids.len() + 1));
                any.extend(ids.iter().map(|&n| PointId::Num(n)));
                any.push(other);
                *self = Self::Any(any);
            }
            (Self::Any(ids), id) => ids.push(id),
        }
    }

    /// Heap bytes.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Self::Num(ids) => ids.capacity() * 8,
            Self::Any(ids) => {
                // String ids: their bytes and the `Arc`'s two counts.
                let strings: usize = ids
                    .iter()
                    .map(|id| match id {
                        PointId::Str(s) => s.len() + 16,
                        _ => 0,
                    })
                    .sum();
                ids.capacity() * std::mem::size_of::<PointId>() + strings
            }
        }
    }
}

/// The points of one segment.
///
/// In the appendable segment `live` and `payload_index` are its own and
/// follow every write. A sealed segment's points never change: its live
/// offsets and payload index are held by the segment set
/// ([`super::segment::SealedEntry`]), and here `live` holds every offset it
/// was sealed with and `payload_index` is empty.
pub(crate) struct Points {
    /// Live ids (the appendable segment); empty in sealed segments, which
    /// use `sorted`.
    pub(crate) ids: HashMap<PointId, Offset>,
    /// Sealed segments: every offset, ordered by its id (4 bytes a point
    /// instead of a hash map's ~40), searched by bisection.
    pub(crate) sorted: Vec<Offset>,
    pub(crate) by_offset: IdColumn,
    /// One store per vector of the collection, in the config's order.
    pub(crate) stores: Vec<VectorStore>,
    /// Per vector, the offsets that do not hold it (their slot in its store
    /// is a placeholder, never searched nor linked in its graph).
    pub(crate) absent: Vec<RoaringBitmap>,
    pub(crate) payloads: Payloads,
    pub(crate) live: RoaringBitmap,
    pub(crate) payload_index: PayloadIndex,
    /// The full-text index of the collection's text field (collections with
    /// a [`crate::text::TextConfig`]); the appendable segment's in memory.
    pub(crate) text: Option<TextIndex>,
    /// One store per sparse vector of the collection, in the config's order.
    pub(crate) sparse: Vec<SparseStore>,
}

/// The MUVERA encoder of a multivector vector, `None` otherwise.
pub(crate) fn fde_of(config: &VectorConfig) -> Result<Option<Arc<Fde>>> {
    match (config.layout, config.muvera) {
        (Layout::Multivector, Some(params)) => Fde::new(params, config.dims)
            .map(|fde| Some(Arc::new(fde)))
            .map_err(|reason| IndexError::InvalidParameter {
                field: "vector.muvera".into(),
                reason,
            }),
        _ => Ok(None),
    }
}

/// Where the appendable segment whose files start at `base` keeps the
/// token or vector file of the vector named `name` (`base` itself for the
/// unnamed vector).
pub(crate) fn store_path(base: &Path, name: &str) -> std::path::PathBuf {
    if name.is_empty() {
        return base.to_path_buf();
    }
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = base
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    base.with_file_name(format!("{stem}-{name}.{ext}"))
}

impl Points {
    /// An empty appendable segment for `config`; a multivector layout
    /// (re)creates its token file at `token_path` (named vectors: beside
    /// it, see [`store_path`]), a compact layout its vector file beside it.
    pub(crate) fn new(config: &CollectionConfig, token_path: &Path) -> Result<Self> {
        let stores = config
            .vectors
            .iter()
            .map(|(name, vector)| VectorStore::appendable(vector, &store_path(token_path, name)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            ids: HashMap::new(),
            sorted: Vec::new(),
            by_offset: IdColumn::default(),
            absent: vec![RoaringBitmap::new(); stores.len()],
            stores,
            payloads: Payloads::heap(),
            live: RoaringBitmap::new(),
            payload_index: PayloadIndex::new(&config.payload_schema),
            text: config
                .text
                .as_ref()
                .map(|text| TextIndex::appendable(text, token_path))
                .transpose()?,
            sparse: config.sparse.keys().map(|_| SparseStore::heap()).collect(),
        })
    }

    /// Room for a batch's vectors (and tokens), so that applying it cannot
    /// then fail for want of disk.
    pub(crate) fn reserve(
        &mut self,
        batch: &[super::record::LoggedPoint],
    ) -> Result<(), StorageError> {
        for (v, store) in self.stores.iter_mut().enumerate() {
            let token_rows = match store.tokens() {
                Some((tokens, _)) => batch
                    .iter()
                    .map(|p| p.vector(v).map_or(0, |x| x.len() / tokens.dims()))
                    .sum(),
                None => 0,
            };
            store.reserve(batch.len(), token_rows)?;
        }
        for (s, store) in self.sparse.iter_mut().enumerate() {
            let nnz = batch
                .iter()
                .map(|p| p.sparse_vector(s).map_or(0, SparseVector::len))
                .sum();
            store.reserve(batch.len(), nnz);
        }
        Ok(())
    }

    /// The offset holding `id` (live or not, in a sealed segment).
    #[inline]
    pub(crate) fn offset_of(&self, id: &PointId) -> Option<Offset> {
        if self.sorted.is_empty() {
            return self.ids.get(id).copied();
        }
        let at = self
            .sorted
            .binary_search_by(|&o| self.by_offset.get(o).cmp(id))
            .ok()?;
        Some(self.sorted[at])
    }

    /// Offsets used (live or not).
    pub(crate) fn len(&self) -> usize {
        self.by_offset.len()
    }

    /// The store of vector `v` (its index in the config).
    #[inline]
    pub(crate) fn store(&self, v: usize) -> &VectorStore {
        &self.stores[v]
    }

    /// Every stored vector of `offset`, in the config's order (as a log
    /// record holds them).
    pub(crate) fn stored_all(&self, offset: Offset) -> Vec<Option<Vec<f32>>> {
        (0..self.stores.len())
            .map(|v| self.stored_if(v, offset).map(<[f32]>::to_vec))
            .collect()
    }

    /// Every sparse vector of `offset`, in the config's order.
    pub(crate) fn sparse_all(&self, offset: Offset) -> Vec<Option<SparseVector>> {
        self.sparse.iter().map(|s| s.vector(offset)).collect()
    }

    /// The stored vector `v` of `offset`, if it holds one.
    pub(crate) fn stored_if(&self, v: usize, offset: Offset) -> Option<&[f32]> {
        (!self.absent[v].contains(offset)).then(|| self.stores[v].stored(offset))
    }

    /// The offsets of the segment that hold vector `v`.
    pub(crate) fn holding(&self, v: usize) -> Vec<Offset> {
        let absent = &self.absent[v];
        (0..self.len() as Offset)
            .filter(|o| !absent.contains(*o))
            .collect()
    }

    /// Whether a stored vector of `len` floats fits vector `v`'s layout.
    pub(crate) fn fits(&self, v: usize, len: usize) -> bool {
        self.stores[v].fits(len)
    }

    /// Bytes the segment's stored vectors take (the sealing threshold's measure).
    pub(crate) fn stored_bytes(&self) -> usize {
        self.stores
            .iter()
            .map(VectorStore::stored_bytes)
            .sum::<usize>()
            + self
                .sparse
                .iter()
                .map(SparseStore::heap_bytes)
                .sum::<usize>()
    }

    /// Appends a point (live, indexed) at the next offset; the caller has
    /// removed any previous version of its id.
    pub(crate) fn push(
        &mut self,
        id: PointId,
        stored: &[Option<&[f32]>],
        sparse: &[Option<&SparseVector>],
        payload: Option<Payload>,
    ) -> Result<(), StorageError> {
        let Ok(offset) = Offset::try_from(self.len()) else {
            tracing::error!("segment is full: 2^32 offsets used");
            return Ok(());
        };
        debug_assert_eq!(stored.len(), self.stores.len());
        for (v, (store, vector)) in self.stores.iter_mut().zip(stored).enumerate() {
            match vector {
                Some(vector) => store.push(vector)?,
                None => {
                    store.push_absent()?;
                    self.absent[v].insert(offset);
                }
            }
        }
        for (s, store) in self.sparse.iter_mut().enumerate() {
            store.push(sparse.get(s).copied().flatten());
        }
        self.by_offset.push(id.clone());
        if let Some(payload) = &payload {
            self.payload_index.insert(offset, payload);
        }
        if let (Some(index), Some(payload)) = (&self.text, &payload) {
            index.add(offset, payload);
        }
        self.payloads.push(payload.as_ref());
        self.live.insert(offset);
        self.ids.insert(id, offset);
        Ok(())
    }

    /// Removes `id` from the appendable segment's live points; true if it was live.
    pub(crate) fn remove(&mut self, id: &PointId) -> bool {
        let Some(offset) = self.ids.remove(id) else {
            return false;
        };
        self.live.remove(offset);
        if let Some(payload) = self.payloads.take(offset) {
            self.payload_index.remove(offset, &payload);
        }
        true
    }

    /// Heap bytes of ids and id maps.
    pub(crate) fn ids_bytes(&self) -> usize {
        self.ids.capacity() * (std::mem::size_of::<(PointId, Offset)>() + 8)
            + self.sorted.capacity() * std::mem::size_of::<Offset>()
            + self.by_offset.heap_bytes()
            + self
                .stores
                .iter()
                .filter_map(VectorStore::tokens)
                .map(|(t, _)| t.ram_bytes())
                .sum::<usize>()
    }

    /// Vector `v` of the points in the graph's space, for building its
    /// graphs: full float vectors (float layout, multivector FDEs)
    /// quantised to bytes for the build ([`ByteSpace`]: a quarter of the
    /// memory traffic), codes and Matryoshka prefixes as they are.
    pub(crate) fn build_space(&self, v: usize, space: Space) -> SegmentSpace<'_> {
        let store = &self.stores[v];
        match space {
            Space::Floats { metric, .. } if store.codes().is_none() => {
                let vectors = store.vectors();
                let len = vectors.all().len() / vectors.dims().max(1);
                SegmentSpace::Bytes(ByteSpace::new(len, vectors.dims(), metric, |o| {
                    vectors.get(o)
                }))
            }
            _ => SegmentSpace::Points(PointsSpace { store, space }),
        }
    }
}

/// What a segment's graphs are built over (see [`Points::build_space`]).
pub(crate) enum SegmentSpace<'a> {
    Points(PointsSpace<'a>),
    Bytes(ByteSpace),
}

impl BuildSpace for SegmentSpace<'_> {
    #[inline]
    fn distance(&self, a: Offset, b: Offset) -> f32 {
        match self {
            Self::Points(space) => space.distance(a, b),
            Self::Bytes(space) => space.distance(a, b),
        }
    }

    #[inline]
    fn prefetch(&self, a: Offset) {
        match self {
            Self::Points(space) => space.prefetch(a),
            Self::Bytes(space) => space.prefetch(a),
        }
    }
}

/// Distances between a segment's points in one vector's graph space.
pub(crate) struct PointsSpace<'a> {
    store: &'a VectorStore,
    space: Space,
}

impl PointsSpace<'_> {
    #[inline]
    fn floats(&self, o: Offset, spec: Option<&CodeSpec>) -> &[f32] {
        match (spec, self.store.codes()) {
            (Some(_), Some(codes)) => codes.prefix(o),
            _ => self.store.vectors().get(o),
        }
    }
}

impl BuildSpace for PointsSpace<'_> {
    #[inline]
    fn distance(&self, a: Offset, b: Offset) -> f32 {
        let d = match self.space {
            Space::Floats { metric, .. } => {
                // Matryoshka links its prefixes, which the codes hold.
                let prefix = self
                    .store
                    .codes()
                    .map(Codes::spec)
                    .filter(|s| s.floats() > 0);
                metric.distance(self.floats(a, prefix), self.floats(b, prefix))
            }
            Space::Codes(spec) => match self.store.codes() {
                Some(codes) => spec.code_distance(codes.words(a), codes.words(b)),
                None => f32::MAX,
            },
        };
        if d.is_nan() { f32::MAX } else { d }
    }

    fn prefetch(&self, a: Offset) {
        match (self.store.codes(), self.space) {
            (Some(codes), Space::Codes(_)) => crate::distance::prefetch_words(codes.words(a)),
            (Some(codes), _) if codes.spec().floats() > 0 => {
                crate::distance::prefetch(codes.prefix(a));
            }
            _ => {
                // The first lines only: the hardware prefetcher follows the
                // sequential read of the rest.
                let row = self.store.vectors().get(a);
                crate::distance::prefetch(&row[..row.len().min(PREFETCH_FLOATS)]);
            }
        }
    }
}

/// Floats of a vector a graph build prefetches ahead of scoring it.
const PREFETCH_FLOATS: usize = 64;

/// Rough heap size of a payload (its JSON length plus map overhead).
pub(crate) fn payload_size(payload: &Payload) -> usize {
    serde_json::to_string(payload).map_or(0, |s| s.len()) + 48 * payload.len()
}
