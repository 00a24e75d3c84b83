//! Named vectors through the API, with the real model: a collection holding
//! the unnamed (v1) vector, a small float vector, binary codes and token
//! vectors filled from text; points holding any subset; searches and
//! queries on each; the vectors returned by name; bad schemas and points
//! refused naming the field; everything there again after a `kill -9`.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::{Server, assert_error};

const SMALL: usize = 8;
const CODES: usize = 16;

/// A deterministic vector of `n` values for point `i`.
fn vector(i: usize, n: usize, salt: usize) -> Vec<f32> {
    (0..n)
        .map(|j| (((i * 31 + j * 17 + salt * 7) % 23) as f32 - 11.0) / 11.0 + 0.01)
        .collect()
}

/// Point `i`: `small` always, `codes` when even, text (so the unnamed
/// vector and `tokens`) when a multiple of 3.
fn point(i: usize) -> Value {
    let mut vectors = json!({"small": vector(i, SMALL, 1)});
    if i.is_multiple_of(2) {
        vectors["codes"] = json!(vector(i, CODES, 2));
    }
    let mut p = json!({"id": i, "vectors": vectors, "payload": {"n": i}});
    if i.is_multiple_of(3) {
        p["text"] = json!(format!("document {i} about proteins and cells number {i}"));
    }
    p
}

fn ids(hits: &Value) -> Vec<u64> {
    hits.as_array()
        .expect("hits")
        .iter()
        .map(|h| h["id"].as_u64().expect("id"))
        .collect()
}

async fn search(server: &Server, body: Value) -> Value {
    let (status, answer) = server.post("/collections/nv/search", &body).await;
    assert_eq!(status, 200, "{body} -> {answer}");
    answer["hits"].clone()
}

/// What every search of the collection must find, before and after a crash.
async fn check(server: &Server, n: usize) {
    // Each named vector finds the point it was taken from, and only points
    // holding it.
    for i in [0, 4, 9, 14] {
        let hits = search(
            server,
            json!({"using": "small", "vector": vector(i, SMALL, 1), "limit": 5, "with_vector": true}),
        )
        .await;
        assert_eq!(ids(&hits)[0], i as u64, "{hits}");
        assert_eq!(hits[0]["vectors"]["small"].as_array().unwrap().len(), SMALL);
        assert_eq!(hits[0]["vectors"].get("codes").is_some(), i % 2 == 0);
        assert_eq!(hits[0].get("vector").is_some(), i % 3 == 0);
    }
    let hits = search(
        server,
        json!({"using": "codes", "vector": vector(6, CODES, 2), "limit": 20, "params": {"exact": true}}),
    )
    .await;
    assert_eq!(ids(&hits)[0], 6);
    assert!(ids(&hits).iter().all(|i| i % 2 == 0), "{hits}");
    for using in ["tokens", ""] {
        let hits = search(
            server,
            json!({"using": using, "text": "proteins and cells", "limit": 20}),
        )
        .await;
        assert_eq!(hits.as_array().unwrap().len(), 20.min(n.div_ceil(3)));
        assert!(ids(&hits).iter().all(|i| i % 3 == 0), "{using:?}: {hits}");
    }
    // By example, on a named vector: the point itself left out.
    let (status, answer) = server
        .post(
            "/collections/nv/query",
            &json!({"point": 4, "using": "codes", "limit": 10}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let found = ids(&answer["hits"]);
    assert_eq!(found.len(), 10);
    assert!(found.iter().all(|i| i % 2 == 0 && *i != 4), "{found:?}");
    // A point shows the vectors it holds, by name.
    let (status, p3) = server.get_json("/collections/nv/points/3").await;
    assert_eq!(status, 200, "{p3}");
    assert_eq!(p3["vector"].as_array().unwrap().len(), 384);
    assert_eq!(p3["vectors"]["small"].as_array().unwrap().len(), SMALL);
    let tokens = p3["vectors"]["tokens"].as_array().unwrap();
    assert!(!tokens.is_empty() && tokens[0].as_array().unwrap().len() == 384);
    assert!(p3["vectors"].get("codes").is_none(), "{p3}");
    let (_, p1) = server.get_json("/collections/nv/points/1").await;
    assert!(p1.get("vector").is_none(), "{p1}");
    assert_eq!(p1["vectors"].as_object().unwrap().len(), 1, "{p1}");
    let (_, page) = server
        .post(
            "/collections/nv/points/scroll",
            &json!({"limit": 4, "with_vectors": true}),
        )
        .await;
    let first = &page["points"][0];
    assert_eq!(first["id"], 0);
    assert!(
        first["vectors"]["codes"].is_array() && first["vector"].is_array(),
        "{page}"
    );
}

#[tokio::test]
async fn named_vectors_are_declared_written_searched_and_survive_kill_9() {
    let mut server = Server::start(&["--segment-points", "100"]).await;
    let create = json!({
        "vector": {"metric": "cosine"},
        "vectors": {
            "small": {"dims": SMALL, "metric": "cosine"},
            "codes": {"dims": CODES, "metric": "cosine", "layout": "binary"},
            "tokens": {"metric": "dot", "layout": "multivector", "encoder": "multivector"}
        }
    });
    let (status, body) = server.put("/collections/nv", &create).await;
    assert_eq!(status, 200, "{body}");
    let (_, info) = server.get_json("/collections/nv").await;
    assert_eq!(info["vector"]["dims"], 384, "{info}");
    assert_eq!(info["vectors"]["tokens"]["dims"], 384, "{info}");
    assert_eq!(
        info["vectors"]["tokens"]["encoder"], "multivector",
        "{info}"
    );
    assert_eq!(info["vectors"]["codes"]["layout"], "binary", "{info}");

    let n = 240;
    let points: Vec<Value> = (0..n).map(point).collect();
    for chunk in points.chunks(60) {
        let (status, body) = server
            .put("/collections/nv/points", &json!({"points": chunk}))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    check(&server, n).await;

    // Bad points, searches and schemas: 4xx naming the field, nothing written.
    let refused = [
        (
            json!({"id": 900, "vectors": {"nope": [1.0]}}),
            "points[0].vectors.nope",
        ),
        (
            json!({"id": 900, "vectors": {"small": [1.0, 2.0]}}),
            "points[0].vectors.small",
        ),
        (
            json!({"id": 900, "vectors": {"tokens": [1.0, 2.0]}}),
            "points[0].vectors.tokens",
        ),
        (json!({"id": 900, "vectors": {}}), "points[0].vector"),
    ];
    for (p, field) in refused {
        let (status, body) = server
            .put("/collections/nv/points", &json!({"points": [p]}))
            .await;
        assert!(status == 422, "{p}: {status} {body}");
        assert_eq!(body["error"]["details"]["field"], field, "{p}: {body}");
    }
    let (status, body) = server
        .post(
            "/collections/nv/search",
            &json!({"using": "nope", "vector": [1.0]}),
        )
        .await;
    assert_error(status, &body, 422, "invalid_value");
    assert_eq!(body["error"]["details"]["field"], "using", "{body}");
    let (status, body) = server
        .post(
            "/collections/nv/search",
            &json!({"using": "small", "text": "no encoder"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"]["field"], "text", "{body}");
    let (status, body) = server
        .post(
            "/collections/nv/query",
            &json!({"point": 1, "using": "codes"}),
        )
        .await;
    assert_eq!(status, 422, "point 1 holds no codes: {body}");
    let bad_schemas = [
        (
            json!({"vectors": {"t": {"dims": 8, "encoder": "float"}}}),
            "vectors.t.dims",
        ),
        (
            json!({"vectors": {"t": {"dims": 384, "encoder": "sparse"}}}),
            "vectors.t.encoder",
        ),
        (
            json!({"vectors": {"t": {"dims": 384, "encoder": "multivector"}}}),
            "vectors.t.encoder",
        ),
        (json!({"vectors": {"": {"dims": 8}}}), "vectors"),
        (json!({"vectors": {"a b": {"dims": 8}}}), "vectors"),
        (json!({"vectors": {}}), "vector"),
        (
            json!({"vectors": {"t": {"dims": 8, "layout": "binary:3"}}}),
            "vectors.t.layout",
        ),
    ];
    for (schema, field) in bad_schemas {
        let (status, body) = server.put("/collections/bad", &schema).await;
        assert_eq!(status, 422, "{schema}: {body}");
        assert_eq!(body["error"]["details"]["field"], field, "{schema}: {body}");
    }
    let (_, count) = server
        .post("/collections/nv/points/count", &json!({}))
        .await;
    assert_eq!(count["count"], n);

    // A snapshot carries every vector's files: downloaded and restored as
    // another collection, it answers the same.
    server.copy_by_snapshot("nv", "copy").await;
    for using in ["small", "codes", "tokens"] {
        let query = match using {
            "tokens" => json!({"using": using, "text": "cells", "limit": 5}),
            "small" => json!({"using": using, "vector": vector(5, SMALL, 1), "limit": 5}),
            _ => json!({"using": using, "vector": vector(8, CODES, 2), "limit": 5}),
        };
        let (_, a) = server.post("/collections/nv/search", &query).await;
        let (_, b) = server.post("/collections/copy/search", &query).await;
        assert_eq!(ids(&a["hits"]), ids(&b["hits"]), "{using}: {a} {b}");
    }

    // Acknowledged writes of every vector survive a crash.
    server.kill9();
    let data = Arc::clone(&server.data);
    drop(server);
    let server = Server::start_on(data, &["--segment-points", "100"]).await;
    let (_, count) = server
        .post("/collections/nv/points/count", &json!({}))
        .await;
    assert_eq!(count["count"], n, "{}", server.log());
    check(&server, n).await;
}
