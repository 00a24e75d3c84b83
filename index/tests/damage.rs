//! Damage to a stopped collection's files: every kind of file (config,
//! snapshot, log, vector file, a named vector's files and the list of
//! points lacking it, the full-text index, a sparse vector) flipped, truncated, deleted, or replaced by an older
//! copy. Each case must be detected and the collection refused on its
//! own (the store opens; a second collection serves as before), or, where the
//! damage cannot lose anything acknowledged (derived files, a torn log tail),
//! the collection must open with exactly what was acknowledged. Nothing wrong
//! is ever served.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{Rng, TempDir, copy_dir};
use trawl_index::storage::WalOptions;
use trawl_index::{
    CollectionConfig, HnswParams, IndexError, Layout, Metric, PointId, PointWrite, Store,
};

const DIMS: usize = 16;

/// The victim's named vector, held by two points in three.
const EXTRA: &str = "extra";
/// The victim's sparse vector.
const SPARSE: &str = "terms";

fn config(layout: Layout) -> CollectionConfig {
    CollectionConfig {
        text: None,
        sparse: Default::default(),
        vectors: std::collections::BTreeMap::from([(
            String::new(),
            trawl_index::VectorConfig {
                dims: DIMS,
                metric: Metric::Dot,
                layout,
                hnsw: HnswParams::default(),
                muvera: None,
                encoder: None,
            },
        )]),
        payload_schema: BTreeMap::new(),
    }
}

fn wal() -> WalOptions {
    WalOptions {
        sync: false,
        ..WalOptions::default()
    }
}

fn point(id: u64, rng: &mut Rng) -> PointWrite {
    let mut vectors = BTreeMap::new();
    if !id.is_multiple_of(3) {
        vectors.insert(EXTRA.to_string(), (0..8).map(|_| rng.unit()).collect());
    }
    // Every other point holds the sparse vector too.
    let mut sparse = BTreeMap::new();
    if id.is_multiple_of(2) {
        let indices = vec![(id % 5) as u32, 10 + (id % 11) as u32];
        sparse.insert(
            SPARSE.to_string(),
            trawl_index::sparse::SparseVector {
                indices,
                values: vec![rng.unit(), rng.unit()],
            },
        );
    }
    PointWrite {
        vectors,
        sparse,
        id: PointId::Num(id),
        vector: (0..DIMS).map(|_| rng.unit()).collect(),
        payload: Some(
            serde_json::json!({ "n": id, "body": format!("point {id} word{}", id % 7) })
                .as_object()
                .unwrap()
                .clone(),
        ),
    }
}

/// What was acknowledged, in order: the state after each write.
struct History {
    /// Live points after the last write.
    live: BTreeMap<u64, Vec<f32>>,
    /// Ids deleted before the last log record (never to be served again,
    /// whatever tail of the log is cut).
    deleted_for_good: Vec<u64>,
}

/// `bystander`: 50 float points, which every damage case must leave serving.
fn bystander(store: &Store, rng: &mut Rng) -> trawl_index::Collection {
    let bystander = store.create("bystander", config(Layout::Float)).unwrap();
    bystander
        .upsert(
            (0..50)
                .map(|i| PointWrite {
                    vectors: BTreeMap::new(),
                    sparse: Default::default(),
                    ..point(i, rng)
                })
                .collect(),
        )
        .unwrap();
    bystander
}

/// A data directory with `victim` (two checkpoints, then a log tail) and
/// `bystander`; also returns a directory with the victim's manifest and
/// segments after the first checkpoint, and its older log.
fn build(root: &Path, rng: &mut Rng) -> (History, PathBuf, PathBuf) {
    let store = Store::open(root, wal()).unwrap();
    let bystander = bystander(&store, rng);
    let mut victim_config = config(Layout::Binary { bits: 1 });
    victim_config.text = Some(trawl_index::text::TextConfig {
        field: "body".into(),
        language: trawl_index::text::TextLanguage::En,
    });
    victim_config
        .sparse
        .insert(SPARSE.to_string(), Default::default());
    victim_config.vectors.insert(
        EXTRA.to_string(),
        trawl_index::VectorConfig::new(8, Metric::Dot, Layout::Float),
    );
    let victim = store.create("victim", victim_config).unwrap();
    let mut live = BTreeMap::new();
    let mut upsert = |ids: std::ops::Range<u64>, rng: &mut Rng| {
        let batch: Vec<PointWrite> = ids.map(|i| point(i, rng)).collect();
        for p in &batch {
            live.insert(p.id_num(), p.vector.clone());
        }
        victim.upsert(batch).unwrap();
    };
    upsert(0..200, rng);
    victim.snapshot().unwrap();
    let dir = root.join("collections/victim");
    let older = root.join("older");
    std::fs::create_dir_all(&older).unwrap();
    std::fs::copy(dir.join("manifest.bin"), older.join("manifest.bin")).unwrap();
    copy_dir(&dir.join("segments"), &older.join("segments"));
    upsert(200..300, rng);
    std::fs::copy(dir.join("wal.log"), older.join("wal.log")).unwrap();
    let gone: Vec<PointId> = (0..50).map(PointId::Num).collect();
    victim.delete(&gone).unwrap();
    victim.snapshot().unwrap();
    upsert(300..400, rng);
    victim
        .delete(&(300..310).map(PointId::Num).collect::<Vec<_>>())
        .unwrap();
    // The last record: whatever is cut of the log's tail, it is the most a
    // torn tail may take.
    upsert(400..410, rng);
    for id in (0..50).chain(300..310) {
        live.remove(&id);
    }
    store.close();
    drop(victim);
    drop(bystander);
    drop(store);
    let history = History {
        live,
        deleted_for_good: (0..50).chain(300..310).collect(),
    };
    let log = older.join("wal.log");
    (history, older, log)
}

trait IdNum {
    fn id_num(&self) -> u64;
}

impl IdNum for PointWrite {
    fn id_num(&self) -> u64 {
        match self.id {
            PointId::Num(n) => n,
            PointId::Uuid(_) | PointId::Str(_) => unreachable!(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    Flip(f64),
    Truncate(f64),
    Delete,
    Older,
    Empty,
}

/// What a case must come to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Refused on its own.
    Refused,
    /// Opens with the acknowledged writes but for the log's last record (a
    /// torn tail looks exactly like this).
    ExactOrLastRecordCut,
}

fn damage(file: &Path, how: Damage, older: Option<&Path>) {
    match how {
        Damage::Flip(at) => {
            let mut bytes = std::fs::read(file).unwrap();
            let i = ((bytes.len() - 1) as f64 * at) as usize;
            bytes[i] ^= 0x20;
            std::fs::write(file, bytes).unwrap();
        }
        Damage::Truncate(keep) => {
            let len = std::fs::metadata(file).unwrap().len();
            let f = std::fs::OpenOptions::new().write(true).open(file).unwrap();
            f.set_len((len as f64 * keep) as u64).unwrap();
        }
        Damage::Delete => std::fs::remove_file(file).unwrap(),
        Damage::Older => {
            std::fs::copy(older.unwrap(), file).unwrap();
        }
        Damage::Empty => std::fs::write(file, b"").unwrap(),
    }
}

/// Checks what the victim serves against the history.
fn check_served(store: &Store, history: &History, expect: Expect, case: &str) {
    let victim = match store.get("victim") {
        Err(IndexError::CollectionDamaged { name, reason }) => {
            assert_eq!(
                expect,
                Expect::Refused,
                "{case}: refused, but it should open: {reason}"
            );
            assert_eq!(name, "victim");
            assert!(reason.contains("to recover"), "{case}: {reason}");
            assert_eq!(store.damaged().len(), 1, "{case}");
            return;
        }
        Err(other) => panic!("{case}: unexpected error {other}"),
        Ok(victim) => victim,
    };
    assert_ne!(
        expect,
        Expect::Refused,
        "{case}: the damage was not detected and the collection opened with {} points",
        victim.len()
    );
    for id in &history.deleted_for_good {
        assert!(
            victim.get(&PointId::Num(*id)).is_err(),
            "{case}: deleted point {id} is served again"
        );
    }
    let mut missing = Vec::new();
    for (id, vector) in &history.live {
        match victim.get(&PointId::Num(*id)) {
            Ok((stored, payload)) => {
                assert_eq!(&stored, vector, "{case}: point {id} has another vector");
                assert_eq!(payload.unwrap()["n"], *id, "{case}: point {id}'s payload");
            }
            Err(_) => missing.push(*id),
        }
    }
    // Only `ExactOrLastRecordCut` opens: the last record may be cut.
    assert!(
        missing.is_empty() || missing == (400..410).collect::<Vec<_>>(),
        "{case}: lost more than the last record: {missing:?}"
    );
    assert_eq!(victim.len(), history.live.len() - missing.len(), "{case}");
    // Searches answer from the same points.
    let q = vec![0.5f32; DIMS];
    let hits = victim
        .search(&trawl_index::SearchQuery {
            using: "",
            vector: &q,
            filter: None,
            filter_limits: Default::default(),
            limit: 10,
            ef: None,
            exact: true,
            oversample: None,
            rerank: true,
            with_payload: false,
            with_vector: false,
        })
        .unwrap();
    assert_eq!(hits.len(), 10, "{case}");
}

/// The names of the segment directories under `dir`, sorted.
fn segment_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn newest_segment(dir: &Path) -> String {
    segment_names(dir).pop().expect("a sealed segment")
}

fn oldest_segment(dir: &Path) -> String {
    segment_names(dir).swap_remove(0)
}

#[test]
fn damaged_files_are_detected_and_contained() {
    let seed = 0xda3a_9e01;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let work = TempDir::new("damage");
    let pristine = work.0.join("pristine");
    let (history, older_dir, older_log) = build(&pristine, &mut rng);
    let mut cases: Vec<(String, Damage, Expect)> = vec![
        ("config.json", Damage::Flip(0.0), Expect::Refused),
        ("config.json", Damage::Flip(0.5), Expect::Refused),
        ("config.json", Damage::Flip(1.0), Expect::Refused),
        ("config.json", Damage::Truncate(0.5), Expect::Refused),
        ("config.json", Damage::Delete, Expect::Refused),
        ("config.json", Damage::Empty, Expect::Refused),
        ("manifest.bin", Damage::Flip(0.0), Expect::Refused),
        ("manifest.bin", Damage::Flip(0.5), Expect::Refused),
        ("manifest.bin", Damage::Flip(1.0), Expect::Refused),
        ("manifest.bin", Damage::Truncate(0.5), Expect::Refused),
        ("manifest.bin", Damage::Truncate(0.0), Expect::Refused),
        ("manifest.bin", Damage::Delete, Expect::Refused),
        ("manifest.bin", Damage::Older, Expect::Refused),
        ("wal.log", Damage::Flip(0.0), Expect::Refused),
        ("wal.log", Damage::Flip(0.2), Expect::Refused),
        ("wal.log", Damage::Flip(0.5), Expect::Refused),
        ("wal.log", Damage::Flip(0.8), Expect::Refused),
        ("wal.log", Damage::Flip(1.0), Expect::Refused),
        ("wal.log", Damage::Truncate(0.0), Expect::Refused),
        ("wal.log", Damage::Delete, Expect::Refused),
        ("wal.log", Damage::Older, Expect::Refused),
        ("wal.log", Damage::Empty, Expect::Refused),
        // A cut through the last record is what a crash leaves: it was never
        // acknowledged as far as the log can tell (see docs/storage.md).
        (
            "wal.log",
            Damage::Truncate(0.99),
            Expect::ExactOrLastRecordCut,
        ),
    ]
    .into_iter()
    .map(|(f, d, e)| (f.to_string(), d, e))
    .collect();
    // Every file of the newest sealed segment, against the same file of
    // the oldest segment of the first checkpoint.
    let segments = pristine.join("collections/victim/segments");
    let newest = newest_segment(&segments);
    for file in [
        "ids.bin",
        "payloads.bin",
        "vectors.f32",
        "codes.bin",
        "graph.bin",
        "vectors.extra.f32",
        "graph.extra.bin",
        "absent.bin",
        "text.bin",
        "sparse.terms.bin",
    ] {
        for how in [
            Damage::Flip(0.0),
            Damage::Flip(0.5),
            Damage::Flip(1.0),
            Damage::Truncate(0.5),
            Damage::Delete,
            Damage::Older,
        ] {
            cases.push((format!("segments/{newest}/{file}"), how, Expect::Refused));
        }
    }
    let oldest = oldest_segment(&older_dir.join("segments"));
    let mut refused = 0;
    for (i, (file, how, expect)) in cases.iter().enumerate() {
        let case = format!("{file} {how:?}");
        let root = work.0.join(format!("case-{i}"));
        copy_dir(&pristine, &root);
        let dir = root.join("collections/victim");
        let older_file = match file.as_str() {
            "manifest.bin" => Some(older_dir.join("manifest.bin")),
            "wal.log" => Some(older_log.clone()),
            f => f
                .strip_prefix(&format!("segments/{newest}/"))
                .map(|name| older_dir.join("segments").join(&oldest).join(name)),
        };
        let older = older_file.as_deref();
        damage(&dir.join(file), *how, older);
        let store = Store::open(&root, wal())
            .unwrap_or_else(|e| panic!("{case}: the store did not open: {e}"));
        // The bystander serves as before.
        let bystander = store.get("bystander").unwrap();
        assert_eq!(bystander.len(), 50, "{case}");
        check_served(&store, &history, *expect, &case);
        if *expect == Expect::Refused {
            refused += 1;
            // Still refused after a plain reopen; deletable.
            assert!(store.reopen("victim", false).is_err(), "{case}");
            store.delete("victim").unwrap();
            assert!(store.get("victim").is_err());
            assert!(store.damaged().is_empty());
        }
        store.close();
        drop(store);
        let _ = std::fs::remove_dir_all(&root);
    }
    println!("{} cases, {refused} refused", cases.len());
}

#[test]
fn a_damaged_log_record_is_refused_until_the_intact_prefix_is_accepted() {
    let seed = 0xda3a_9e02;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let work = TempDir::new("damage-accept");
    let root = work.0.join("data");
    let (history, _, _) = build(&root, &mut rng);
    let log = root.join("collections/victim/wal.log");
    // A byte in the middle of the log: records after it are intact.
    damage(&log, Damage::Flip(0.5), None);
    let store = Store::open(&root, wal()).unwrap();
    let Err(IndexError::CollectionDamaged { reason, .. }) = store.get("victim") else {
        panic!("a flipped byte in the middle of the log must be refused");
    };
    assert!(reason.contains("intact records follow"), "{reason}");
    let victim = store.reopen("victim", true).unwrap();
    assert!(store.damaged().is_empty());
    // A prefix of what was acknowledged: the deletes before the damage hold,
    // every point served has its own vector.
    for id in 0..50 {
        assert!(victim.get(&PointId::Num(id)).is_err(), "deleted {id}");
    }
    let mut served = 0;
    for (id, vector) in &history.live {
        if let Ok((stored, _)) = victim.get(&PointId::Num(*id)) {
            assert_eq!(&stored, vector);
            served += 1;
        }
    }
    assert!(served >= 150, "the snapshot's points stay: {served}");
    assert!(served < history.live.len());
    // And it takes writes again.
    victim.upsert(vec![point(9_999, &mut rng)]).unwrap();
    store.close();
}

#[test]
fn an_empty_stray_directory_does_not_stop_the_store() {
    let work = TempDir::new("damage-stray");
    let store = Store::open(&work.0, wal()).unwrap();
    store.create("good", config(Layout::Float)).unwrap();
    drop(store);
    std::fs::create_dir_all(work.0.join("collections/stray")).unwrap();
    let store = Store::open(&work.0, wal()).unwrap();
    assert!(store.get("good").is_ok());
    assert!(matches!(
        store.get("stray"),
        Err(IndexError::CollectionDamaged { .. })
    ));
    assert_eq!(store.damaged()[0].0, "stray");
    store.delete("stray").unwrap();
    assert!(!work.0.join("collections/stray").exists());
}

#[test]
fn value_graph_files_are_checked_like_the_others() {
    let seed = 0xda3a_9e03;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let work = TempDir::new("damage-values");
    let pristine = work.0.join("pristine");
    let store = Store::open(&pristine, wal()).unwrap();
    let bystander = bystander(&store, &mut rng);
    // 80,000 points, a keyword of eight values: at `M` 8 each value's
    // points in a sealed segment get a graph of their own.
    let mut valued = config(Layout::Float);
    valued.vectors.retain(|name, _| name.is_empty());
    if let Some(v) = valued.vectors.get_mut("") {
        v.hnsw = HnswParams {
            m: 8,
            ef_construction: 64,
        };
    }
    valued
        .payload_schema
        .insert("group".into(), trawl_index::PayloadType::Keyword);
    let c = store.create("valued", valued).unwrap();
    for start in (0..80_000u64).step_by(10_000) {
        let batch = (start..start + 10_000)
            .map(|id| PointWrite {
                vectors: BTreeMap::new(),
                sparse: BTreeMap::new(),
                id: PointId::Num(id),
                vector: (0..DIMS).map(|_| rng.unit()).collect(),
                payload: serde_json::json!({ "group": format!("g{}", id % 8) })
                    .as_object()
                    .cloned(),
            })
            .collect();
        c.upsert(batch).unwrap();
    }
    c.wait_indexed();
    store.close();
    drop((c, bystander, store));
    let segments = pristine.join("collections/valued/segments");
    let with: Vec<String> = segment_names(&segments)
        .into_iter()
        .filter(|s| segments.join(s).join("values.bin").exists())
        .collect();
    assert!(!with.is_empty(), "value graphs were built");
    let victim = format!("segments/{}/values.bin", with[with.len() - 1]);
    let mut cases = vec![
        Damage::Flip(0.0),
        Damage::Flip(0.5),
        Damage::Flip(1.0),
        Damage::Truncate(0.5),
        Damage::Delete,
    ];
    // Another segment's value graphs in place of this one's.
    if with.len() > 1 {
        cases.push(Damage::Older);
    }
    println!(
        "{} segments with value graphs, {} cases",
        with.len(),
        cases.len()
    );
    for (i, how) in cases.into_iter().enumerate() {
        let case = format!("{victim} {how:?}");
        let root = work.0.join(format!("case-{i}"));
        copy_dir(&pristine, &root);
        let dir = root.join("collections/valued");
        let older = dir.join("segments").join(&with[0]).join("values.bin");
        damage(&dir.join(&victim), how, Some(&older));
        let store = Store::open(&root, wal())
            .unwrap_or_else(|e| panic!("{case}: the store did not open: {e}"));
        assert_eq!(store.get("bystander").unwrap().len(), 50, "{case}");
        match store.get("valued") {
            Err(IndexError::CollectionDamaged { reason, .. }) => {
                assert!(reason.contains("values.bin"), "{case}: {reason}");
            }
            Err(other) => panic!("{case}: unexpected error {other}"),
            Ok(_) => panic!("{case}: a damaged value graph file was served"),
        }
        store.close();
        drop(store);
        let _ = std::fs::remove_dir_all(&root);
    }
}
