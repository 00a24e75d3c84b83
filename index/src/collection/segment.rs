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
//!   values.bin    SVAL  count:u32 { len:u32 [field, value]:json graph }*
//!                       graphs over the points of payload values (heap;
//!                       float layout, only when some value is worth one:
//!                       see `value_graphs`)
//!   absent.bin    SABS  vectors:u32 { len:u32 roaring }*  (heap; only when
//!                       some point lacks one of the collection's vectors)
//!   text.bin      SFTX  the tantivy index of the points' texts  (mapped;
//!                       collections with a text field: see `crate::text`)
//!   sparse.<name>.bin  SSPV  a sparse vector's forward vectors and
//!                       postings (mapped; see `crate::sparse`)
//! ```
//!
//! The vector files (`vectors`, `codes`, `tokens`, `spans`, `graph`) are
//! per vector of the collection: the unnamed vector's as above, a named
//! one's with its name before the extension (`vectors.dense.f32`,
//! `graph.dense.bin`).
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
use super::value_graphs::{self, ValueGraph};
use super::{CollectionConfig, Layout, VectorConfig};
use crate::codes::Codes;
use crate::error::Result;
use crate::graph::{self, FlatGraph};
use crate::payload_index::PayloadIndex;
use crate::sparse::{self, SparseStore};
use crate::storage::{
    CheckedBody, FileWriter, MappedFile, StorageError, read_file, sync_dir, write_file,
};
use crate::text::{self, TextConfig, TextIndex};
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
const ABSENT: (&str, [u8; 4]) = ("absent.bin", *b"SABS");
const VALUES: (&str, [u8; 4]) = ("values.bin", *b"SVAL");
const SPARSE: (&str, [u8; 4]) = ("sparse.bin", sparse::KIND);

/// A file of a segment as the manifest names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileFacts {
    pub(crate) name: String,
    pub(crate) len: u64,
    pub(crate) crc: u32,
}

/// A sealed segment: its points and graphs, never written again.
pub(crate) struct Sealed {
    pub(crate) id: u64,
    pub(crate) dir: PathBuf,
    pub(crate) points: Points,
    /// One graph per vector, in the config's order.
    pub(crate) graphs: Vec<FlatGraph>,
    /// Per vector, graphs over the points of single payload values.
    pub(crate) values: Vec<Vec<ValueGraph>>,
    pub(crate) files: Vec<FileFacts>,
    /// Per vector, compact layouts: the oversample its codes need
    /// ([`super::calibrate`]).
    pub(crate) oversample: Vec<Option<u16>>,
    /// The payload index of every point, for the schema it was sealed
    /// with, when sealing built one (taken by the segment set).
    pub(crate) index: Option<PayloadIndex>,
}

/// The file `file` of the vector named `name`: the name before the extension
/// (the unnamed vector's file keeps its v1 name).
fn of_vector(file: (&str, [u8; 4]), name: &str) -> (String, [u8; 4]) {
    if name.is_empty() {
        return (file.0.to_string(), file.1);
    }
    match file.0.rsplit_once('.') {
        Some((stem, ext)) => (format!("{stem}.{name}.{ext}"), file.1),
        None => (format!("{}.{name}", file.0), file.1),
    }
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
    names: Vec<(String, [u8; 4])>,
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
    let mut names = vec![
        (IDS.0.to_string(), IDS.1),
        (PAYLOADS.0.to_string(), PAYLOADS.1),
    ];
    write_points(&tmp, sources)?;
    for (v, (name, vector)) in config.vectors.iter().enumerate() {
        write_vector(&tmp, v, name, vector, sources, &mut names)?;
    }
    if write_absent(&tmp, config.vectors.len(), sources)? {
        names.push((ABSENT.0.to_string(), ABSENT.1));
    }
    if let Some(text) = &config.text {
        write_text(&tmp, text, sources)?;
        names.push((text::FILE.to_string(), text::bundle::KIND));
    }
    for (s, name) in config.sparse.keys().enumerate() {
        let file = of_vector(SPARSE, name);
        sparse::write(&tmp.join(&file.0), &|f| {
            for source in sources {
                for o in source.live {
                    f(source.points.sparse.get(s).and_then(|store| store.get(o)));
                }
            }
        })?;
        names.push(file);
    }
    Ok(Written {
        id,
        root: root.to_path_buf(),
        tmp,
        names,
    })
}

impl Written {
    /// Builds each vector's graph over the written points (inserting into
    /// `start[v]`, a graph over some of them in this segment's offsets, if
    /// given), writes them, and moves the directory into place; returns the
    /// segment opened, or `None` (and nothing left on disk) if `cancelled`
    /// stopped a build.
    pub(crate) fn seal(
        mut self,
        config: &CollectionConfig,
        start: Option<&[FlatGraph]>,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Option<Sealed>> {
        let (id, tmp) = (self.id, self.tmp.clone());
        let mut points = open_points(&tmp, config, None)?;
        let all: RoaringBitmap = (0..points.len() as Offset).collect();
        let index = payload_index(&points, &all, &config.payload_schema);
        let mut graphs = Vec::with_capacity(config.vectors.len());
        let mut values = Vec::with_capacity(config.vectors.len());
        let mut oversample = Vec::with_capacity(config.vectors.len());
        for (v, (name, vector)) in config.vectors.iter().enumerate() {
            let started = std::time::Instant::now();
            // Points without the vector are not linked.
            let offsets = points.holding(v);
            let space = points.build_space(v, vector.graph_space());
            let built = match start.and_then(|s| s.get(v)) {
                Some(start) => {
                    graph::extend_unless(&space, &offsets, vector.hnsw, id, start, cancelled)
                }
                None => graph::build_unless(&space, &offsets, vector.hnsw, id, cancelled),
            };
            let value_graphs = match (vector.layout, built.is_some()) {
                (Layout::Float, true) => {
                    let holding: RoaringBitmap = offsets.iter().copied().collect();
                    value_graphs::build(&space, &index, &holding, vector.hnsw, id, cancelled)
                }
                _ => Some(Vec::new()),
            };
            let (Some(graph), Some(value_graphs)) = (built, value_graphs) else {
                drop(points);
                if let Err(error) = std::fs::remove_dir_all(&tmp) {
                    tracing::warn!(%error, segment = id, "cannot remove a cancelled segment's files");
                }
                return Ok(None);
            };
            oversample.push(super::calibrate::oversample(
                &points, v, &offsets, &graph, vector, id,
            ));
            let mut body = Vec::with_capacity(graph.ram_bytes() + 64);
            graph.encode(&mut body);
            let file = of_vector(GRAPH, name);
            write_file(&tmp.join(&file.0), file.1, VERSION, &body)?;
            self.names.push(file);
            if !value_graphs.is_empty() {
                let file = of_vector(VALUES, name);
                write_file(
                    &tmp.join(&file.0),
                    file.1,
                    VERSION,
                    &value_graphs::encode(&value_graphs),
                )?;
                self.names.push(file);
            }
            tracing::debug!(
                segment = id,
                vector = name.as_str(),
                points = points.len(),
                value_graphs = value_graphs.len(),
                value_graph_points = value_graphs.iter().map(|g| g.graph.len()).sum::<usize>(),
                seconds = started.elapsed().as_secs_f64(),
                "segment graph built"
            );
            graphs.push(graph);
            values.push(value_graphs);
        }
        let files = self
            .names
            .iter()
            .map(|(name, _)| facts(&tmp.join(name), name))
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
            graphs,
            values,
            files,
            oversample,
            index: Some(index),
        }))
    }
}

/// Streams the points' ids and payloads.
fn write_points(dir: &Path, sources: &[Source<'_>]) -> Result<()> {
    let count: u64 = sources.iter().map(|s| s.live.len()).sum();
    let mut ids = Vec::with_capacity(count as usize * 9 + 8);
    ids.extend_from_slice(&count.to_le_bytes());
    let mut payloads = FileWriter::create(&dir.join(PAYLOADS.0), PAYLOADS.1, VERSION)?;
    let mut starts = Vec::with_capacity(count as usize + 1);
    let io = io_error(&dir.join(PAYLOADS.0));
    for source in sources {
        for o in source.live {
            let p = source.points;
            put_id(&mut ids, &p.by_offset.get(o));
            starts.push(payloads.bytes_written());
            if let Some(json) = p.payloads.raw(o) {
                payloads.write_all(json).map_err(&io)?;
            }
        }
    }
    starts.push(payloads.bytes_written());
    // The starts table is read as u64s: align it.
    let pad = (8 - payloads.bytes_written() % 8) % 8;
    payloads.write_all(&[0u8; 8][..pad as usize]).map_err(&io)?;
    let mut table = Vec::with_capacity(starts.len() * 8 + 8);
    for s in &starts {
        table.extend_from_slice(&s.to_le_bytes());
    }
    table.extend_from_slice(&count.to_le_bytes());
    payloads.write_all(&table).map_err(&io)?;
    payloads.finish()?;
    write_file(&dir.join(IDS.0), IDS.1, VERSION, &ids)?;
    Ok(())
}

/// Builds the text index of the points of `sources` (in the new segment's
/// offsets) into the segment's text file.
fn write_text(dir: &Path, config: &TextConfig, sources: &[Source<'_>]) -> Result<()> {
    let texts = sources
        .iter()
        .flat_map(|source| {
            source.live.iter().map(move |o| {
                source.points.payloads.get(o).map(|p| {
                    config
                        .texts(&p)
                        .into_iter()
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
            })
        })
        .enumerate()
        .filter_map(|(offset, texts)| Some((offset as Offset, texts?)));
    TextIndex::build(config, &dir.join(text::FILE), texts)?;
    Ok(())
}

/// Writes which of the new segment's offsets lack each of the `vectors`
/// vectors, if any does; returns whether it wrote the file.
fn write_absent(dir: &Path, vectors: usize, sources: &[Source<'_>]) -> Result<bool> {
    let mut absent = vec![RoaringBitmap::new(); vectors];
    let mut offset: Offset = 0;
    for source in sources {
        for o in source.live {
            for (v, bitmap) in absent.iter_mut().enumerate() {
                if source.points.absent.get(v).is_some_and(|a| a.contains(o)) {
                    bitmap.insert(offset);
                }
            }
            offset += 1;
        }
    }
    if absent.iter().all(RoaringBitmap::is_empty) {
        return Ok(false);
    }
    let path = dir.join(ABSENT.0);
    let mut body = Vec::new();
    body.extend_from_slice(&(vectors as u32).to_le_bytes());
    for bitmap in &absent {
        super::manifest::put_bitmap(&mut body, bitmap, &path)?;
    }
    write_file(&path, ABSENT.1, VERSION, &body)?;
    Ok(true)
}

/// Reads which offsets lack each of the `vectors` vectors (none, without
/// the file).
fn read_absent(dir: &Path, vectors: usize, count: usize) -> Result<Vec<RoaringBitmap>> {
    let path = dir.join(ABSENT.0);
    if !path.exists() {
        return Ok(vec![RoaringBitmap::new(); vectors]);
    }
    let corrupt = |reason: &str| StorageError::corrupt(&path, reason);
    let (_, body) = read_file(&path, ABSENT.1, VERSION)?;
    let mut r = Reader {
        bytes: &body,
        at: 0,
    };
    if r.u32().map(|n| n as usize) != Some(vectors) {
        return Err(corrupt("its count of vectors differs from the collection's").into());
    }
    let mut absent = Vec::with_capacity(vectors);
    for _ in 0..vectors {
        let bytes = r
            .u32()
            .and_then(|len| r.take(len as usize))
            .ok_or_else(|| corrupt("truncated"))?;
        let bitmap = RoaringBitmap::deserialize_from(bytes)
            .map_err(|_| corrupt("a bitmap does not decode"))?;
        if bitmap.max().is_some_and(|m| m as usize >= count) {
            return Err(corrupt("an offset past the segment's points").into());
        }
        absent.push(bitmap);
    }
    Ok(absent)
}

/// A mapper of I/O errors on `path`.
fn io_error(path: &Path) -> impl Fn(std::io::Error) -> StorageError + use<> {
    let path = path.to_path_buf();
    move |e| StorageError::io(&path, e)
}

/// Streams vector `v`'s files (named `name`); adds them to `names`.
fn write_vector(
    dir: &Path,
    v: usize,
    name: &str,
    config: &VectorConfig,
    sources: &[Source<'_>],
    names: &mut Vec<(String, [u8; 4])>,
) -> Result<()> {
    let (vectors_name, vectors_kind) = of_vector(VECTORS, name);
    let mut vectors = FileWriter::create(&dir.join(&vectors_name), vectors_kind, VERSION)?;
    let vectors_io = io_error(&dir.join(&vectors_name));
    names.push((vectors_name, vectors_kind));
    let tokens_file = of_vector(TOKENS, name);
    let mut tokens = if config.layout == Layout::Multivector {
        Some(FileWriter::create(
            &dir.join(&tokens_file.0),
            tokens_file.1,
            VERSION,
        )?)
    } else {
        None
    };
    let tokens_io = io_error(&dir.join(&tokens_file.0));
    let mut spans = Vec::new();
    let mut token_rows = 0u64;
    let mut codes = config.code_spec().map(Codes::new);
    let mut row = Vec::new();
    for source in sources {
        let store = source.points.store(v);
        for o in source.live {
            put_f32s(&mut row, store.vectors().get(o));
            vectors.write_all(&row).map_err(&vectors_io)?;
            if let (Some(out), Some((tokens, _))) = (&mut tokens, store.tokens()) {
                let t = tokens.get(o);
                put_f32s(&mut row, t);
                out.write_all(&row).map_err(&tokens_io)?;
                let n = (t.len() / config.dims) as u32;
                spans.push((token_rows, n));
                token_rows += u64::from(n);
            }
            if let Some(codes) = &mut codes {
                codes.push(store.stored(o));
            }
        }
    }
    vectors.finish()?;
    if let Some(tokens) = tokens {
        tokens.finish()?;
        let mut body = Vec::with_capacity(spans.len() * 12 + 8);
        body.extend_from_slice(&(spans.len() as u64).to_le_bytes());
        for (start, n) in &spans {
            body.extend_from_slice(&start.to_le_bytes());
            body.extend_from_slice(&n.to_le_bytes());
        }
        let spans_file = of_vector(SPANS, name);
        write_file(&dir.join(&spans_file.0), spans_file.1, VERSION, &body)?;
        names.extend([tokens_file, spans_file]);
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
        let codes_file = of_vector(CODES, name);
        write_file(&dir.join(&codes_file.0), codes_file.1, VERSION, &body)?;
        names.push(codes_file);
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
    let mut graphs = Vec::with_capacity(config.vectors.len());
    let mut values = Vec::with_capacity(config.vectors.len());
    for name in config.vectors.keys() {
        let (file, kind) = of_vector(GRAPH, name);
        let graph_path = dir.join(file);
        // Decoded as it is read: the file's bytes and the graph are never
        // both whole in memory (a restore or start-up would hold it twice).
        let (_, mut body) = CheckedBody::open(&graph_path, kind, VERSION)?;
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
        graphs.push(graph);
        let (file, kind) = of_vector(VALUES, name);
        values.push(if files.iter().any(|f| f.name == file) {
            value_graphs::read(&dir.join(file), kind, VERSION, points.len())?
        } else {
            Vec::new()
        });
    }
    points.live = (0..points.len() as Offset).collect();
    Ok(Sealed {
        id,
        dir,
        points,
        graphs,
        values,
        files: files.to_vec(),
        oversample: vec![None; config.vectors.len()],
        index: None,
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
    let mut stores = Vec::with_capacity(config.vectors.len());
    for (name, vector) in &config.vectors {
        stores.push(open_store(dir, name, vector, count, &mapped)?);
    }
    let absent = read_absent(dir, config.vectors.len(), count)?;
    Ok(Points {
        ids: HashMap::new(),
        sorted,
        by_offset,
        stores,
        absent,
        payloads: Payloads::Disk {
            file: payload_file,
            count,
        },
        live: RoaringBitmap::new(),
        payload_index: PayloadIndex::new(&Default::default()),
        text: match config.text {
            Some(_) => Some(TextIndex::open(&dir.join(text::FILE), verify.is_some())?),
            None => None,
        },
        sparse: config
            .sparse
            .keys()
            .map(|name| {
                SparseStore::open(
                    &dir.join(of_vector(SPARSE, name).0),
                    count,
                    verify.is_some(),
                )
            })
            .collect::<Result<Vec<_>>>()?,
    })
}

/// Maps a segment's file (name, kind), `random` or sequential reads ahead.
type MapFile<'a> = dyn Fn((&str, [u8; 4]), bool) -> Result<MappedFile> + 'a;

/// Opens the store of the vector named `name` (`count` points) in `dir`,
/// mapping its large files with `mapped`.
fn open_store(
    dir: &Path,
    name: &str,
    config: &VectorConfig,
    count: usize,
    mapped: &MapFile<'_>,
) -> Result<VectorStore> {
    let corrupt = |name: &str, reason: &str| StorageError::corrupt(&dir.join(name), reason);
    let d = config.point_dims();
    let vectors_file = of_vector(VECTORS, name);
    let vector_file = mapped(
        (&vectors_file.0, vectors_file.1),
        config.layout != Layout::Float,
    )?;
    if vector_file.len() != count * d * 4 {
        return Err(corrupt(&vectors_file.0, "its length does not fit the points").into());
    }
    let vectors = Vectors::Mapped {
        dims: d,
        file: vector_file,
    };
    if let Some(spec) = config.code_spec() {
        // Decoded as read: the file's bytes and the codes are never both
        // whole in memory.
        let (codes_name, kind) = of_vector(CODES, name);
        let (_, mut body) = CheckedBody::open(&dir.join(&codes_name), kind, VERSION)?;
        let n_words = count * spec.words();
        let n_floats = count * spec.floats();
        if body.len() != (n_words * 8 + n_floats * 4) as u64 {
            return Err(corrupt(&codes_name, "its length does not fit the points").into());
        }
        let short = || corrupt(&codes_name, "the file could not be read whole");
        let mut words = Vec::with_capacity(n_words);
        for _ in 0..n_words {
            words.push(u64::from_le_bytes(body.take().ok_or_else(short)?));
        }
        let mut floats = Vec::with_capacity(n_floats);
        for _ in 0..n_floats {
            floats.push(f32::from_le_bytes(body.take().ok_or_else(short)?));
        }
        body.finish()?;
        return Ok(VectorStore::Compact {
            codes: Codes::from_parts(spec, words, floats)
                .ok_or_else(|| corrupt(&codes_name, "not whole codes"))?,
            vectors,
        });
    }
    let Some(fde) = fde_of(config)? else {
        return Ok(VectorStore::Float(vectors));
    };
    let tokens_file = of_vector(TOKENS, name);
    let file = mapped((&tokens_file.0, tokens_file.1), true)?;
    let (spans_name, kind) = of_vector(SPANS, name);
    let (_, body) = read_file(&dir.join(&spans_name), kind, VERSION)?;
    let mut r = Reader {
        bytes: &body,
        at: 0,
    };
    let n = r.u64().unwrap_or(u64::MAX);
    if n != count as u64 {
        return Err(corrupt(&spans_name, "its count differs from the ids'").into());
    }
    let mut spans = Vec::with_capacity(count);
    for _ in 0..count {
        let span = r.u64().zip(r.u32());
        spans.push(span.ok_or_else(|| corrupt(&spans_name, "truncated"))?);
    }
    Ok(VectorStore::Multivector {
        tokens: TokenStore::sealed(file, config.dims, spans)
            .map_err(|reason| corrupt(&tokens_file.0, &reason))?,
        fdes: vectors,
        fde,
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
