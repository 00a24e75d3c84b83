//! Write-ahead log records: the mutations of a collection, in a compact binary form.
//!
//! ```text
//! record  := op:u8 body
//! upsert  := 1 count:u32 { id dims:u32 f32*dims payload_len:u32 payload_json }*
//! delete  := 2 count:u32 id*
//! index   := 3 key_len:u32 key type:u8
//! upsert2 := 4 count:u32 { id vectors:u16 { index:u16 len:u32 f32*len }* payload_len:u32 payload_json }*
//! upsert3 := 5 count:u32 { id vectors:u16 { index:u16 len:u32 f32*len }*
//!                          sparse:u16 { index:u16 nnz:u32 u32*nnz f32*nnz }* payload_len:u32 payload_json }*
//! id      := 0 u64 | 1 uuid[16]
//! ```
//! Little-endian throughout; a payload length of `u32::MAX` means "no payload".
//! `upsert` is the form of points holding the first vector only (every point
//! of a collection with one vector); `upsert2` names each vector a point holds
//! by its index in the collection's config (fixed at creation); `upsert3`
//! is `upsert2` with the sparse vectors a point holds (by their index among
//! the collection's sparse vectors), used when a point of the batch holds one.
//! Vectors are stored as the collection keeps them (normalised for cosine), so
//! replay needs no recomputation.

use crate::sparse::SparseVector;
use crate::types::{Payload, PayloadType, PointId};

/// One point as logged.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedPoint {
    /// Its id.
    pub id: PointId,
    /// Its stored vectors by the vector's index in the config; `None` for
    /// a vector the point does not hold.
    pub vectors: Vec<Option<Vec<f32>>>,
    /// Its sparse vectors by their index among the collection's sparse
    /// vectors (shorter than them, or `None`: not held).
    pub sparse: Vec<Option<SparseVector>>,
    /// Its payload.
    pub payload: Option<Payload>,
}

impl LoggedPoint {
    /// A point holding the first vector only (a collection of one vector).
    pub fn single(id: PointId, vector: Vec<f32>, payload: Option<Payload>) -> Self {
        Self {
            id,
            vectors: vec![Some(vector)],
            sparse: Vec::new(),
            payload,
        }
    }

    /// Its sparse vector `s`, if it holds one.
    pub fn sparse_vector(&self, s: usize) -> Option<&SparseVector> {
        self.sparse.get(s).and_then(Option::as_ref)
    }

    /// Whether it holds a sparse vector.
    fn holds_sparse(&self) -> bool {
        self.sparse.iter().any(Option::is_some)
    }

    /// Its stored vector `v`, if it holds one.
    pub fn vector(&self, v: usize) -> Option<&[f32]> {
        self.vectors.get(v).and_then(Option::as_deref)
    }

    /// Floats of all its vectors (a sparse weight counts as two: index
    /// and weight).
    pub fn floats(&self) -> usize {
        self.vectors.iter().flatten().map(Vec::len).sum::<usize>()
            + 2 * self
                .sparse
                .iter()
                .flatten()
                .map(SparseVector::len)
                .sum::<usize>()
    }

    /// Whether it holds the first vector and no other.
    fn first_only(&self) -> bool {
        matches!(self.vectors.as_slice(), [Some(_)]) && !self.holds_sparse()
    }
}

/// A logged mutation.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// Insert or replace points.
    Upsert(Vec<LoggedPoint>),
    /// Delete points (ids resolved at write time, so replay is deterministic).
    Delete(Vec<PointId>),
    /// Index a payload field.
    CreateIndex(String, PayloadType),
}

const UPSERT: u8 = 1;
const DELETE: u8 = 2;
const CREATE_INDEX: u8 = 3;
const UPSERT_NAMED: u8 = 4;
const UPSERT_SPARSE: u8 = 5;
const NO_PAYLOAD: u32 = u32::MAX;

impl Record {
    /// Encodes the record.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::Upsert(points) if points.iter().all(LoggedPoint::first_only) => {
                out.push(UPSERT);
                put_u32(&mut out, points.len());
                for p in points {
                    let vector = p.vector(0).unwrap_or_default();
                    put_id(&mut out, &p.id);
                    put_u32(&mut out, vector.len());
                    put_vector(&mut out, vector);
                    put_payload(&mut out, p.payload.as_ref());
                }
            }
            Self::Upsert(points) => {
                let sparse = points.iter().any(LoggedPoint::holds_sparse);
                out.push(if sparse { UPSERT_SPARSE } else { UPSERT_NAMED });
                put_u32(&mut out, points.len());
                for p in points {
                    put_id(&mut out, &p.id);
                    let held = p.vectors.iter().flatten().count();
                    out.extend_from_slice(&(held as u16).to_le_bytes());
                    for (v, vector) in p.vectors.iter().enumerate() {
                        if let Some(vector) = vector {
                            out.extend_from_slice(&(v as u16).to_le_bytes());
                            put_u32(&mut out, vector.len());
                            put_vector(&mut out, vector);
                        }
                    }
                    if sparse {
                        let held = p.sparse.iter().flatten().count();
                        out.extend_from_slice(&(held as u16).to_le_bytes());
                        for (s, vector) in p.sparse.iter().enumerate() {
                            if let Some(vector) = vector {
                                out.extend_from_slice(&(s as u16).to_le_bytes());
                                put_u32(&mut out, vector.len());
                                for i in &vector.indices {
                                    out.extend_from_slice(&i.to_le_bytes());
                                }
                                put_vector(&mut out, &vector.values);
                            }
                        }
                    }
                    put_payload(&mut out, p.payload.as_ref());
                }
            }
            Self::Delete(ids) => {
                out.push(DELETE);
                put_u32(&mut out, ids.len());
                ids.iter().for_each(|id| put_id(&mut out, id));
            }
            Self::CreateIndex(key, ty) => {
                out.push(CREATE_INDEX);
                put_u32(&mut out, key.len());
                out.extend_from_slice(key.as_bytes());
                out.push(type_code(*ty));
            }
        }
        out
    }

    /// Decodes a record; `None` when the bytes are not a well-formed record.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader { bytes, at: 0 };
        let record = match r.u8()? {
            UPSERT => {
                let n = r.u32()? as usize;
                let mut points = Vec::with_capacity(n.min(1 << 16));
                for _ in 0..n {
                    let id = r.id()?;
                    let dims = r.u32()? as usize;
                    let vector = r.f32s(dims)?;
                    let payload = r.payload()?;
                    points.push(LoggedPoint::single(id, vector, payload));
                }
                Self::Upsert(points)
            }
            tag @ (UPSERT_NAMED | UPSERT_SPARSE) => {
                let n = r.u32()? as usize;
                let mut points = Vec::with_capacity(n.min(1 << 16));
                for _ in 0..n {
                    let id = r.id()?;
                    let held = r.u16()? as usize;
                    let mut vectors: Vec<Option<Vec<f32>>> = Vec::new();
                    for _ in 0..held {
                        let v = r.u16()? as usize;
                        let len = r.u32()? as usize;
                        let vector = r.f32s(len)?;
                        if vectors.len() <= v {
                            vectors.resize(v + 1, None);
                        }
                        if vectors[v].replace(vector).is_some() {
                            return None;
                        }
                    }
                    let mut sparse: Vec<Option<SparseVector>> = Vec::new();
                    if tag == UPSERT_SPARSE {
                        for _ in 0..r.u16()? {
                            let s = r.u16()? as usize;
                            let nnz = r.u32()? as usize;
                            let indices = r.u32s(nnz)?;
                            let values = r.f32s(nnz)?;
                            if sparse.len() <= s {
                                sparse.resize(s + 1, None);
                            }
                            if sparse[s]
                                .replace(SparseVector { indices, values })
                                .is_some()
                            {
                                return None;
                            }
                        }
                    }
                    let payload = r.payload()?;
                    points.push(LoggedPoint {
                        id,
                        vectors,
                        sparse,
                        payload,
                    });
                }
                Self::Upsert(points)
            }
            DELETE => {
                let n = r.u32()? as usize;
                let ids = (0..n).map(|_| r.id()).collect::<Option<Vec<_>>>()?;
                Self::Delete(ids)
            }
            CREATE_INDEX => {
                let len = r.u32()? as usize;
                let key = String::from_utf8(r.take(len)?.to_vec()).ok()?;
                let ty = match r.u8()? {
                    0 => PayloadType::Keyword,
                    1 => PayloadType::Integer,
                    2 => PayloadType::Float,
                    3 => PayloadType::Bool,
                    4 => PayloadType::Text,
                    _ => return None,
                };
                Self::CreateIndex(key, ty)
            }
            _ => return None,
        };
        (r.at == bytes.len()).then_some(record)
    }
}

fn type_code(ty: PayloadType) -> u8 {
    match ty {
        PayloadType::Keyword => 0,
        PayloadType::Integer => 1,
        PayloadType::Float => 2,
        PayloadType::Bool => 3,
        PayloadType::Text => 4,
    }
}

pub(crate) fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

/// Writes raw little-endian `f32`s (shared with the snapshot format).
pub(crate) fn put_vector(out: &mut Vec<u8>, v: &[f32]) {
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

/// Writes a payload as length-prefixed JSON, or the "no payload" marker.
pub(crate) fn put_payload(out: &mut Vec<u8>, payload: Option<&Payload>) {
    match payload {
        Some(payload) => {
            let json = serde_json::to_vec(payload).unwrap_or_default();
            put_u32(out, json.len());
            out.extend_from_slice(&json);
        }
        None => out.extend_from_slice(&NO_PAYLOAD.to_le_bytes()),
    }
}

/// Writes an id (shared with the snapshot format).
pub(crate) fn put_id(out: &mut Vec<u8>, id: &PointId) {
    match id {
        PointId::Num(n) => {
            out.push(0);
            out.extend_from_slice(&n.to_le_bytes());
        }
        PointId::Uuid(u) => {
            out.push(1);
            out.extend_from_slice(u.as_bytes());
        }
        PointId::Str(s) => {
            // At most MAX_STRING_ID_BYTES (256), which a u16 holds.
            out.push(2);
            out.extend_from_slice(&(s.len() as u16).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// A cursor over bytes (shared with the snapshot format).
pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) at: usize,
}

impl crate::graph::WordReader for crate::storage::CheckedBody {
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
}

impl crate::graph::WordReader for Reader<'_> {
    fn u32(&mut self) -> Option<u32> {
        Reader::u32(self)
    }

    fn u64(&mut self) -> Option<u64> {
        Reader::u64(self)
    }
}

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    pub(crate) fn u32s(&mut self, n: usize) -> Option<Vec<u32>> {
        let raw = self.take(n.checked_mul(4)?)?;
        Some(
            raw.chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        )
    }

    pub(crate) fn f32s(&mut self, n: usize) -> Option<Vec<f32>> {
        let raw = self.take(n.checked_mul(4)?)?;
        Some(
            raw.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        )
    }

    pub(crate) fn payload(&mut self) -> Option<Option<Payload>> {
        let len = self.u32()?;
        if len == NO_PAYLOAD {
            return Some(None);
        }
        serde_json::from_slice(self.take(len as usize)?)
            .ok()
            .map(Some)
    }

    pub(crate) fn id(&mut self) -> Option<PointId> {
        match self.u8()? {
            0 => Some(PointId::Num(self.u64()?)),
            1 => Some(PointId::Uuid(uuid::Uuid::from_slice(self.take(16)?).ok()?)),
            2 => {
                let len = u16::from_le_bytes(self.take(2)?.try_into().ok()?) as usize;
                PointId::string(std::str::from_utf8(self.take(len)?).ok()?)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_reject_garbage() {
        let mut payload = Payload::new();
        payload.insert("pos".into(), "verb".into());
        let records = [
            Record::Upsert(vec![
                LoggedPoint::single(PointId::Num(7), vec![0.5, -1.25], Some(payload.clone())),
                LoggedPoint::single(
                    PointId::Uuid(uuid::Uuid::from_u128(42)),
                    vec![1.0, 2.0],
                    None,
                ),
                LoggedPoint::single(
                    PointId::string("doc-17#chunk-3 ✓").unwrap(),
                    vec![3.0, 4.0],
                    None,
                ),
            ]),
            // Named vectors: any subset, by index.
            Record::Upsert(vec![
                LoggedPoint::single(PointId::Num(1), vec![0.5], None),
                LoggedPoint {
                    id: PointId::Num(2),
                    vectors: vec![None, Some(vec![1.0, 2.0, 3.0])],
                    sparse: Vec::new(),
                    payload: Some(payload.clone()),
                },
                LoggedPoint {
                    id: PointId::Num(3),
                    vectors: vec![Some(vec![1.0]), None, Some(vec![]), Some(vec![4.0; 5])],
                    sparse: Vec::new(),
                    payload: None,
                },
            ]),
            // Sparse vectors, with or without dense ones.
            Record::Upsert(vec![
                LoggedPoint::single(PointId::Num(1), vec![0.5], None),
                LoggedPoint {
                    id: PointId::Num(4),
                    vectors: vec![None, Some(vec![2.0])],
                    sparse: vec![
                        None,
                        Some(SparseVector {
                            indices: vec![3, 70_000],
                            values: vec![0.25, -1.5],
                        }),
                    ],
                    payload: Some(payload),
                },
                LoggedPoint {
                    id: PointId::Num(5),
                    vectors: Vec::new(),
                    sparse: vec![Some(SparseVector::default())],
                    payload: None,
                },
            ]),
            Record::Delete(vec![
                PointId::Num(1),
                PointId::Uuid(uuid::Uuid::from_u128(9)),
                PointId::string(&"x".repeat(256)).unwrap(),
            ]),
            Record::CreateIndex("len_words".into(), PayloadType::Integer),
            Record::CreateIndex("title".into(), PayloadType::Text),
        ];
        for record in records {
            let bytes = record.encode();
            assert_eq!(Record::decode(&bytes), Some(record));
            for cut in 0..bytes.len() {
                assert_eq!(Record::decode(&bytes[..cut]), None, "truncated at {cut}");
            }
        }
        assert_eq!(Record::decode(&[9, 0, 0]), None);
    }
}
