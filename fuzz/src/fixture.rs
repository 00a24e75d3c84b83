//! Fixed inputs the targets evaluate against: one payload, one payload schema,
//! and small collections (one per layout) built once per process.
//!
//! The collections are never written to after they are built, so every input
//! sees the same state and a crash reproduces from its input alone.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::{Value, json};
use trawl_index::filter::{Filter, FilterLimits};
use trawl_index::muvera::FdeParams;
use trawl_index::storage::WalOptions;
use trawl_index::{
    Collection, CollectionConfig, HnswParams, Layout, Metric, Payload, PayloadType, PointId,
    PointWrite, SearchQuery,
};

use crate::scratch::Dir;

/// Token (or vector) dimension of every fixture collection.
pub const DIMS: usize = 4;
/// Points in every fixture collection.
pub const POINTS: usize = 40;

/// The payload schema of the fixture collections: one indexed field per type.
pub fn schema() -> BTreeMap<String, PayloadType> {
    [
        ("pos", PayloadType::Keyword),
        ("len", PayloadType::Integer),
        ("score", PayloadType::Float),
        ("ok", PayloadType::Bool),
        ("len_words", PayloadType::Integer),
    ]
    .into_iter()
    .map(|(k, t)| (k.to_owned(), t))
    .collect()
}

/// One payload with every shape the evaluator distinguishes: keywords and
/// arrays of them, integers beyond 2^53 and `u64::MAX`, floats, bools,
/// `null`, empty arrays, arrays of objects and nested objects.
pub fn payload() -> Payload {
    let value = json!({
        "pos": ["noun", "verb"],
        "len": 3,
        "len_words": 12,
        "score": 0.5,
        "ok": true,
        "source": "gcide",
        "lang": "en",
        "big": 9_007_199_254_740_993_i64,
        "huge": u64::MAX,
        "neg": -7,
        "f": 2.5,
        "nul": null,
        "empty": [],
        "meta": [{"tag": "a", "n": 1}, {"tag": ["b", "c"], "n": [2, 3.5]}, 7],
        "nested": {"a": {"b": "x", "c": [true, false]}},
        "": "empty key",
        "a.b": "a dotted key"
    });
    into_payload(value)
}

fn into_payload(value: Value) -> Payload {
    match value {
        Value::Object(map) => map,
        _ => Payload::new(),
    }
}

/// Ids the fixed [`payload`] is evaluated under (a `has_id` condition sees them).
pub fn ids() -> [PointId; 3] {
    [
        PointId::Num(1),
        PointId::Num(u64::MAX),
        PointId::Uuid(uuid::Uuid::from_u128(
            0x5f0c_2f3e_1111_4222_8333_4444_5555_6666,
        )),
    ]
}

/// The id of fixture point `i`: integers, and a few UUIDs.
pub fn point_id(i: usize) -> PointId {
    if i % 10 == 9 {
        PointId::Uuid(uuid::Uuid::from_u128(
            0x5f0c_2f3e_1111_4222_8333_0000_0000_0000 + i as u128,
        ))
    } else {
        PointId::Num(i as u64)
    }
}

/// The payload of fixture point `i`: varied values, some of them of another
/// type than the schema indexes the field as, and some points without one.
pub fn point_payload(i: usize) -> Option<Payload> {
    if i % 9 == 8 {
        return None;
    }
    let n = i as i64;
    let mut p = json!({
        "pos": match i % 4 { 0 => json!("noun"), 1 => json!(["verb", "adj"]), 2 => json!("verb"), _ => json!(5) },
        "len": match i % 5 { 0 => json!(n), 1 => json!(n as f64 + 0.5), 2 => json!(-n), 3 => json!([n, n + 100]), _ => json!("7") },
        "score": match i % 3 { 0 => json!(n as f64 * 0.25), 1 => json!(n), _ => Value::Null },
        "ok": if i % 7 == 3 { json!([true, false]) } else { json!(i.is_multiple_of(2)) },
        "source": if i.is_multiple_of(2) { "gcide" } else { "wiki" },
        "nested": {"a": {"b": if i.is_multiple_of(3) { "x" } else { "y" }}},
        "empty": [],
    });
    if let Value::Object(map) = &mut p {
        if !i.is_multiple_of(4) {
            map.insert("lang".into(), json!("en"));
        }
        if i.is_multiple_of(3) {
            map.insert(
                "meta".into(),
                json!([{"tag": "a", "n": n}, {"tag": ["b", "c"]}]),
            );
        }
        match i % 6 {
            0 => map.insert("big".into(), json!(9_007_199_254_740_993_i64)),
            1 => map.insert("big".into(), json!(u64::MAX)),
            2 => map.insert("big".into(), json!(-9.5e18)),
            _ => None,
        };
    }
    Some(into_payload(p))
}

/// The stored vector of fixture point `i` for `layout` (nonzero; two token
/// vectors for the multivector layout).
pub fn point_vector(i: usize, layout: Layout) -> Vec<f32> {
    let rows = if layout == Layout::Multivector { 2 } else { 1 };
    (0..rows * DIMS)
        .map(|j| ((i * 7 + j * 3) % 11) as f32 - 4.5)
        .collect()
}

/// The fixture collections and the points they all hold.
pub struct Fixture {
    /// One collection per layout: float (cosine), binary:2 (dot),
    /// matryoshka:2 (l2), multivector (dot).
    pub collections: Vec<Collection>,
    /// Every point's id and payload, in insertion order.
    pub points: Vec<(PointId, Option<Payload>)>,
    _dir: Dir,
}

/// The configuration of a small collection of `layout`, `metric` and the
/// fixture [`schema`].
pub fn config(layout: Layout, metric: Metric) -> CollectionConfig {
    CollectionConfig {
        text: None,
        sparse: Default::default(),
 vectors: std::collections::BTreeMap::from([(String::new(), trawl_index::VectorConfig { dims: DIMS, metric, layout, hnsw: HnswParams::default(), muvera: (layout == Layout::Multivector).then_some(FdeParams {
            k_sim: 2,
            d_proj: 4,
            r_reps: 2,
            ..FdeParams::default()
        }) })]),
 payload_schema: schema(),
 }
}

/// Log options of every collection the targets open: no fsync (the data is
/// thrown away) and the default record limit.
pub fn wal_options() -> WalOptions {
    WalOptions {
        sync: false,
        ..WalOptions::default()
    }
}

/// Builds the fixture once per process.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = Dir::new("fixture");
        let layouts = [
            (Layout::Float, Metric::Cosine),
            (Layout::Binary { bits: 2 }, Metric::Dot),
            (Layout::Matryoshka { k: 2 }, Metric::L2),
            (Layout::Multivector, Metric::Dot),
        ];
        let points: Vec<(PointId, Option<Payload>)> = (0..POINTS)
            .map(|i| (point_id(i), point_payload(i)))
            .collect();
        let collections = layouts
            .iter()
            .enumerate()
            .map(|(n, &(layout, metric))| {
                let c = Collection::create(
                    &format!("fixture{n}"),
                    &dir.path().join(format!("c{n}")),
                    config(layout, metric),
                    wal_options(),
                )
                .expect("the fixture collection must be creatable");
                let writes = points
                    .iter()
                    .enumerate()
                    .map(|(i, (id, payload))| PointWrite {
                        vectors: Default::default(),
                        sparse: Default::default(),
                        id: *id,
                        vector: point_vector(i, layout),
                        payload: payload.clone(),
                    })
                    .collect();
                c.upsert(writes).expect("the fixture points must be valid");
                c.wait_indexed();
                c
            })
            .collect();
        Fixture {
            collections,
            points,
            _dir: dir,
        }
    })
}

/// A query vector of the right shape for `collection`.
pub fn query_vector(collection: &Collection) -> Vec<f32> {
    let layout = collection.config().layout;
    point_vector(3, layout).iter().map(|x| x + 0.25).collect()
}

/// The ids an exact search with `filter` returns from `collection` when
/// asking for every point: the index's answer (payload index and planner) to
/// "which points match?".
pub fn exact_matches(
    collection: &Collection,
    filter: &Filter,
    limits: FilterLimits,
) -> trawl_index::Result<BTreeSet<PointId>> {
    let vector = query_vector(collection);
    let query = SearchQuery {
        using: "",
        vector: &vector,
        filter: Some(filter),
        filter_limits: limits,
        limit: POINTS,
        ef: None,
        exact: true,
        oversample: None,
        rerank: true,
        with_payload: false,
        with_vector: false,
    };
    Ok(collection
        .search(&query)?
        .into_iter()
        .map(|h| h.id)
        .collect())
}
