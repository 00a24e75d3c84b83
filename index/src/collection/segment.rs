//! Sealed segments: immutable directories of checksummed files, written once
//! when points leave the appendable segment (or when segments are merged),
//! then only mapped and read.
//!
//! ```text
//! segments/000007/
//!   ids.bin       SIDS  count:u64 { id }*                       (heap)
//!   payloads.bin  SPAY  { json }* pad starts:u64*(count+1) count:u64  (mapped)
//!   vectors.f32   SVEC  f32*(count·d): full vectors, or FDEs      (mapped)
//!   codes.bin     SCOD  words:u64* floats:f32*  (compact layouts, heap)
//!   tokens.f32    STOK  f32 token rows          (multivector, mapped)
//!   spans.bin     SSPN  count:u64 { start:u64 rows:u32 }*  (multivector, heap)
//!   graph.bin     SGRF  the flat HNSW graph     (heap)
//! ```
//!
//! Every file ends with the storage layer's footer (kind, version, length,
//! CRC-32). The manifest names each file with its length and CRC, so a
//! missing, truncated, altered or swapped file is found when the segment is
//! opened: small files are read and checked whole, the mapped ones are
//! streamed through their checksum without being mapped in. A segment is
//! written into `<id>.tmp` and renamed into place once complete; only the
//! manifest makes it part of the collection.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

use super::multivector::TokenStore;
use super::points::{IdColumn, Payloads, Points, fde_of};
use super::record::{Reader, put_id};
use super::store::{VectorStore, Vectors};
use super::{CollectionConfig, Layout};
use crate::codes::Codes;
use crate::error::Result;
use crate::graph::{self, FlatGraph};
use crate::payload_index::PayloadIndex;
use crate::storage::{
    CheckedBody, FileWriter, MappedFile, StorageError, read_file, sync_dir, write_file,
};
use crate::types::Offset;

/// The directory of sealed segments inside a collection's.
pub(crate) const DIR: &str = "segments";
const VERSION: u16 = 1;
const IDS: (&str, [u8; 4]) = ("ids.bin", *b"SIDS");
const PAYLOADS: (&str, [u8; 4]) = ("payloads.bin", *b"SPAY");
const VECTORS: (&str, [u8; 4]) = ("vectors.f32", *b"SVEC");
const CODES: (&str, [u8; 4]) = ("codes.bin", *b"SCOD");
const TOKENS: (&str, [u8; 4]) = ("tokens.f32", *b"STOK");
const SPANS: (&str, [u8; 4]) = ("spans.bin", *b"SSPN");
const GRAPH: (&str, [u8; 4]) = ("graph.bin", *b"SGRF");

/// A file of a segment as the manifest names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileFacts {
    pub(crate) name: String,
    pub(crate) len: u64,
    pub(crate) crc: u32,
}

/// A sealed segment: its points and graph, never written again.
pub(crate) struct Sealed {
    pub(crate) id: u64,
    pub(crate) dir: PathBuf,
    pub(crate) points: Points,
    pub(crate) graph: FlatGraph,
    pub(crate) files: Vec<FileFacts>,
    /// Compact layouts: the oversample its codes need ([`super::calibrate`]).
    pub(crate) oversample: Option<u16>,
}

impl Sealed {
    /// Bytes of its files.
    pub(crate) fn disk_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.len).sum()
    }
}

/// Points to write into a new segment: the live ones of `points`.
pub(crate) struct Source<'a> {
    pub(crate) points: &'a Points,
    pub(crate) live: &'a RoaringBitmap,
}

/// The directory of segment `id` under `root`.
pub(crate) fn path(root: &Path, id: u64) -> PathBuf {
    root.join(format!("{id:06}"))
}

/// A segment whose points are written but whose graph is not built yet:
/// the sources can be released while the graph is built from the files.
pub(crate) struct Written {
    id: u64,
    root: PathBuf,
    tmp: PathBuf,
    names: Vec<(&'static str, [u8; 4])>,
}

/// Writes the live points of `sources`, in order, into a temporary
/// directory for segment `id` under `root` (the collection's `segments/`).
/// Points keep their order: the `i`-th live point of the sources is offset
/// `i` of the new segment. [`Written::seal`] finishes it.
pub(crate) fn write(
    root: &Path,
    id: u64,
    config: &CollectionConfig,
    sources: &[Source<'_>],
) -> Result<Written> {
    std::fs::create_dir_all(root).map_err(|e| StorageError::io(root, e))?;
    let tmp = root.join(format!("{id:06}.tmp"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| StorageError::io(&tmp, e))?;
    }
    std::fs::create_dir(&tmp).map_err(|e| StorageError::io(&tmp, e))?;
    let mut names = vec![IDS, PAYLOADS, VECTORS];
    write_points(&tmp, config, sources, &mut names)?;
    Ok(Written {
        id,
        root: root.to_path_buf(),
        tmp,
        names,
    })
}

impl Written {
    /// Builds the graph over the written points (inserting into `start`, a
    /// graph over some of them in this segment's offsets, if given), writes
    /// it, and moves the directory into place; returns the segment opened,
    /// or `None` (and nothing left on disk) if `cancelled` stopped the build.
    pub(crate) fn seal(
        mut self,
        config: &CollectionConfig,
        start: Option<&FlatGraph>,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Option<Sealed>> {
        let (id, tmp) = (self.id, self.tmp.clone());
        let mut points = open_points(&tmp, config, None)?;
        let started = std::time::Instant::now();
        let offsets: Vec<Offset> = (0..points.len() as Offset).collect();
        let space = points.build_space(config.graph_space());
        let built = match start {
            Some(start) => {
                graph::extend_unless(&space, &offsets, config.hnsw, id, start, cancelled)
            }
            None => graph::build_unless(&space, &offsets, config.hnsw, id, cancelled),
        };
        let Some(graph) = built else {
            drop(points);
            if let Err(error) = std::fs::remove_dir_all(&tmp) {
                tracing::warn!(%error, segment = id, "cannot remove a cancelled segment's files");
            }
            return Ok(None);
        };
        let oversample = super::calibrate::oversample(&points, &graph, config, id);
        let mut body = Vec::with_capacity(graph.ram_bytes() + 64);
        graph.encode(&mut body);
        write_file(&tmp.join(GRAPH.0), GRAPH.1, VERSION, &body)?;
        self.names.push(GRAPH);
        tracing::debug!(
            segment = id,
            points = points.len(),
            seconds = started.elapsed().as_secs_f64(),
            "segment graph built"
        );
        let files = self
            .names
            .iter()
            .map(|&(name, _)| facts(&tmp.join(name), name))
            .collect::<Result<Vec<_>, _>>()?;
        sync_dir(&tmp)?;
        let dir = path(&self.root, id);
        if dir.exists() {
            // Left by a crash before a manifest named it: garbage.
            std::fs::remove_dir_all(&dir).map_err(|e| StorageError::io(&dir, e))?;
        }
        std::fs::rename(&tmp, &dir).map_err(|e| StorageError::io(&dir, e))?;
        sync_dir(&self.root)?;
        // The mapped files moved with the directory; the mappings stay valid.
        points.live = (0..points.len() as Offset).collect();
        Ok(Some(Sealed {
            id,
            dir,
            points,
            graph,
            files,
            oversample,
        }))
    }
}

/// Streams the points' files; adds the optional files written to `names`.
fn write_points(
    dir: &Path,
    config: &CollectionConfig,
    sources: &[Source<'_>],
    names: &mut Vec<(&'static str, [u8; 4])>,
) -> Result<()> {
    let count: u64 = sources.iter().map(|s| s.live.len()).sum();
    let mut ids = Vec::with_capacity(count as usize * 9 + 8);
    ids.extend_from_slice(&count.to_le_bytes());
    let mut payloads = FileWriter::create(&dir.join(PAYLOADS.0), PAYLOADS.1, VERSION)?;
    let mut starts = Vec::with_capacity(count as usize + 1);
    let mut vectors = FileWriter::create(&dir.join(VECTORS.0), VECTORS.1, VERSION)?;
    let multivector = config.layout == Layout::Multivector;
    let mut tokens = if multivector {
        Some(FileWriter::create(&dir.join(TOKENS.0), TOKENS.1, VERSION)?)
    } else {
        None
    };
    let mut spans = Vec::new();
    let mut token_rows = 0u64;
    let mut codes = config
        .layout
        .code_spec(config.dims, config.metric)
        .map(Codes::new);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e: std::io::Error| StorageError::io(&path, e)
    };
    let mut row = Vec::new();
    for source in sources {
        for o in source.live {
            let p = source.points;
            put_id(&mut ids, &p.by_offset.get(o));
            starts.push(payloads.bytes_written());
            if let Some(json) = p.payloads.raw(o) {
                payloads
                    .write_all(json)
                    .map_err(io(&dir.join(PAYLOADS.0)))?;
            }
            put_f32s(&mut row, p.vector(o));
            vectors.write_all(&row).map_err(io(&dir.join(VECTORS.0)))?;
            if let (Some(out), Some((store, _))) = (&mut tokens, p.store.tokens()) {
                let t = store.get(o);
                put_f32s(&mut row, t);
                out.write_all(&row).map_err(io(&dir.join(TOKENS.0)))?;
                let n = (t.len() / config.dims) as u32;
                spans.push((token_rows, n));
                token_rows += u64::from(n);
            }
            if let Some(codes) = &mut codes {
                codes.push(p.stored(o));
            }
        }
    }
    starts.push(payloads.bytes_written());
    // The starts table is read as u64s: align it.
    let pad = (8 - payloads.bytes_written() % 8) % 8;
    payloads
        .write_all(&[0u8; 8][..pad as usize])
        .map_err(io(&dir.join(PAYLOADS.0)))?;
    let mut table = Vec::with_capacity(starts.len() * 8 + 8);
    for s in &starts {
        table.extend_from_slice(&s.to_le_bytes());
    }
    table.extend_from_slice(&count.to_le_bytes());
    payloads
        .write_all(&table)
        .map_err(io(&dir.join(PAYLOADS.0)))?;
    payloads.finish()?;
    vectors.finish()?;
    write_file(&dir.join(IDS.0), IDS.1, VERSION, &ids)?;
    if let Some(tokens) = tokens {
        tokens.finish()?;
        let mut body = Vec::with_capacity(spans.len() * 12 + 8);
        body.extend_from_slice(&(spans.len() as u64).to_le_bytes());
        for (start, n) in &spans {
            body.extend_from_slice(&start.to_le_bytes());
            body.extend_from_slice(&n.to_le_bytes());
        }
        write_file(&dir.join(SPANS.0), SPANS.1, VERSION, &body)?;
        names.extend([TOKENS, SPANS]);
    }
    if let Some(codes) = codes {
        let (words, floats) = codes.parts();
        let mut body = Vec::with_capacity(words.len() * 8 + floats.len() * 4);
        for w in words {
            body.extend_from_slice(&w.to_le_bytes());
        }
        for f in floats {
            body.extend_from_slice(&f.to_le_bytes());
        }
        write_file(&dir.join(CODES.0), CODES.1, VERSION, &body)?;
        names.push(CODES);
    }
    Ok(())
}

fn put_f32s(out: &mut Vec<u8>, v: &[f32]) {
    out.clear();
    out.reserve(v.len() * 4);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

/// The length and footer CRC of a written file.
fn facts(path: &Path, name: &str) -> Result<FileFacts, StorageError> {
    let (len, crc) = footer_crc(path)?;
    Ok(FileFacts {
        name: name.to_string(),
        len,
        crc,
    })
}

/// A file's length and the CRC its footer states.
fn footer_crc(path: &Path) -> Result<(u64, u32), StorageError> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path).map_err(|e| StorageError::io(path, e))?;
    let len = file
        .metadata()
        .map_err(|e| StorageError::io(path, e))?
        .len();
    let mut crc = [0u8; 4];
    if len >= crate::storage::FOOTER_LEN as u64 {
        file.read_exact_at(&mut crc, len - 8)
            .map_err(|e| StorageError::io(path, e))?;
    }
    Ok((len, u32::from_le_bytes(crc)))
}

/// Opens segment `id` under `root`, checking every file against `files`
/// (the manifest's facts) and its checksum.
pub(crate) fn open(
    root: &Path,
    id: u64,
    config: &CollectionConfig,
    files: &[FileFacts],
) -> Result<Sealed> {
    let dir = path(root, id);
    for expected in files {
        let path = dir.join(&expected.name);
        let (len, crc) = footer_crc(&path).map_err(|e| {
            if e.is_not_found() {
                StorageError::corrupt(&path, "a file of the segment is missing")
            } else {
                e
            }
        })?;
        if len != expected.len || crc != expected.crc {
            return Err(StorageError::corrupt(
                &path,
                format!(
                    "the manifest names {} bytes with checksum {:08x}, the file has {len} bytes with checksum {crc:08x} (truncated, altered or replaced)",
                    expected.len, expected.crc
                ),
            )
            .into());
        }
    }
    let mut points = open_points(&dir, config, Some(files))?;
    let graph_path = dir.join(GRAPH.0);
    // Decoded as it is read: the file's bytes and the graph are never both
    // whole in memory (a restore or start-up would hold the graph twice).
    let (_, mut body) = CheckedBody::open(&graph_path, GRAPH.1, VERSION)?;
    let decoded = FlatGraph::decode(&mut body);
    body.finish()?;
    let graph = decoded
        .filter(|g| g.span() <= points.len())
        .ok_or_else(|| {
            StorageError::corrupt(
                &graph_path,
                "the graph does not decode or does not fit the segment's points",
            )
        })?;
    points.live = (0..points.len() as Offset).collect();
    Ok(Sealed {
        id,
        dir,
        points,
        graph,
        files: files.to_vec(),
        oversample: None,
    })
}

/// Reads a segment's points from `dir`; with `verify`, streams the mapped
/// files through their checksums.
fn open_points(
    dir: &Path,
    config: &CollectionConfig,
    verify: Option<&[FileFacts]>,
) -> Result<Points> {
    let corrupt = |name: &str, reason: &str| StorageError::corrupt(&dir.join(name), reason);
    let mapped = |(name, kind): (&str, [u8; 4]), random: bool| -> Result<MappedFile> {
        let file = MappedFile::open(&dir.join(name), kind, VERSION, random)?;
        if verify.is_some() {
            file.verify()?;
        }
        Ok(file)
    };
    let (_, body) = read_file(&dir.join(IDS.0), IDS.1, VERSION)?;
    let mut r = Reader {
        bytes: &body,
        at: 0,
    };
    let count = r
        .u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| corrupt(IDS.0, "no count"))?;
    let mut by_offset = IdColumn::with_capacity(count.min(body.len() / 9));
    for o in 0..count {
        let id = r
            .id()
            .ok_or_else(|| corrupt(IDS.0, &format!("id {o} of {count} does not decode")))?;
        by_offset.push(id);
    }
    let mut sorted: Vec<Offset> = (0..count as Offset).collect();
    sorted.sort_unstable_by_key(|&o| by_offset.get(o));
    if sorted
        .windows(2)
        .any(|w| by_offset.get(w[0]) == by_offset.get(w[1]))
    {
        return Err(corrupt(IDS.0, "an id appears twice").into());
    }
    let payload_file = mapped(PAYLOADS, true)?;
    if payload_file.len() < 8 * (count + 2) || payload_file.len() % 8 != 0 {
        return Err(corrupt(PAYLOADS.0, "too short for its table").into());
    }
    let stated = payload_file.u64s(payload_file.len() - 8)[0];
    if stated != count as u64 {
        return Err(corrupt(PAYLOADS.0, "its count differs from the ids'").into());
    }
    let d = config.point_dims();
    let vector_file = mapped(VECTORS, config.layout != Layout::Float)?;
    if vector_file.len() != count * d * 4 {
        return Err(corrupt(VECTORS.0, "its length does not fit the points").into());
    }
    let vectors = Vectors::Mapped {
        dims: d,
        file: vector_file,
    };
    let store = match config.layout.code_spec(config.dims, config.metric) {
        Some(spec) => {
            // Decoded as read: the file's bytes and the codes are never
            // both whole in memory.
            let (_, mut body) = CheckedBody::open(&dir.join(CODES.0), CODES.1, VERSION)?;
            let n_words = count * spec.words();
            let n_floats = count * spec.floats();
            if body.len() != (n_words * 8 + n_floats * 4) as u64 {
                return Err(corrupt(CODES.0, "its length does not fit the points").into());
            }
            let short = || corrupt(CODES.0, "the file could not be read whole");
            let mut words = Vec::with_capacity(n_words);
            for _ in 0..n_words {
                words.push(u64::from_le_bytes(body.take().ok_or_else(short)?));
            }
            let mut floats = Vec::with_capacity(n_floats);
            for _ in 0..n_floats {
                floats.push(f32::from_le_bytes(body.take().ok_or_else(short)?));
            }
            body.finish()?;
            VectorStore::Compact {
                codes: Codes::from_parts(spec, words, floats)
                    .ok_or_else(|| corrupt(CODES.0, "not whole codes"))?,
                vectors,
            }
        }
        None => match fde_of(config)? {
            Some(fde) => {
                let file = mapped(TOKENS, true)?;
                let (_, body) = read_file(&dir.join(SPANS.0), SPANS.1, VERSION)?;
                let mut r = Reader {
                    bytes: &body,
                    at: 0,
                };
                let n = r.u64().unwrap_or(u64::MAX);
                if n != count as u64 {
                    return Err(corrupt(SPANS.0, "its count differs from the ids'").into());
                }
                let mut spans = Vec::with_capacity(count);
                for _ in 0..count {
                    let span = r.u64().zip(r.u32());
                    spans.push(span.ok_or_else(|| corrupt(SPANS.0, "truncated"))?);
                }
                VectorStore::Multivector {
                    tokens: TokenStore::sealed(file, config.dims, spans)
                        .map_err(|reason| corrupt(TOKENS.0, &reason))?,
                    fdes: vectors,
                    fde,
                }
            }
            None => VectorStore::Float(vectors),
        },
    };
    Ok(Points {
        ids: HashMap::new(),
        sorted,
        by_offset,
        store,
        payloads: Payloads::Disk {
            file: payload_file,
            count,
        },
        live: RoaringBitmap::new(),
        payload_index: PayloadIndex::new(&Default::default()),
    })
}

/// The payload index of a sealed segment's `live` points, for `schema`.
pub(crate) fn payload_index(
    points: &Points,
    live: &RoaringBitmap,
    schema: &std::collections::BTreeMap<String, crate::types::PayloadType>,
) -> PayloadIndex {
    let mut index = PayloadIndex::new(schema);
    if schema.is_empty() {
        return index;
    }
    for (o, payload) in points.payloads.scan(live.iter()) {
        index.insert(o, &payload);
    }
    index
}
