//! Arbitrary bytes as the body of every JSON request the server takes.
//!
//! Each body type of `trawl-proto` is parsed the way `axum::Json` parses it
//! (`serde_path_to_error` over a slice deserializer, then `end()`) and, as a
//! cross-check, with plain `serde_json::from_slice`; the two must agree. A
//! body that parses then goes where the route handler sends it, through the
//! server's conversions, through `trawl_fuzz::convert`:
//!
//! - search and batch search: a real `Collection::search` on each fixture
//!   collection (filter validation, vector checks, `ef`, `oversample`, the
//!   planner); hits must be at most `limit`, distinct, best first, and carry
//!   the payload the point was stored with;
//! - upsert: a real `Collection::upsert` into a fresh collection; the points
//!   must read back, and read back again after the collection is reopened
//!   from its write-ahead log; a rejected upsert must write nothing;
//! - delete by ids or by filter: on a fresh copy of the fixture points; the
//!   count must be the number of points that existed (or that the evaluator
//!   says match);
//! - create collection: `CollectionConfig::validate`, and a configuration
//!   that validates must create a collection;
//! - embed and OpenAI embeddings: parsed only (their checks need a model).

#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use trawl_fuzz::convert::{self, MAX_BATCH_SEARCHES, MAX_LIMIT, MAX_UPSERT_POINTS};
use trawl_fuzz::fixture::{self, DIMS};
use trawl_fuzz::scratch::Dir;
use trawl_index::filter::FilterLimits;
use trawl_index::{Collection, Layout, Metric, PointId, PointWrite, SearchQuery};
use trawl_proto as api;

fuzz_target!(|data: &[u8]| {
    if let Some(request) = decode::<api::SearchRequest>(data) {
        search(&request);
    }
    if let Some(request) = decode::<api::BatchSearchRequest>(data)
        && request.searches.len() <= MAX_BATCH_SEARCHES
    {
        request.searches.iter().for_each(search);
    }
    if let Some(request) = decode::<api::UpsertPoints>(data) {
        upsert(&request);
    }
    if let Some(request) = decode::<api::DeletePoints>(data) {
        delete(&request);
    }
    if let Some(request) = decode::<api::CreateCollection>(data) {
        create(&request);
    }
    decode::<api::EmbedRequest>(data);
    decode::<api::OpenAiEmbeddingsRequest>(data);
});

/// Parses `data` as `axum::Json::<T>` does, and checks that plain
/// `serde_json::from_slice` agrees.
fn decode<T: DeserializeOwned + PartialEq + Debug>(data: &[u8]) -> Option<T> {
    let mut de = serde_json::Deserializer::from_slice(data);
    let as_axum = serde_path_to_error::deserialize::<_, T>(&mut de)
        .ok()
        .filter(|_| de.end().is_ok());
    let plain = serde_json::from_slice::<T>(data).ok();
    assert_eq!(
        as_axum,
        plain,
        "axum's parse and serde_json's disagree on a {}",
        std::any::type_name::<T>()
    );
    plain
}

fn search(request: &api::SearchRequest) {
    if request.limit == 0 || request.limit > MAX_LIMIT {
        return;
    }
    let Ok(filter) = request.filter.as_ref().map(convert::filter).transpose() else {
        return;
    };
    let fx = fixture::fixture();
    let stored: BTreeMap<PointId, _> = fx.points.iter().cloned().collect();
    for collection in &fx.collections {
        let config = collection.config();
        let Ok(vector) = convert::item_vector(
            config.layout,
            config.dims,
            request.vector.as_ref(),
            request.text.as_ref(),
            request.multivector.as_ref(),
        ) else {
            continue;
        };
        let query = SearchQuery {
            vector: &vector,
            filter: filter.as_ref(),
            filter_limits: FilterLimits::default(),
            limit: request.limit,
            ef: request.params.ef,
            exact: request.params.exact,
            oversample: request.params.oversample,
            rerank: request.params.rerank.unwrap_or(true),
            with_payload: request.with_payload,
            with_vector: request.with_vector,
        };
        let Ok(hits) = collection.search(&query) else {
            continue;
        };
        assert!(hits.len() <= request.limit, "more hits than the limit");
        let distinct: BTreeSet<PointId> = hits.iter().map(|h| h.id).collect();
        assert_eq!(distinct.len(), hits.len(), "a point returned twice");
        for pair in hits.windows(2) {
            assert!(
                pair[0].score >= pair[1].score,
                "hits not best first: {} then {} ({:?})",
                pair[0].score,
                pair[1].score,
                config.layout
            );
        }
        for hit in &hits {
            let payload = stored.get(&hit.id).expect("a hit is a fixture point");
            if request.with_payload {
                assert_eq!(&hit.payload, payload, "hit {} has another payload", hit.id);
            }
            if let Some(filter) = &filter {
                assert!(
                    filter.matches(&hit.id, payload.as_ref()),
                    "hit {} does not match the filter ({:?})",
                    hit.id,
                    config.layout
                );
            }
        }
    }
}

/// A fresh collection of `layout` (float: cosine, multivector: dot) with the
/// fixture's schema, and the directory that holds it.
fn scratch(layout: Layout) -> (Dir, Collection) {
    let dir = Dir::new("request");
    let metric = if layout == Layout::Multivector {
        Metric::Dot
    } else {
        Metric::Cosine
    };
    let collection = Collection::create(
        "scratch",
        &dir.path().join("c"),
        fixture::config(layout, metric),
        fixture::wal_options(),
    )
    .expect("a scratch collection must be creatable");
    (dir, collection)
}

fn upsert(request: &api::UpsertPoints) {
    if request.points.len() > MAX_UPSERT_POINTS {
        return;
    }
    let layout = if request.points.iter().any(|p| p.multivector.is_some()) {
        Layout::Multivector
    } else {
        Layout::Float
    };
    let writes = request
        .points
        .iter()
        .map(|p| {
            Ok(PointWrite {
                id: convert::point_id(&p.id)?,
                vector: convert::item_vector(
                    layout,
                    DIMS,
                    p.vector.as_ref(),
                    p.text.as_ref(),
                    p.multivector.as_ref(),
                )?,
                payload: p.payload.clone(),
            })
        })
        .collect::<Result<Vec<_>, String>>();
    let Ok(writes) = writes else {
        return;
    };
    // The last write of an id wins.
    let expected: BTreeMap<PointId, _> = writes.iter().map(|w| (w.id, w.payload.clone())).collect();
    let (dir, collection) = scratch(layout);
    match collection.upsert(writes.clone()) {
        Ok(n) => assert_eq!(n, writes.len(), "upsert counted another number of points"),
        Err(_) => {
            assert_eq!(collection.len(), 0, "a rejected upsert wrote points");
            return;
        }
    }
    let check = |collection: &Collection, when: &str| {
        assert_eq!(collection.len(), expected.len(), "points {when}");
        for (id, payload) in &expected {
            let (_, stored) = collection
                .get(id)
                .unwrap_or_else(|e| panic!("point {id} unreadable {when}: {e}"));
            assert_eq!(&stored, payload, "payload of {id} {when}");
        }
    };
    check(&collection, "after the upsert");
    collection.close();
    drop(collection);
    let reopened = Collection::open("scratch", &dir.path().join("c"), fixture::wal_options())
        .expect("a collection must reopen from its own log");
    check(&reopened, "after replaying the log");
    reopened.close();
}

/// A fresh float collection holding the fixture points.
fn fixture_copy() -> (Dir, Collection) {
    let (dir, collection) = scratch(Layout::Float);
    let writes = (0..fixture::POINTS)
        .map(|i| PointWrite {
            id: fixture::point_id(i),
            vector: fixture::point_vector(i, Layout::Float),
            payload: fixture::point_payload(i),
        })
        .collect();
    collection
        .upsert(writes)
        .expect("the fixture points must be valid");
    (dir, collection)
}

fn delete(request: &api::DeletePoints) {
    match (&request.ids, &request.filter) {
        (Some(ids), None) => {
            let Ok(ids) = ids
                .iter()
                .map(convert::point_id)
                .collect::<Result<Vec<_>, _>>()
            else {
                return;
            };
            let present: BTreeSet<PointId> = (0..fixture::POINTS).map(fixture::point_id).collect();
            let existed = ids
                .iter()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .filter(|id| present.contains(id))
                .count();
            let (_dir, collection) = fixture_copy();
            let deleted = collection.delete(&ids).expect("deleting by ids must work");
            assert_eq!(deleted, existed, "delete counted another number of points");
            assert_eq!(collection.len(), fixture::POINTS - existed);
            collection.close();
        }
        (None, Some(filter)) => {
            let Ok(filter) = convert::filter(filter) else {
                return;
            };
            let limits = FilterLimits::default();
            let valid = filter.validate(&fixture::schema(), &limits).is_ok();
            let matching = fixture::fixture()
                .points
                .iter()
                .filter(|(id, payload)| filter.matches(id, payload.as_ref()))
                .count();
            let (_dir, collection) = fixture_copy();
            match collection.delete_by_filter(&filter, &limits) {
                Ok(deleted) => {
                    assert!(valid, "an invalid filter deleted points");
                    assert_eq!(deleted, matching, "deleted another set than matches");
                    assert_eq!(collection.len(), fixture::POINTS - matching);
                }
                Err(_) => assert!(!valid, "a valid filter failed to delete"),
            }
            collection.close();
        }
        _ => {}
    }
}

fn create(request: &api::CreateCollection) {
    let Ok(config) = convert::collection_config(request) else {
        return;
    };
    if config.validate().is_err() {
        return;
    }
    let dir = Dir::new("create");
    let collection = Collection::create(
        "create",
        &dir.path().join("c"),
        config.clone(),
        fixture::wal_options(),
    )
    .unwrap_or_else(|e| panic!("a configuration that validates failed to create: {e}"));
    assert_eq!(collection.config(), config);
    collection.close();
}
