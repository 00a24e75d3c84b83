//! Value graphs: a sealed float segment builds a graph over the points of
//! each payload value worth one, and a filter within that value walks it.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;
use trawl_index::filter::{Condition, Filter, MatchValue, Range};
use trawl_index::{
    Collection, CollectionConfig, HnswParams, Layout, Metric, Payload, PayloadType, PointId,
    PointWrite, Store,
};

use super::common::{Rng, TempDir};
use super::{DIMS, query, wal};

/// Clusters, one payload value each: 12.5 % of the points per value.
const CLUSTERS: usize = 8;
/// Points: a value's 10,000 (and half of them) are past the exact-scan
/// threshold, and at `M` 8 the planner would walk rather than scan them
/// (see `value_graphs::worth_a_graph` in the index).
const POINTS: usize = 80_000;

fn config() -> CollectionConfig {
    CollectionConfig {
        text: None,
        sparse: Default::default(),
        vectors: BTreeMap::from([(
            String::new(),
            trawl_index::VectorConfig {
                hnsw: HnswParams {
                    m: 8,
                    ef_construction: 100,
                },
                ..trawl_index::VectorConfig::new(DIMS, Metric::Cosine, Layout::Float)
            },
        )]),
        payload_schema: BTreeMap::from([
            ("cluster".to_string(), PayloadType::Keyword),
            ("bucket".to_string(), PayloadType::Integer),
        ]),
    }
}

/// Directions points spread along from their centre: data of low
/// intrinsic dimension, as embeddings are.
const SPREAD_DIMS: usize = 6;

/// A point near `centre`: `spread` times uniform noise along each of
/// `basis`'s directions.
fn near(centre: &[f32], basis: &[Vec<f32>], spread: f32, rng: &mut Rng) -> Vec<f32> {
    let mut v = centre.to_vec();
    for direction in basis {
        let t = spread * rng.unit();
        v.iter_mut().zip(direction).for_each(|(x, d)| *x += t * d);
    }
    v
}

/// Point `i` lies near centre `i % CLUSTERS` and holds that cluster's name:
/// a filter on one cluster is far from a query near another.
fn points(centres: &[Vec<f32>], basis: &[Vec<f32>], rng: &mut Rng) -> Vec<PointWrite> {
    (0..POINTS)
        .map(|i| {
            let c = i % CLUSTERS;
            let mut payload = Payload::new();
            payload.insert("cluster".into(), json!(format!("c{c}")));
            payload.insert("bucket".into(), json!(i % 1000));
            PointWrite {
                vectors: Default::default(),
                sparse: Default::default(),
                id: PointId::Num(i as u64),
                vector: near(&centres[c], basis, 1.0, rng),
                payload: Some(payload),
            }
        })
        .collect()
}

fn cluster(c: usize) -> Condition {
    Condition::Match {
        key: "cluster".into(),
        value: MatchValue::Keyword(format!("c{c}")),
    }
}

/// recall@10 of the planned search against the exact one, over queries
/// near each cluster filtered on the next one; never short, only matches.
fn recall(
    c: &Collection,
    (centres, basis): (&[Vec<f32>], &[Vec<f32>]),
    filter: &Filter,
    rng: &mut Rng,
) -> f64 {
    let (mut hits, mut wanted) = (0, 0);
    for round in 0..40 {
        let q = near(&centres[round % CLUSTERS], basis, 1.0, rng);
        let truth = c.search(&query(&q, Some(filter), 10, true)).unwrap();
        let got = c.search(&query(&q, Some(filter), 10, false)).unwrap();
        assert_eq!(got.len(), truth.len(), "never short");
        assert!(
            got.iter()
                .all(|h| filter.matches(&h.id, h.payload.as_ref()))
        );
        wanted += truth.len();
        hits += got
            .iter()
            .filter(|h| truth.iter().any(|t| t.id == h.id))
            .count();
    }
    hits as f64 / wanted.max(1) as f64
}

/// Sealed segments, and how many of them hold value graphs.
fn value_graph_files(dir: &Path) -> (usize, usize) {
    let segments: Vec<_> = std::fs::read_dir(dir.join("collections/docs/segments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let with = segments.iter().filter(|s| s.join("values.bin").exists());
    (segments.len(), with.count())
}

#[test]
fn a_filter_within_one_value_walks_that_values_graph() {
    let seed = 0x5eed_0a1e;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let mut draw = |n: usize| -> Vec<Vec<f32>> {
        (0..n)
            .map(|_| (0..DIMS).map(|_| rng.unit()).collect())
            .collect()
    };
    let (centres, basis) = (draw(CLUSTERS), draw(SPREAD_DIMS));
    let dir = TempDir::new("value-graphs");
    let store = Store::open(&dir.0, wal()).unwrap();
    let c = store.create("docs", config()).unwrap();
    for chunk in points(&centres, &basis, &mut rng).chunks(10_000) {
        c.upsert(chunk.to_vec()).unwrap();
    }
    c.wait_indexed();
    let (segments, with) = value_graph_files(&dir.0);
    assert!(
        segments >= 1 && with == segments,
        "{with} of {segments} segments have value graphs"
    );
    let one = Filter {
        must: vec![cluster(3)],
        ..Filter::default()
    };
    // Within the value: half its points.
    let narrower = Filter {
        must: vec![
            cluster(3),
            Condition::Range {
                key: "bucket".into(),
                range: Range {
                    lt: Some(500.0),
                    ..Range::default()
                },
            },
        ],
        ..Filter::default()
    };
    // Two values: no value graph covers it, the segment's graph serves.
    let two = Filter {
        should: vec![cluster(3), cluster(4)],
        ..Filter::default()
    };
    let check = |c: &Collection, rng: &mut Rng, when: &str| {
        for (name, filter) in [("one value", &one), ("narrower", &narrower), ("two", &two)] {
            let r = recall(c, (&centres, &basis), filter, rng);
            println!("{when}: {name}: recall@10 {r:.3}");
            assert!(r >= 0.95, "{when}: {name}: recall@10 {r}");
        }
    };
    check(&c, &mut rng, "sealed");
    // Deleted points stay nodes of the value graph but are never served.
    let deleted: Vec<PointId> = (0..POINTS)
        .filter(|i| i % CLUSTERS == 3 && (i / CLUSTERS).is_multiple_of(10))
        .map(|i| PointId::Num(i as u64))
        .collect();
    c.delete(&deleted).unwrap();
    check(&c, &mut rng, "after deletes");
    c.close();
    drop(c);
    drop(store);
    let store = Store::open(&dir.0, wal()).unwrap();
    let c = store.get("docs").unwrap();
    assert_eq!(c.len(), POINTS - deleted.len());
    check(&c, &mut rng, "reopened");
}
