//! Sparse vectors: the pruned (MaxScore) search over sealed, frozen and
//! appendable segments returns what brute force over the same vectors
//! returns, with filters, IDF, deletions, replacements and a reopen; a
//! collection may hold sparse vectors only.

mod common;

use std::collections::BTreeMap;

use trawl_index::filter::{Condition, Filter, FilterLimits, MatchValue};
use trawl_index::sparse::{SparseConfig, SparseVector, idf};
use trawl_index::storage::WalOptions;
use trawl_index::{
    Collection, CollectionConfig, IndexError, Layout, Metric, Payload, PayloadType, PointId,
    PointWrite, SealPolicy, SparseSearch, VectorConfig,
};

use common::{Rng, TempDir};

const VOCABULARY: u64 = 3_000;

fn config() -> CollectionConfig {
    let mut config = CollectionConfig::single(VectorConfig::new(4, Metric::Cosine, Layout::Float));
    config
        .sparse
        .insert("splade".into(), SparseConfig { idf: false });
    config
        .sparse
        .insert("bow".into(), SparseConfig { idf: true });
    config
        .payload_schema
        .insert("group".into(), PayloadType::Keyword);
    config
}

/// SPLADE-shaped: `1..max` indices skewed towards small ones (frequent
/// terms), positive weights with a few negative ones when `signed`.
fn sparse(rng: &mut Rng, max: u64, signed: bool) -> SparseVector {
    let n = 1 + rng.next() % max;
    let mut entries = BTreeMap::new();
    for _ in 0..n {
        let a = rng.next() % VOCABULARY;
        let b = rng.next() % VOCABULARY;
        let w = (rng.next() % 1_000 + 1) as f32 / 250.0;
        let w = if signed && rng.next().is_multiple_of(10) {
            -w
        } else {
            w
        };
        entries.insert(a.min(b) as u32, w);
    }
    SparseVector {
        indices: entries.keys().copied().collect(),
        values: entries.values().copied().collect(),
    }
}

/// What the model holds of a point.
#[derive(Clone)]
struct Held {
    splade: Option<SparseVector>,
    bow: Option<SparseVector>,
    group: u64,
}

fn point(i: u64, held: &Held, rng: &mut Rng) -> PointWrite {
    let mut payload = Payload::new();
    payload.insert(
        "group".into(),
        serde_json::json!(format!("g{}", held.group)),
    );
    let mut p = PointWrite::new(
        PointId::Num(i),
        (0..4).map(|_| rng.unit()).collect(),
        Some(payload),
    );
    if let Some(v) = &held.splade {
        p.sparse.insert("splade".into(), v.clone());
    }
    if let Some(v) = &held.bow {
        p.sparse.insert("bow".into(), v.clone());
    }
    p
}

fn random_held(i: u64, rng: &mut Rng) -> Held {
    Held {
        // Every 11th point holds no splade vector, every 13th no bow one.
        splade: (!i.is_multiple_of(11)).then(|| sparse(rng, 60, true)),
        bow: (!i.is_multiple_of(13)).then(|| sparse(rng, 30, false)),
        group: i % 3,
    }
}

fn search(
    c: &Collection,
    using: &str,
    q: &SparseVector,
    filter: Option<&Filter>,
    limit: usize,
    exact: bool,
) -> Vec<(u64, f32)> {
    c.search_sparse(&SparseSearch {
        using,
        vector: q,
        filter,
        filter_limits: FilterLimits::default(),
        limit,
        exact,
        with_payload: false,
        with_vector: false,
    })
    .unwrap()
    .into_iter()
    .map(|hit| {
        let PointId::Num(id) = hit.id else {
            panic!("numeric ids only")
        };
        (id, hit.score)
    })
    .collect()
}

/// Brute force over the model: every point sharing an index with the
/// query, by dot product (query weights scaled by `weights`).
fn brute(
    model: &BTreeMap<u64, Held>,
    pick: impl Fn(&Held) -> Option<&SparseVector>,
    q: &SparseVector,
    keep: impl Fn(u64, &Held) -> bool,
    limit: usize,
) -> Vec<(u64, f32)> {
    let mut all: Vec<(u64, f32)> = model
        .iter()
        .filter(|(i, h)| keep(**i, h))
        .filter_map(|(i, h)| {
            let v = pick(h)?;
            let shared = v.indices.iter().any(|t| q.indices.binary_search(t).is_ok());
            shared.then(|| (*i, v.dot(q)))
        })
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(limit);
    all
}

fn assert_same(got: &[(u64, f32)], want: &[(u64, f32)], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g.1 - w.1).abs() <= 1e-4 * w.1.abs().max(1.0),
            "{what}: score {g:?} vs brute force's {w:?}\n{got:?}\n{want:?}"
        );
    }
    let last = want.last().map_or(0.0, |w| w.1);
    let above = |v: &[(u64, f32)]| {
        let mut ids: Vec<u64> = v
            .iter()
            .filter(|x| x.1 > last + 1e-4 * last.abs().max(1.0))
            .map(|x| x.0)
            .collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(
        above(got),
        above(want),
        "{what}: different points above the last score"
    );
}

fn group(g: &str) -> Filter {
    Filter {
        must: vec![Condition::Match {
            key: "group".into(),
            value: MatchValue::Keyword(g.into()),
        }],
        ..Filter::default()
    }
}

/// Pruned and exact searches of `splade` against brute force, unfiltered
/// and filtered, at two limits.
fn check_splade(c: &Collection, model: &BTreeMap<u64, Held>, rng: &mut Rng, what: &str) {
    for n in 0..25 {
        let q = sparse(rng, 1 + n * 2, n % 4 == 3);
        for limit in [10, 100] {
            let want = brute(model, |h| h.splade.as_ref(), &q, |_, _| true, limit);
            let what = format!("{what}: query {n}, limit {limit}");
            assert_same(&search(c, "splade", &q, None, limit, false), &want, &what);
            assert_same(&search(c, "splade", &q, None, limit, true), &want, &what);
            let want = brute(model, |h| h.splade.as_ref(), &q, |_, h| h.group == 1, limit);
            let got = search(c, "splade", &q, Some(&group("g1")), limit, false);
            assert_same(&got, &want, &format!("{what}, group g1"));
        }
    }
}

#[test]
fn pruned_sparse_search_equals_brute_force_over_segments() {
    let seed = 0x5_9a45e;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let dir = TempDir::new("sparse");
    let path = dir.0.join("docs");
    let policy = SealPolicy {
        points: 300,
        bytes: 1 << 30,
        // Segments of their own (no seal takes in the one before).
        fold_ratio: 0,
    };
    let c =
        Collection::create_with("docs", &path, config(), WalOptions::default(), policy).unwrap();
    let mut model = BTreeMap::new();
    let mut writes = Vec::new();
    for i in 0..1_500u64 {
        let held = random_held(i, &mut rng);
        writes.push(point(i, &held, &mut rng));
        model.insert(i, held);
    }
    for chunk in writes.chunks(100) {
        c.upsert(chunk.to_vec()).unwrap();
    }
    c.wait_indexed();
    for i in 1_500..1_600u64 {
        let held = random_held(i, &mut rng);
        c.upsert(vec![point(i, &held, &mut rng)]).unwrap();
        model.insert(i, held);
    }
    let stats = c.stats();
    assert!(stats.segments >= 2 && stats.unsealed > 0, "{stats:?}");
    assert!(
        stats.memory.sparse > 0 && stats.memory.sparse_file > 0,
        "{stats:?}"
    );
    check_splade(&c, &model, &mut rng, "fresh");

    // IDF, over every segment (no point deleted yet: N and df are the model's).
    let holding = model.values().filter(|h| h.bow.is_some()).count() as u64;
    for n in 0..10 {
        let q = sparse(&mut rng, 2 + n, false);
        let weighted = SparseVector {
            indices: q.indices.clone(),
            values: q
                .indices
                .iter()
                .zip(&q.values)
                .map(|(t, w)| {
                    let df = model
                        .values()
                        .filter(|h| h.bow.as_ref().is_some_and(|v| v.indices.contains(t)))
                        .count() as u64;
                    w * idf(holding, df)
                })
                .collect(),
        };
        let want = brute(&model, |h| h.bow.as_ref(), &weighted, |_, _| true, 20);
        assert_same(
            &search(&c, "bow", &q, None, 20, false),
            &want,
            &format!("idf query {n}"),
        );
    }

    // A point's sparse vectors read back as written (sorted, zeros dropped).
    let hit = c.fetch(&[PointId::Num(7)], false, true).remove(0).unwrap();
    assert_eq!(hit.sparse.get("splade"), model[&7].splade.as_ref());
    assert_eq!(hit.sparse.get("bow"), model[&7].bow.as_ref());
    let hit = c.fetch(&[PointId::Num(22)], false, true).remove(0).unwrap();
    assert!(!hit.sparse.contains_key("splade"), "{hit:?}");

    // Reopened: the sealed files are read back, the log replayed.
    c.close();
    drop(c);
    let c = Collection::open_with("docs", &path, WalOptions::default(), policy).unwrap();
    check_splade(&c, &model, &mut rng, "reopened");

    // Deleted and replaced points: never returned with their old vectors.
    let deleted: Vec<PointId> = (1..1_500).step_by(5).map(PointId::Num).collect();
    c.delete(&deleted).unwrap();
    for id in &deleted {
        let PointId::Num(i) = id else { unreachable!() };
        model.remove(i);
    }
    let mut replaced = Vec::new();
    for i in (2..1_500u64).step_by(5) {
        let held = random_held(i, &mut rng);
        replaced.push(point(i, &held, &mut rng));
        model.insert(i, held);
    }
    c.upsert(replaced).unwrap();
    check_splade(&c, &model, &mut rng, "after deletes");
    c.wait_indexed();
    check_splade(&c, &model, &mut rng, "after deletes, sealed");

    // A query sharing no index, or an empty one: no hits, not an error.
    let none = SparseVector {
        indices: vec![VOCABULARY as u32 + 7],
        values: vec![1.0],
    };
    assert!(search(&c, "splade", &none, None, 10, false).is_empty());
    assert!(search(&c, "splade", &SparseVector::default(), None, 10, false).is_empty());
}

#[test]
fn sparse_vectors_are_checked_and_named() {
    let dir = TempDir::new("sparse-errors");
    let c = Collection::create("c", &dir.0.join("c"), config(), WalOptions::default()).unwrap();
    let mut rng = Rng(5);
    let mut p = point(1, &random_held(1, &mut rng), &mut rng);
    p.sparse.insert(
        "splade".into(),
        SparseVector {
            indices: vec![4, 4],
            values: vec![1.0, 2.0],
        },
    );
    let err = c.upsert(vec![p]).unwrap_err();
    assert!(
        matches!(&err, IndexError::InvalidVector { field, reason }
            if field == "points[0].vectors.splade" && reason.contains("index 4 appears twice")),
        "{err}"
    );
    let mut p = point(1, &random_held(1, &mut rng), &mut rng);
    p.sparse.insert("nope".into(), SparseVector::default());
    let err = c.upsert(vec![p]).unwrap_err().to_string();
    assert!(err.contains("nope") && err.contains("\"splade\""), "{err}");
    let q = SparseVector {
        indices: vec![1],
        values: vec![1.0],
    };
    for (using, says) in [("", "dense"), ("nope", "no sparse vector named")] {
        let err = c
            .search_sparse(&SparseSearch {
                using,
                vector: &q,
                filter: None,
                filter_limits: FilterLimits::default(),
                limit: 5,
                exact: false,
                with_payload: false,
                with_vector: false,
            })
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{using}: {err}");
    }
    let mut clash = config();
    clash.sparse.insert(String::new(), SparseConfig::default());
    assert!(clash.validate().is_err());
}

#[test]
fn a_collection_may_hold_sparse_vectors_only() {
    let dir = TempDir::new("sparse-only");
    let path = dir.0.join("s");
    let mut config = CollectionConfig::single(VectorConfig::new(4, Metric::Dot, Layout::Float));
    config.vectors.clear();
    config
        .sparse
        .insert("splade".into(), SparseConfig::default());
    config.validate().unwrap();
    let policy = SealPolicy {
        points: 200,
        bytes: 1 << 30,
        fold_ratio: trawl_index::FOLD_RATIO,
    };
    let c = Collection::create_with("s", &path, config, WalOptions::default(), policy).unwrap();
    let mut rng = Rng(77);
    let mut model = BTreeMap::new();
    for chunk in 0..5u64 {
        let mut writes = Vec::new();
        for i in chunk * 100..(chunk + 1) * 100 {
            let held = Held {
                splade: Some(sparse(&mut rng, 40, false)),
                bow: None,
                group: i % 3,
            };
            let mut p = PointWrite::new(PointId::Num(i), Vec::new(), None);
            p.sparse
                .insert("splade".into(), held.splade.clone().unwrap());
            writes.push(p);
            model.insert(i, held);
        }
        c.upsert(writes).unwrap();
    }
    c.wait_indexed();
    assert!(c.stats().segments >= 1, "{:?}", c.stats());
    c.close();
    drop(c);
    let c = Collection::open_with("s", &path, WalOptions::default(), policy).unwrap();
    assert_eq!(c.len(), 500);
    for n in 0..10 {
        let q = sparse(&mut rng, 1 + n * 3, false);
        let want = brute(&model, |h| h.splade.as_ref(), &q, |_, _| true, 10);
        assert_same(
            &search(&c, "splade", &q, None, 10, false),
            &want,
            &format!("query {n}"),
        );
    }
    // A point must still hold some vector; one whose weights are all zero
    // holds none.
    let err = c
        .upsert(vec![PointWrite::new(PointId::Num(9_999), Vec::new(), None)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("holds no vector"), "{err}");
    let mut zeros = PointWrite::new(PointId::Num(9_999), Vec::new(), None);
    zeros.sparse.insert(
        "splade".into(),
        SparseVector {
            indices: vec![3, 4],
            values: vec![0.0, 0.0],
        },
    );
    let err = c.upsert(vec![zeros]).unwrap_err().to_string();
    assert!(err.contains("holds no vector"), "{err}");
}
