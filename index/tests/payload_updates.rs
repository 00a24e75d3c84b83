//! Payload updates (merge, replace, delete keys; by ids and by filter) on real
//! files, against a model: across sealed and appendable segments, through
//! the payload index, and after a reopen.

mod common;

use std::collections::BTreeMap;

use serde_json::{Value, json};
use trawl_index::filter::{Condition, Filter, FilterLimits, MatchValue};
use trawl_index::storage::WalOptions;
use trawl_index::{
    Collection, CollectionConfig, HnswParams, IndexError, Layout, Metric, Payload, PayloadType,
    PayloadUpdate, PointId, PointWrite, ScrollQuery, Selection,
};

use common::{Rng, TempDir};

const DIMS: usize = 16;

fn config() -> CollectionConfig {
    let mut payload_schema = BTreeMap::new();
    payload_schema.insert("colour".to_string(), PayloadType::Keyword);
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

fn object(value: Value) -> Payload {
    match value {
        Value::Object(map) => map,
        other => panic!("{other} is not an object"),
    }
}

fn colour(value: &str) -> Filter {
    Filter {
        must: vec![Condition::Match {
            key: "colour".into(),
            value: MatchValue::Keyword(value.into()),
        }],
        ..Filter::default()
    }
}

/// Every point's payload, by scrolling.
fn payloads(c: &Collection) -> BTreeMap<PointId, Payload> {
    let page = c
        .scroll(
            &ScrollQuery {
                filter: None,
                after: None,
                limit: 10_000,
                with_payload: true,
                with_vector: false,
            },
            &FilterLimits::default(),
        )
        .unwrap();
    assert!(page.next.is_none());
    page.points
        .into_iter()
        .map(|p| (p.id, p.payload.unwrap_or_default()))
        .collect()
}

#[test]
fn payload_updates_follow_a_model_keep_vectors_and_survive_a_reopen() {
    let seed = 0x5eed_9a70;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let dir = TempDir::new("payload-updates");
    let path = dir.0.join("docs");
    let wal = WalOptions::default();
    let c = Collection::create("docs", &path, config(), wal.clone()).unwrap();
    let colours = ["red", "green", "blue"];
    let mut model: BTreeMap<PointId, Payload> = BTreeMap::new();
    let mut vectors: BTreeMap<PointId, Vec<f32>> = BTreeMap::new();
    for batch in 0..3u64 {
        let points: Vec<PointWrite> = (batch * 500..batch * 500 + 500)
            .map(|i| PointWrite {
                vectors: Default::default(),
                sparse: Default::default(),
                id: PointId::Num(i),
                vector: (0..DIMS).map(|_| rng.unit()).collect(),
                payload: Some(object(
                    json!({"colour": colours[i as usize % 3], "n": i, "keep": true}),
                )),
            })
            .collect();
        for p in &points {
            model.insert(p.id.clone(), p.payload.clone().unwrap());
        }
        c.upsert(points).unwrap();
        if batch < 2 {
            c.wait_indexed();
        }
    }
    for id in model.keys() {
        vectors.insert(id.clone(), c.get(id).unwrap().0);
    }
    let limits = FilterLimits::default();

    // Merge by ids (one unknown, one repeated): counts the existing ones once.
    let ids = [
        PointId::Num(3),
        PointId::Num(700),
        PointId::Num(3),
        PointId::Num(99_999),
    ];
    let merged = object(json!({"n": "changed", "extra": [1, 2]}));
    let n = c
        .update_payload(
            Selection::Ids(&ids),
            &PayloadUpdate::Merge(merged.clone()),
            &limits,
        )
        .unwrap();
    assert_eq!(n, 2);
    for id in [PointId::Num(3), PointId::Num(700)] {
        model.get_mut(&id).unwrap().extend(merged.clone());
    }

    // Replace by filter on an indexed field: the index follows at once.
    let blue = model.values().filter(|p| p["colour"] == "blue").count();
    let n = c
        .update_payload(
            Selection::Filter(&colour("blue")),
            &PayloadUpdate::Replace(object(json!({"colour": "navy"}))),
            &limits,
        )
        .unwrap();
    assert_eq!(n, blue);
    for p in model.values_mut() {
        if p["colour"] == "blue" {
            *p = object(json!({"colour": "navy"}));
        }
    }
    assert_eq!(
        c.count(Some(&colour("blue")), true, &limits).unwrap().count,
        0
    );
    assert_eq!(
        c.count(Some(&colour("navy")), true, &limits).unwrap().count,
        blue
    );

    // Delete keys by filter on an unindexed field.
    let kept = Filter {
        must: vec![Condition::Match {
            key: "keep".into(),
            value: MatchValue::Bool(true),
        }],
        ..Filter::default()
    };
    let n = c
        .update_payload(
            Selection::Filter(&kept),
            &PayloadUpdate::DeleteKeys(vec!["keep".into(), "absent".into()]),
            &limits,
        )
        .unwrap();
    assert_eq!(n, model.values().filter(|p| p.contains_key("keep")).count());
    for p in model.values_mut() {
        p.remove("keep");
    }
    assert_eq!(payloads(&c), model);

    // Vectors are untouched, and searches find the points by them.
    for (id, vector) in vectors.iter().step_by(37) {
        assert_eq!(&c.get(id).unwrap().0, vector, "{id}");
    }

    // Refusals.
    for (update, field) in [
        (PayloadUpdate::DeleteKeys(vec![]), "keys"),
        (
            PayloadUpdate::DeleteKeys(vec!["a".into(), String::new()]),
            "keys[1]",
        ),
    ] {
        match c.update_payload(Selection::Ids(&ids), &update, &limits) {
            Err(IndexError::InvalidParameter { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected a refusal of {field}, got {other:?}"),
        }
    }

    // A limit on the payload's size: an update that would pass it for any
    // chosen point writes nothing; deleting keys is never refused.
    let grow = PayloadUpdate::Merge(object(json!({"note": "x".repeat(40)})));
    let before = payloads(&c);
    let largest = model.values().map(trawl_index::json_len).max().unwrap();
    match c.update_payload_within(
        Selection::Filter(&colour("red")),
        &grow,
        &limits,
        largest + 10,
    ) {
        Err(IndexError::LimitExceeded { limit, got, .. }) => {
            assert_eq!(limit, largest + 10);
            assert!(got > limit, "{got}");
        }
        other => panic!("expected the limit, got {other:?}"),
    }
    assert_eq!(payloads(&c), before, "nothing written");
    let roomy = largest + 100;
    let red = c
        .update_payload_within(Selection::Filter(&colour("red")), &grow, &limits, roomy)
        .unwrap();
    assert!(red > 0);
    let drop_note = PayloadUpdate::DeleteKeys(vec!["note".into()]);
    c.update_payload_within(Selection::Filter(&colour("red")), &drop_note, &limits, 1)
        .unwrap();
    assert_eq!(payloads(&c), before);

    // Durable: the same after a reopen.
    c.close();
    drop(c);
    let c = Collection::open("docs", &path, wal).unwrap();
    assert_eq!(payloads(&c), model);
    assert_eq!(
        c.count(Some(&colour("navy")), true, &limits).unwrap().count,
        blue
    );
    for (id, vector) in vectors.iter().step_by(41) {
        assert_eq!(&c.get(id).unwrap().0, vector, "{id}");
    }
}

/// A search that scores a point in the appendable segment while a writer
/// replaces it returns the payload and vector of the version it scored, never
/// the emptied slot the replacement leaves behind.
#[test]
fn a_search_racing_replacements_returns_each_hit_whole() {
    let dir = TempDir::new("payload-race");
    let c = std::sync::Arc::new(
        Collection::create("docs", &dir.0.join("docs"), config(), WalOptions::default()).unwrap(),
    );
    let ids = 64u64;
    let rounds = 400u64;
    let writer = {
        let c = c.clone();
        std::thread::spawn(move || {
            let mut rng = Rng(0x5eed_7ace);
            for round in 0..rounds {
                let points = (0..ids)
                    .map(|i| PointWrite {
                        vectors: Default::default(),
                        sparse: Default::default(),
                        id: PointId::Num(i),
                        vector: (0..DIMS).map(|_| rng.unit()).collect(),
                        payload: Some(object(json!({"n": i, "round": round}))),
                    })
                    .collect();
                c.upsert(points).unwrap();
            }
        })
    };
    let mut rng = Rng(0x5eed_5ea7);
    let mut searches = 0u64;
    while !writer.is_finished() || searches == 0 {
        let q: Vec<f32> = (0..DIMS).map(|_| rng.unit()).collect();
        let hits = c
            .search(&trawl_index::SearchQuery {
                using: "",
                vector: &q,
                filter: None,
                filter_limits: FilterLimits::default(),
                limit: 10,
                ef: None,
                exact: true,
                oversample: None,
                rerank: true,
                with_payload: true,
                with_vector: true,
            })
            .unwrap();
        for hit in hits {
            let payload = hit
                .payload
                .unwrap_or_else(|| panic!("search {searches}: {:?} has no payload", hit.id));
            assert_eq!(
                PointId::Num(payload["n"].as_u64().unwrap()),
                hit.id,
                "search {searches}: a hit carries another point's payload"
            );
            assert_eq!(hit.vector.map(|v| v.len()), Some(DIMS));
        }
        searches += 1;
    }
    writer.join().unwrap();
    println!("{searches} searches raced {rounds} rounds of replacements");
}
