//! Writes the binary seeds of the `wal_replay` target into
//! `fuzz/corpus/wal_replay/` (the JSON seeds of the other targets are written
//! by hand). Every log is made by the real `Wal` and every collection record
//! by a real `Collection`, so the seeds start the fuzzer past the checksums.
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example make_seeds
//! ```

use std::fs;
use std::path::Path;

use serde_json::json;
use trawl_fuzz::fixture;
use trawl_fuzz::scratch::Dir;
use trawl_index::storage::Wal;
use trawl_index::{Collection, Layout, Metric, PayloadType, PointId, PointWrite};

/// Mode bytes of the target's input (see `fuzz_targets/wal_replay.rs`).
const RAW: u8 = 0;
const DAMAGE: u8 = 1;
const COLLECTION: u8 = 2;
/// Limit byte: the default record limit.
const DEFAULT_LIMIT: u8 = 0;

fn main() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/wal_replay");
    fs::create_dir_all(&out).expect("create the corpus directory");
    let write = |name: &str, bytes: Vec<u8>| {
        fs::write(out.join(format!("seed-{name}")), bytes).expect("write a seed");
    };
    let records: Vec<Vec<u8>> = vec![b"one".to_vec(), vec![0; 40], b"three".to_vec()];

    write(
        "raw-empty-log",
        [vec![RAW, DEFAULT_LIMIT], log(&[], 0)].concat(),
    );
    write(
        "raw-three-records",
        [vec![RAW, DEFAULT_LIMIT], log(&records, 0)].concat(),
    );
    write(
        "raw-truncated-base",
        [vec![RAW, DEFAULT_LIMIT], log(&records, 2)].concat(),
    );
    // A 16-byte limit (128 + 2): the 40-byte record is intact, so open refuses.
    write(
        "raw-over-limit",
        [vec![RAW, 130], log(&records, 0)].concat(),
    );

    // [kind][offset u16 LE][mask][records]
    let damage = |kind: u8, offset: u16, mask: u8| {
        let [lo, hi] = offset.to_le_bytes();
        [
            vec![DAMAGE, DEFAULT_LIMIT, kind, lo, hi, mask],
            framed(&records),
        ]
        .concat()
    };
    write("damage-none", damage(0, 0, 0));
    write("damage-cut", damage(1, 50, 0));
    write("damage-flip", damage(2, 70, 0x20));
    write("damage-garbage", damage(3, 33, 0xff));

    for (name, layout, metric, odd) in [
        ("collection-float", Layout::Float, Metric::Cosine, 0),
        (
            "collection-multivector",
            Layout::Multivector,
            Metric::Dot,
            1,
        ),
    ] {
        let logged = collection_records(layout, metric);
        write(
            name,
            [vec![COLLECTION, odd, 0, 0, 0, 0], framed(&logged)].concat(),
        );
    }
    println!("seeds written to {}", out.display());
}

/// The bytes of a log holding `records`, its first `through` records then
/// dropped by `truncate_through` (so the header's base lsn is not 0).
fn log(records: &[Vec<u8>], through: u64) -> Vec<u8> {
    let dir = Dir::new("seed");
    let path = dir.path().join("wal.log");
    let (wal, _) = Wal::open(&path, fixture::wal_options()).expect("create a log");
    for r in records {
        wal.append(r).expect("append");
    }
    if through > 0 {
        wal.truncate_through(through).expect("truncate");
    }
    drop(wal);
    fs::read(&path).expect("read the log")
}

/// Records as the target reads them: `[len: u16 LE][bytes]`.
fn framed(records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        let len = u16::try_from(r.len()).expect("a seed record fits a u16 length");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(r);
    }
    out
}

/// The log records a collection writes for an upsert, a delete and a new
/// payload index.
fn collection_records(layout: Layout, metric: Metric) -> Vec<Vec<u8>> {
    let dir = Dir::new("seed");
    let path = dir.path().join("c");
    let c = Collection::create(
        "seed",
        &path,
        fixture::config(layout, metric),
        fixture::wal_options(),
    )
    .expect("create");
    let writes = (0..3)
        .map(|i| PointWrite {
            vectors: Default::default(),
            sparse: Default::default(),
            id: fixture::point_id(i * 9),
            vector: fixture::point_vector(i, layout),
            payload: Some(
                json!({"pos": "noun", "len": i, "lang": "en"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ),
        })
        .collect();
    c.upsert(writes).expect("upsert");
    c.delete(&[PointId::Num(0)]).expect("delete");
    c.create_payload_index("lang", PayloadType::Keyword)
        .expect("index");
    c.close();
    drop(c);
    let (_, recovered) = Wal::open(&path.join("wal.log"), fixture::wal_options()).expect("read");
    recovered.records.into_iter().map(|(_, r)| r).collect()
}
