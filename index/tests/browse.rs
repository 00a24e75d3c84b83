//! Scroll, count and facet on real files, against a model of what was
//! written, across sealed, frozen and appendable segments, and under
//! concurrent writes.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use trawl_index::filter::{Condition, Filter, FilterLimits, MatchValue};
use trawl_index::storage::WalOptions;
use trawl_index::{
    Collection, CollectionConfig, HnswParams, IndexError, Layout, Metric, Payload, PayloadType,
    PointId, PointWrite, ScrollQuery, SealPolicy,
};

use common::{Rng, TempDir};

const DIMS: usize = 16;

fn config() -> CollectionConfig {
    let mut payload_schema = BTreeMap::new();
    payload_schema.insert("colour".to_string(), PayloadType::Keyword);
    payload_schema.insert("size".to_string(), PayloadType::Integer);
    payload_schema.insert("weight".to_string(), PayloadType::Float);
    CollectionConfig {
        text: None,
        sparse: Default::default(),
        vectors: std::collections::BTreeMap::from([(
            String::new(),
            trawl_index::VectorConfig {
                dims: DIMS,
                metric: Metric::Cosine,
                layout: Layout::Binary { bits: 1 },
                hnsw: HnswParams::default(),
                muvera: None,
                encoder: None,
            },
        )]),
        payload_schema,
    }
}

const COLOURS: [&str; 5] = ["red", "green", "blue", "black", "white"];

fn payload(i: u64, version: u64) -> Payload {
    let mut p = Payload::new();
    p.insert("colour".into(), json!(COLOURS[(i + version) as usize % 5]));
    p.insert("size".into(), json!(i % 7));
    p.insert("weight".into(), json!(i as f64 / 3.0));
    // Unindexed: filters on it read payloads.
    p.insert(
        "tag".into(),
        json!(if i.is_multiple_of(3) {
            "third"
        } else {
            "other"
        }),
    );
    p.insert("version".into(), json!(version));
    p
}

fn point(id: PointId, i: u64, version: u64, rng: &mut Rng) -> PointWrite {
    PointWrite {
        vectors: Default::default(),
        sparse: Default::default(),
        id,
        vector: (0..DIMS).map(|_| rng.unit()).collect(),
        payload: Some(payload(i, version)),
    }
}

fn uuid(i: u64) -> PointId {
    PointId::Uuid(uuid::Uuid::from_u64_pair(0x7a5e, i))
}

/// Points in several sealed segments, a frozen or appendable tail, some
/// replaced (so they moved segments) and some deleted. Returns the model.
fn populate(c: &Collection, rng: &mut Rng) -> BTreeMap<PointId, Payload> {
    let mut model = BTreeMap::new();
    let write = |model: &mut BTreeMap<PointId, Payload>,
                 ids: &[(PointId, u64)],
                 version: u64,
                 rng: &mut Rng| {
        let batch: Vec<PointWrite> = ids
            .iter()
            .map(|(id, i)| point(id.clone(), *i, version, rng))
            .collect();
        for p in &batch {
            model.insert(p.id.clone(), p.payload.clone().unwrap());
        }
        c.upsert(batch).unwrap();
    };
    // Ids in a shuffled order, so that segments do not hold id ranges.
    let mut numbers: Vec<u64> = (0..3_000).map(|i| i * 7 % 3_001).collect();
    for i in (1..numbers.len()).rev() {
        numbers.swap(i, rng.next() as usize % (i + 1));
    }
    for chunk in numbers.chunks(1_000) {
        let ids: Vec<(PointId, u64)> = chunk.iter().map(|&n| (PointId::Num(n), n)).collect();
        write(&mut model, &ids, 0, rng);
        c.wait_indexed();
    }
    let uuids: Vec<(PointId, u64)> = (0..300).map(|i| (uuid(i), i)).collect();
    write(&mut model, &uuids, 0, rng);
    // Replaced: their new versions live in the appendable segment.
    let replaced: Vec<(PointId, u64)> = (100..400)
        .map(|n| (PointId::Num(n * 7 % 3_001), n))
        .collect();
    let replaced: Vec<(PointId, u64)> = replaced
        .into_iter()
        .filter(|(id, _)| model.contains_key(id))
        .collect();
    write(&mut model, &replaced, 1, rng);
    let gone: Vec<PointId> = (0..3_000).step_by(11).map(PointId::Num).collect();
    c.delete(&gone).unwrap();
    for id in &gone {
        model.remove(id);
    }
    model
}

fn scroll_all(c: &Collection, filter: Option<&Filter>, limit: usize) -> Vec<(PointId, Payload)> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = c
            .scroll(
                &ScrollQuery {
                    filter,
                    after: after.as_ref(),
                    limit,
                    with_payload: true,
                    with_vector: false,
                },
                &FilterLimits::default(),
            )
            .unwrap();
        assert!(page.points.len() <= limit);
        out.extend(page.points.into_iter().map(|p| (p.id, p.payload.unwrap())));
        match page.next {
            Some(next) => {
                assert_eq!(Some(&next), out.last().map(|(id, _)| id));
                after = Some(next);
            }
            None => return out,
        }
    }
}

fn keyword(key: &str, value: &str) -> Filter {
    Filter {
        must: vec![Condition::Match {
            key: key.into(),
            value: MatchValue::Keyword(value.into()),
        }],
        ..Filter::default()
    }
}

/// Stops the writer threads however the checking thread leaves its scope
/// (a failed assertion included), so that a failure fails instead of hanging.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn wal() -> WalOptions {
    WalOptions {
        sync: false,
        ..WalOptions::default()
    }
}

#[test]
fn scroll_count_and_facet_agree_with_a_model_across_segments() {
    let seed = 0x5eed_b0b5;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let dir = TempDir::new("browse-model");
    // Every batch a segment of its own (no seal takes in the one before).
    let policy = SealPolicy {
        fold_ratio: 0,
        ..SealPolicy::default()
    };
    let c = Collection::create_with("docs", &dir.0.join("docs"), config(), wal(), policy).unwrap();
    let model = populate(&c, &mut rng);
    assert!(c.stats().segments >= 3, "several sealed segments");

    // Every point once, in id order (integers, then UUIDs), with its
    // newest payload, whatever the page size.
    let expected: Vec<(PointId, Payload)> = model.clone().into_iter().collect();
    for limit in [1, 7, 100, 10_000] {
        let all = scroll_all(&c, None, limit);
        assert_eq!(all.len(), expected.len(), "limit {limit}");
        if let Some((got, want)) = all.iter().zip(&expected).find(|(a, b)| a != b) {
            panic!("limit {limit}: got {got:?}, the model has {want:?}");
        }
    }

    // Filters answered by the index, and by reading payloads.
    let filters = [
        keyword("colour", "red"),
        keyword("tag", "third"),
        Filter {
            must: vec![Condition::Match {
                key: "size".into(),
                value: MatchValue::Integer(3),
            }],
            must_not: vec![Condition::Match {
                key: "tag".into(),
                value: MatchValue::Keyword("third".into()),
            }],
            ..Filter::default()
        },
    ];
    for filter in &filters {
        let want: Vec<(PointId, Payload)> = model
            .iter()
            .filter(|(id, p)| filter.matches(id, Some(p)))
            .map(|(id, p)| (id.clone(), p.clone()))
            .collect();
        assert!(!want.is_empty());
        assert!(scroll_all(&c, Some(filter), 50) == want, "{filter:?}");
        let counted = c
            .count(Some(filter), true, &FilterLimits::default())
            .unwrap();
        assert_eq!(
            (counted.count, counted.exact),
            (want.len(), true),
            "{filter:?}"
        );
    }
    let all = c.count(None, true, &FilterLimits::default()).unwrap();
    assert_eq!(all.count, model.len());
    // An estimate is close, and says whether it is exact.
    let estimate = c
        .count(
            Some(&keyword("colour", "red")),
            false,
            &FilterLimits::default(),
        )
        .unwrap();
    let exact = model
        .values()
        .filter(|p| p["colour"] == json!("red"))
        .count();
    assert!(
        estimate.count.abs_diff(exact) <= exact / 5,
        "estimate {estimate:?}, exact {exact}"
    );

    // Facets: per value, the points holding it among the filtered ones.
    let filter = keyword("tag", "third");
    let facet = c
        .facet("colour", Some(&filter), 10, &FilterLimits::default())
        .unwrap();
    let mut want: HashMap<Value, usize> = HashMap::new();
    for (id, p) in &model {
        if filter.matches(id, Some(p)) {
            *want.entry(p["colour"].clone()).or_default() += 1;
        }
    }
    assert_eq!(facet.len(), want.len());
    for (value, count) in &facet {
        assert_eq!(want[value], *count, "{value}");
    }
    assert!(
        facet.windows(2).all(|w| w[0].1 >= w[1].1),
        "most frequent first"
    );
    let sizes = c.facet("size", None, 3, &FilterLimits::default()).unwrap();
    assert_eq!(sizes.len(), 3);

    // Refusals name the field.
    let limits = FilterLimits::default();
    for (result, field) in [
        (c.facet("weight", None, 10, &limits).map(|_| ()), "key"),
        (c.facet("tag", None, 10, &limits).map(|_| ()), "key"),
        (c.facet("colour", None, 0, &limits).map(|_| ()), "limit"),
        (
            c.scroll(
                &ScrollQuery {
                    filter: None,
                    after: None,
                    limit: 0,
                    with_payload: false,
                    with_vector: false,
                },
                &limits,
            )
            .map(|_| ()),
            "limit",
        ),
    ] {
        match result {
            Err(IndexError::InvalidParameter { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected a refusal of {field}, got {other:?}"),
        }
    }

    // Vectors come back when asked for.
    let page = c
        .scroll(
            &ScrollQuery {
                filter: None,
                after: None,
                limit: 3,
                with_payload: false,
                with_vector: true,
            },
            &limits,
        )
        .unwrap();
    for p in &page.points {
        assert_eq!(p.vector.as_ref().unwrap(), &c.get(&p.id).unwrap().0);
        assert!(p.payload.is_none());
    }

    // The same answers after a reopen.
    c.close();
    drop(c);
    let c = Collection::open("docs", &dir.0.join("docs"), wal()).unwrap();
    assert!(scroll_all(&c, None, 333) == expected);
}

/// While writers add, replace and delete points, a scroll with small pages
/// returns every point present for its whole length exactly once, and a
/// count of a collection whose points are only being replaced never moves.
#[test]
fn scroll_and_count_are_stable_under_concurrent_writes() {
    let seed = 0x5eed_5c01;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let dir = TempDir::new("browse-concurrent");
    let policy = SealPolicy {
        points: 700,
        ..SealPolicy::default()
    };
    let c = Collection::create_with("docs", &dir.0.join("docs"), config(), wal(), policy).unwrap();
    // Stable points: even ids, replaced over and over but never deleted.
    // Volatile ones: odd ids, deleted and written again.
    let stable: BTreeSet<PointId> = (0..4_000).step_by(2).map(PointId::Num).collect();
    let all: Vec<PointWrite> = (0..4_000)
        .map(|n| point(PointId::Num(n), n, 0, &mut rng))
        .collect();
    c.upsert(all.clone()).unwrap();
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let replacer = scope.spawn(|| {
            let mut rng = Rng(seed ^ 1);
            let mut version = 1;
            while !stop.load(Ordering::Relaxed) {
                let start = rng.next() % 3_800;
                let batch: Vec<PointWrite> = (start..start + 200)
                    .filter(|n| n % 2 == 0)
                    .map(|n| point(PointId::Num(n), n, version, &mut rng))
                    .collect();
                c.upsert(batch).unwrap();
                version += 1;
            }
        });
        let churner = scope.spawn(|| {
            let mut rng = Rng(seed ^ 2);
            while !stop.load(Ordering::Relaxed) {
                let start = rng.next() % 3_800;
                let odd: Vec<PointId> = (start..start + 100)
                    .filter(|n| n % 2 == 1)
                    .map(PointId::Num)
                    .collect();
                c.delete(&odd).unwrap();
                let back: Vec<PointWrite> = odd
                    .iter()
                    .map(|id| point(id.clone(), 1, 9, &mut rng))
                    .collect();
                c.upsert(back).unwrap();
            }
        });
        let _stop = StopOnDrop(&stop);
        for round in 0..6 {
            let seen = scroll_all(&c, None, 37 + round * 50);
            let ids: Vec<PointId> = seen.iter().map(|(id, _)| id.clone()).collect();
            assert!(
                ids.windows(2).all(|w| w[0] < w[1]),
                "in order, no point twice"
            );
            let seen: BTreeSet<PointId> = ids.into_iter().collect();
            let missing: Vec<_> = stable.difference(&seen).take(5).collect();
            assert!(
                missing.is_empty(),
                "round {round}: stable points missed: {missing:?}"
            );
        }
        stop.store(true, Ordering::Relaxed);
        replacer.join().unwrap();
        churner.join().unwrap();
    });

    // Only replacements now: the count never moves.
    let c = &c;
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let replacer = scope.spawn(|| {
            let mut rng = Rng(seed ^ 3);
            let mut version = 100;
            while !stop.load(Ordering::Relaxed) {
                let start = rng.next() % 3_500;
                let batch: Vec<PointWrite> = (start..start + 500)
                    .map(|n| point(PointId::Num(n), n, version, &mut rng))
                    .collect();
                c.upsert(batch).unwrap();
                version += 1;
            }
        });
        let red = keyword("colour", "red");
        let _stop = StopOnDrop(&stop);
        for _ in 0..200 {
            let n = c.count(None, true, &FilterLimits::default()).unwrap();
            assert_eq!(n.count, 4_000);
            let facet = c.facet("size", None, 10, &FilterLimits::default()).unwrap();
            assert_eq!(facet.iter().map(|v| v.1).sum::<usize>(), 4_000);
            // Each point is red in one version of five: never more than all.
            let reds = c.count(Some(&red), true, &FilterLimits::default()).unwrap();
            assert!(reds.count <= 4_000);
        }
        stop.store(true, Ordering::Relaxed);
        replacer.join().unwrap();
    });
}
