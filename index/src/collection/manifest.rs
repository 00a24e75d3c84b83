//! The manifest: which sealed segments make up the collection, each file of
//! each with its length and checksum, each segment's deleted offsets, and the
//! last log record the segments cover. It is replaced atomically (written to
//! a temporary file, fsynced, renamed, directory fsynced), so a crash leaves
//! the previous manifest or the new one; segment directories it does not
//! name are garbage.
//!
//! ```text
//! body := json_len:u32 json { deleted_len:u32 roaring }*   (one per segment, in order)
//! ```
//! inside the storage layer's file frame (kind `MANI`, version, length, CRC-32).

use std::collections::BTreeMap;
use std::path::Path;

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

use super::CollectionConfig;
use super::segment::FileFacts;
use crate::error::Result;
use crate::storage::{StorageError, read_file, write_file};
use crate::types::PayloadType;

pub(crate) const FILE: &str = "manifest.bin";
const KIND: [u8; 4] = *b"MANI";
const VERSION: u16 = 1;

/// What the manifest says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    /// Every log record up to this one is in the segments (and their
    /// deletions); start-up replays the records after it.
    pub(crate) lsn: u64,
    /// The id the next segment takes.
    pub(crate) next_segment: u64,
    pub(crate) segments: Vec<SegmentFacts>,
    /// The indexed payload fields when it was written: `config.json` holds
    /// those given at creation, and a field indexed later is a log record,
    /// which a checkpoint may cut. Absent in manifests written before it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) payload_schema: BTreeMap<String, PayloadType>,
}

/// One sealed segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SegmentFacts {
    pub(crate) id: u64,
    /// Offsets it holds (live or deleted).
    pub(crate) points: u64,
    pub(crate) files: Vec<FileFacts>,
    /// Compact layouts: the oversample the unnamed vector's codes need
    /// ([`super::calibrate`]); absent in segments sealed before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) oversample: Option<u16>,
    /// ... and the named vectors'.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) oversamples: BTreeMap<String, u16>,
}

impl SegmentFacts {
    /// The facts of `segment`, whose vectors are `config`'s.
    pub(crate) fn of(segment: &super::segment::Sealed, config: &CollectionConfig) -> Self {
        let mut oversample = None;
        let mut oversamples = BTreeMap::new();
        for (name, o) in config.vectors.keys().zip(&segment.oversample) {
            match (name.is_empty(), o) {
                (true, o) => oversample = *o,
                (false, Some(o)) => {
                    oversamples.insert(name.clone(), *o);
                }
                (false, None) => {}
            }
        }
        Self {
            id: segment.id,
            points: segment.points.len() as u64,
            files: segment.files.clone(),
            oversample,
            oversamples,
        }
    }

    /// The calibrated oversample of each of `config`'s vectors.
    pub(crate) fn oversample_of(&self, config: &CollectionConfig) -> Vec<Option<u16>> {
        config
            .vectors
            .keys()
            .map(|name| match name.is_empty() {
                true => self.oversample,
                false => self.oversamples.get(name).copied(),
            })
            .collect()
    }
}

/// Writes the manifest with each segment's deleted offsets (in the order of
/// `manifest.segments`).
pub(crate) fn write(dir: &Path, manifest: &Manifest, deleted: &[RoaringBitmap]) -> Result<()> {
    let path = dir.join(FILE);
    let json = serde_json::to_vec(manifest)
        .map_err(|e| StorageError::io(&path, std::io::Error::other(e)))?;
    let mut body = Vec::with_capacity(json.len() + 64);
    body.extend_from_slice(&(json.len() as u32).to_le_bytes());
    body.extend_from_slice(&json);
    for bitmap in deleted {
        put_bitmap(&mut body, bitmap, &path)?;
    }
    write_file(&path, KIND, VERSION, &body)?;
    Ok(())
}

/// Appends `bitmap`, length-prefixed, to `body` (a file at `path`).
pub(crate) fn put_bitmap(
    body: &mut Vec<u8>,
    bitmap: &RoaringBitmap,
    path: &Path,
) -> Result<(), StorageError> {
    let mut bytes = Vec::with_capacity(bitmap.serialized_size());
    bitmap
        .serialize_into(&mut bytes)
        .map_err(|e| StorageError::io(path, e))?;
    body.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    body.extend_from_slice(&bytes);
    Ok(())
}

/// Reads the manifest in `dir`, `None` if there is none.
pub(crate) fn read(dir: &Path) -> Result<Option<(Manifest, Vec<RoaringBitmap>)>> {
    let path = dir.join(FILE);
    let body = match read_file(&path, KIND, VERSION) {
        Ok((_, body)) => body,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let corrupt = |reason: &str| StorageError::corrupt(&path, reason);
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let slice = body.get(at..at.checked_add(n)?)?;
        at += n;
        Some(slice)
    };
    let len = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let json_len = take(4).map(len).ok_or_else(|| corrupt("no header"))?;
    let json = take(json_len).ok_or_else(|| corrupt("truncated"))?;
    let manifest: Manifest =
        serde_json::from_slice(json).map_err(|e| corrupt(&format!("does not parse: {e}")))?;
    let mut deleted = Vec::with_capacity(manifest.segments.len());
    for segment in &manifest.segments {
        let n = take(4).map(len).ok_or_else(|| corrupt("truncated"))?;
        let bytes = take(n).ok_or_else(|| corrupt("truncated"))?;
        let bitmap = RoaringBitmap::deserialize_from(bytes)
            .map_err(|e| corrupt(&format!("deleted offsets do not decode: {e}")))?;
        if bitmap.max().is_some_and(|m| u64::from(m) >= segment.points) {
            return Err(corrupt(&format!(
                "segment {} deletes an offset past its {} points",
                segment.id, segment.points
            ))
            .into());
        }
        deleted.push(bitmap);
    }
    Ok(Some((manifest, deleted)))
}
