//! What `GET /collections/{name}` and `/metrics` report of a collection:
//! its points and segments, and its bytes by part.

use roaring::RoaringBitmap;

use super::{Collection, Layout, Points, sealer};
use crate::payload_index::PayloadIndex;

/// Statistics for `GET /collections/{name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionStats {
    /// Live points.
    pub points: u64,
    /// Dead offsets still held (replaced or deleted points).
    pub tombstones: u64,
    /// Live points in sealed segments (searched through their graphs).
    pub indexed: u64,
    /// Live points not sealed yet (searched by exact scan).
    pub unsealed: u64,
    /// Sealed segments.
    pub segments: u64,
    /// The optimiser has work: points to seal or segments to merge, now or
    /// once writes pause (searches are then slower than they will be).
    pub optimizing: bool,
    /// Bytes in memory (the sum of [`MemoryUsage`]'s memory parts).
    pub ram_bytes: u64,
    /// Bytes on disk (the sum of its disk parts).
    pub disk_bytes: u64,
    /// Where the bytes are.
    pub memory: MemoryUsage,
}

/// Bytes a collection holds, by part (approximate heap sizes for memory).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Memory: full vectors (float layout only).
    pub vectors: u64,
    /// Memory: compact codes (compact layouts).
    pub codes: u64,
    /// Memory: graph links.
    pub graph: u64,
    /// Memory: the payload index.
    pub payload_index: u64,
    /// Memory: payloads of points not sealed yet.
    pub payloads: u64,
    /// Memory: id maps and the live bitmap.
    pub ids: u64,
    /// Memory: the full-text index of points not sealed yet.
    pub text: u64,
    /// Memory: the sparse vectors and postings of points not sealed yet.
    pub sparse: u64,
    /// Disk: the memory-mapped full vectors (compact layouts) and token vectors.
    pub vectors_file: u64,
    /// Disk: the payloads of sealed segments.
    pub payloads_file: u64,
    /// Disk: the write-ahead log.
    pub wal: u64,
    /// Disk: the other files of the sealed segments (ids, codes, graph).
    pub segments_file: u64,
    /// Disk: the sealed segments' full-text indexes (mapped).
    pub text_file: u64,
    /// Disk: the sealed segments' sparse vectors and postings (mapped).
    pub sparse_file: u64,
}

impl MemoryUsage {
    /// Bytes in memory.
    pub fn ram_bytes(&self) -> u64 {
        self.vectors
            + self.codes
            + self.graph
            + self.payload_index
            + self.payloads
            + self.ids
            + self.text
            + self.sparse
    }

    /// Bytes on disk.
    pub fn disk_bytes(&self) -> u64 {
        self.vectors_file
            + self.payloads_file
            + self.wal
            + self.segments_file
            + self.text_file
            + self.sparse_file
    }

    /// The parts as (name, in memory?, bytes), for reports and metrics.
    pub fn parts(&self) -> [(&'static str, bool, u64); 14] {
        [
            ("vectors", true, self.vectors),
            ("codes", true, self.codes),
            ("graph", true, self.graph),
            ("payload_index", true, self.payload_index),
            ("payloads", true, self.payloads),
            ("ids", true, self.ids),
            ("text", true, self.text),
            ("sparse", true, self.sparse),
            ("vectors_file", false, self.vectors_file),
            ("payloads_file", false, self.payloads_file),
            ("wal", false, self.wal),
            ("segments_file", false, self.segments_file),
            ("text_file", false, self.text_file),
            ("sparse_file", false, self.sparse_file),
        ]
    }
}

impl Collection {
    /// Points, deleted points still held, segments and bytes.
    pub fn stats(&self) -> CollectionStats {
        // Before any of the set's locks is held (it takes them itself).
        let optimizing = sealer::pending(&self.inner);
        let set = self.inner.segments();
        // The float layout walks its vectors, the multivector layout its
        // FDEs: mapped or not, they are resident.
        let float: Vec<bool> = self
            .inner
            .config
            .read()
            .vectors
            .values()
            .map(|v| matches!(v.layout, Layout::Float | Layout::Multivector))
            .collect();
        let mut memory = MemoryUsage {
            wal: self.inner.wal.disk_bytes(),
            ..MemoryUsage::default()
        };
        let (mut points, mut held, mut indexed) = (0u64, 0u64, 0u64);
        let mut add =
            |p: &Points, live: &RoaringBitmap, index: &PayloadIndex, m: &mut MemoryUsage| {
                points += live.len();
                held += p.len() as u64;
                for (store, &float) in p.stores.iter().zip(&float) {
                    let vectors = store.vectors();
                    let mapped = vectors.mapped_bytes();
                    if float {
                        m.vectors += vectors.heap_bytes() as u64 + mapped;
                    } else {
                        m.vectors += vectors.heap_bytes() as u64;
                        m.vectors_file += mapped;
                    }
                    m.codes += store.codes_bytes() as u64;
                    m.vectors_file += store.tokens().map_or(0, |(t, _)| t.disk_bytes());
                }
                m.payload_index += index.ram_bytes() as u64;
                m.payloads += p.payloads.heap_bytes() as u64;
                m.payloads_file += p.payloads.disk_bytes();
                m.ids += (p.ids_bytes() + live.serialized_size()) as u64;
                m.text += p.text.as_ref().map_or(0, |t| t.ram_bytes() as u64);
                for store in &p.sparse {
                    m.sparse += store.heap_bytes() as u64;
                    m.sparse_file += store.disk_bytes();
                }
            };
        for entry in &set.sealed {
            let before =
                memory.vectors + memory.vectors_file + memory.payloads_file + memory.sparse_file;
            add(
                &entry.segment.points,
                &entry.live,
                &entry.index,
                &mut memory,
            );
            let text_file: u64 = entry
                .segment
                .files
                .iter()
                .filter(|f| f.name == crate::text::FILE)
                .map(|f| f.len)
                .sum();
            memory.text_file += text_file;
            let mapped =
                memory.vectors + memory.vectors_file + memory.payloads_file + memory.sparse_file
                    - before
                    + text_file;
            memory.graph += entry
                .segment
                .graphs
                .iter()
                .map(|g| g.ram_bytes() as u64)
                .sum::<u64>()
                + entry
                    .segment
                    .values
                    .iter()
                    .flatten()
                    .map(|v| v.graph.ram_bytes() as u64)
                    .sum::<u64>();
            memory.segments_file += entry.segment.disk_bytes().saturating_sub(mapped);
            indexed += entry.live.len();
        }
        for frozen in &set.frozen {
            let p = frozen.points.read();
            add(&p, &frozen.live, &p.payload_index, &mut memory);
        }
        let appendable = set.appendable.read();
        add(
            &appendable,
            &appendable.live,
            &appendable.payload_index,
            &mut memory,
        );
        let unsealed = points - indexed;
        CollectionStats {
            points,
            tombstones: held.saturating_sub(points),
            indexed,
            unsealed,
            segments: set.sealed.len() as u64,
            optimizing,
            ram_bytes: memory.ram_bytes(),
            disk_bytes: memory.disk_bytes(),
            memory,
        }
    }
}
