//! Stored snapshots on real files: taken while writing, exported as one
//! archive, restored under another name or over the collection, and
//! damaged archives refused without changing anything.

mod common;

use std::collections::BTreeMap;
use std::io::Cursor;

use serde_json::json;
use trawl_index::storage::WalOptions;
use trawl_index::{
    CollectionConfig, HnswParams, IndexError, Layout, Metric, Payload, PayloadType, PointId,
    PointWrite, SealPolicy, Store,
};

use common::{Rng, TempDir};

const DIMS: usize = 16;

fn config() -> CollectionConfig {
    let mut payload_schema = BTreeMap::new();
    payload_schema.insert("bucket".to_string(), PayloadType::Integer);
    CollectionConfig {
        text: None,
        sparse: Default::default(),
        vectors: std::collections::BTreeMap::from([(
            String::new(),
            trawl_index::VectorConfig {
                dims: DIMS,
                metric: Metric::Cosine,
                layout: Layout::Binary { bits: 2 },
                hnsw: HnswParams::default(),
                muvera: None,
                encoder: None,
            },
        )]),
        payload_schema,
    }
}

fn points(ids: std::ops::Range<u64>, rng: &mut Rng) -> Vec<PointWrite> {
    ids.map(|i| {
        let mut payload = Payload::new();
        payload.insert("bucket".into(), json!(i % 7));
        PointWrite {
            vectors: Default::default(),
            sparse: Default::default(),
            id: PointId::Num(i),
            vector: (0..DIMS).map(|_| rng.unit()).collect(),
            payload: Some(payload),
        }
    })
    .collect()
}

/// Small segments, so that snapshots hold several and merges replace them.
fn open(dir: &TempDir) -> Store {
    let wal = WalOptions {
        sync: false,
        ..WalOptions::default()
    };
    Store::open_with(
        &dir.0,
        wal,
        SealPolicy {
            points: 300,
            bytes: 1 << 30,
            fold_ratio: trawl_index::FOLD_RATIO,
        },
    )
    .unwrap()
}

fn export(store: &Store, collection: &str, snapshot: &str) -> Vec<u8> {
    let mut archive = Vec::new();
    store
        .export_snapshot(collection, snapshot, &mut archive)
        .unwrap();
    archive
}

fn ids(store: &Store, collection: &str) -> Vec<u64> {
    let c = store.get(collection).unwrap();
    let mut out: Vec<u64> = (0..10_000u64)
        .filter(|&i| c.get(&PointId::Num(i)).is_ok())
        .collect();
    out.sort_unstable();
    out
}

#[test]
fn a_snapshot_restores_the_collection_as_it_was_under_any_name() {
    let mut rng = Rng(0x5eed_5a01);
    let dir = TempDir::new("snap-restore");
    let store = open(&dir);
    let c = store.create("docs", config()).unwrap();
    c.upsert(points(0..1_000, &mut rng)).unwrap();
    c.delete(&[PointId::Num(3), PointId::Num(500)]).unwrap();
    let taken = store.create_snapshot("docs").unwrap();
    assert_eq!(taken.points, 998);
    assert_eq!(taken.collection, "docs");
    // Written after the snapshot: not in it.
    c.upsert(points(1_000..1_200, &mut rng)).unwrap();
    c.delete(&[PointId::Num(7)]).unwrap();
    // Merges replace the segments the snapshot links; it keeps its own.
    c.wait_indexed();
    let listed = store.snapshots("docs").unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, taken.name);
    assert!(listed[0].bytes > 0);

    let archive = export(&store, "docs", &taken.name);
    let restored = store
        .restore_snapshot("copy", Cursor::new(&archive))
        .unwrap();
    assert_eq!(restored.points, 998);
    assert_eq!(restored.source, "docs");
    let expected: Vec<u64> = (0..1_000).filter(|i| *i != 3 && *i != 500).collect();
    assert_eq!(ids(&store, "copy"), expected);
    let copy = store.get("copy").unwrap();
    let (vector, payload) = copy.get(&PointId::Num(10)).unwrap();
    assert_eq!(vector, c.get(&PointId::Num(10)).unwrap().0);
    assert_eq!(payload.unwrap()["bucket"], json!(3));
    assert_eq!(copy.config(), c.config());
    // The original is untouched, and the copy takes writes of its own.
    assert_eq!(c.len(), 1_197);
    copy.upsert(points(5_000..5_010, &mut rng)).unwrap();
    assert_eq!(copy.len(), 1_008);
    assert_eq!(c.len(), 1_197);

    // Over the collection itself: it goes back to the snapshot, and a handle
    // to the replaced one can no longer write.
    store
        .restore_snapshot("docs", Cursor::new(&archive))
        .unwrap();
    assert_eq!(ids(&store, "docs"), expected);
    let stale = c.upsert(points(9_000..9_001, &mut rng));
    assert!(
        matches!(stale, Err(IndexError::CollectionNotFound(_))),
        "{stale:?}"
    );
    assert_eq!(store.get("docs").unwrap().len(), 998);

    // Both survive a restart.
    drop((c, copy));
    drop(store);
    let store = open(&dir);
    assert_eq!(ids(&store, "docs"), expected);
    assert_eq!(store.get("copy").unwrap().len(), 1_008);
    store.delete_snapshot("docs", &taken.name).unwrap();
    assert!(store.snapshots("docs").unwrap().is_empty());
    assert!(matches!(
        store.delete_snapshot("docs", &taken.name),
        Err(IndexError::SnapshotNotFound { .. })
    ));
}

#[test]
fn snapshots_taken_during_writes_hold_exactly_the_writes_before_them() {
    let seed = 0x5eed_5a02;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let dir = TempDir::new("snap-concurrent");
    let store = open(&dir);
    let c = store.create("docs", config()).unwrap();
    let all = points(0..3_000, &mut rng);
    let taken = std::thread::scope(|scope| {
        let writer = {
            let c = c.clone();
            let all = &all;
            scope.spawn(move || {
                for chunk in all.chunks(50) {
                    c.upsert(chunk.to_vec()).unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(3));
                }
            })
        };
        // The first snapshot once writing has begun (a loaded machine may
        // start the writer late), then one every 30 ms.
        while c.is_empty() && !writer.is_finished() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let mut taken = Vec::new();
        for _ in 0..4 {
            taken.push(store.create_snapshot("docs").unwrap());
            std::thread::sleep(std::time::Duration::from_millis(30));
        }
        writer.join().unwrap();
        taken
    });
    for (i, snapshot) in taken.iter().enumerate() {
        let archive = export(&store, "docs", &snapshot.name);
        let name = format!("at-{i}");
        let restored = store
            .restore_snapshot(&name, Cursor::new(&archive))
            .unwrap();
        // One record per batch of 50, in order: a snapshot holds a prefix.
        let held = ids(&store, &name);
        println!(
            "snapshot {i}: {} points, lsn {}",
            snapshot.points, snapshot.lsn
        );
        assert_eq!(held.len() as u64, snapshot.points, "snapshot {i}");
        assert_eq!(restored.points, snapshot.points);
        assert_eq!(held, (0..snapshot.points).collect::<Vec<_>>());
        assert_eq!(held.len() % 50, 0);
    }
    assert!(
        taken.iter().any(|s| s.points > 0 && s.points < 3_000),
        "no snapshot was taken while writing: the test proves nothing"
    );
    assert_eq!(c.len(), 3_000);
}

#[test]
fn a_damaged_or_truncated_archive_is_refused_and_changes_nothing() {
    let mut rng = Rng(0x5eed_5a03);
    let dir = TempDir::new("snap-damaged");
    let store = open(&dir);
    let c = store.create("docs", config()).unwrap();
    c.upsert(points(0..800, &mut rng)).unwrap();
    let taken = store.create_snapshot("docs").unwrap();
    c.upsert(points(800..900, &mut rng)).unwrap();
    let archive = export(&store, "docs", &taken.name);
    let before = ids(&store, "docs");
    assert_eq!(before.len(), 900);

    let refused = |bytes: &[u8], what: &str| {
        let outcome = store.restore_snapshot("docs", Cursor::new(bytes));
        assert!(
            matches!(outcome, Err(IndexError::InvalidSnapshot(_))),
            "{what}: {outcome:?}"
        );
        let outcome = store.restore_snapshot("fresh", Cursor::new(bytes));
        assert!(
            matches!(outcome, Err(IndexError::InvalidSnapshot(_))),
            "{what}: {outcome:?}"
        );
    };
    // Truncated anywhere: at a header, inside a member, before the list.
    for cut in [0, 100, 512, 4_096, archive.len() / 2, archive.len() - 2_000] {
        refused(&archive[..cut], &format!("cut at {cut}"));
    }
    // A flipped byte in every 1/16th of the archive's members' data.
    let step = archive.len() / 16;
    for at in (step / 2..archive.len() - 1_024).step_by(step) {
        let mut bad = archive.clone();
        bad[at] ^= 0x5a;
        let outcome = store.restore_snapshot("docs", Cursor::new(&bad));
        // A flip in a tar header's padding may be harmless; anything read is checked.
        println!("flip at {at}: {outcome:?}");
        if outcome.is_ok() {
            assert_eq!(ids(&store, "docs").len(), 800, "flip at {at} restored");
            store
                .restore_snapshot("docs", Cursor::new(&archive))
                .unwrap();
            continue;
        }
        assert!(
            matches!(outcome, Err(IndexError::InvalidSnapshot(_))),
            "flip at {at}: {outcome:?}"
        );
    }
    refused(b"not a tar archive at all", "garbage");
    // Nothing was replaced or created, and nothing was left behind.
    let docs = ids(&store, "docs");
    assert!(docs == before || docs.len() == 800, "{}", docs.len());
    assert!(store.get("fresh").is_err());
    let leftovers: Vec<_> = std::fs::read_dir(dir.0.join("collections"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_restore_interrupted_between_its_renames_is_undone_at_start_up() {
    // Where the file system cannot swap two directories atomically, a
    // restore moves the collection aside, then the restored one in; a crash
    // between the two must not lose the collection.
    let mut rng = Rng(0x5eed_5a04);
    let dir = TempDir::new("snap-interrupted");
    let store = open(&dir);
    store
        .create("docs", config())
        .unwrap()
        .upsert(points(0..100, &mut rng))
        .unwrap();
    drop(store);
    let root = dir.0.join("collections");
    std::fs::rename(
        root.join("docs"),
        root.join(format!(".replaced-docs-{}", "ab".repeat(16))),
    )
    .unwrap();
    std::fs::create_dir(root.join(".restoring-docs-0123")).unwrap();
    let store = open(&dir);
    assert_eq!(ids(&store, "docs"), (0..100).collect::<Vec<_>>());
    let left: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["docs"]);
}
