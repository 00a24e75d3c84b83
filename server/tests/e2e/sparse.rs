//! Sparse vectors on the real binary: a collection declares them beside a
//! dense vector, points give `{indices, values}`, query stages search them
//! (pruned or exact, filtered, fused with a dense stage) with the scores
//! brute force gives, reads return them, bad shapes are refused naming the
//! field, and everything answers the same after a `kill -9` and through a
//! snapshot.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::{Server, assert_error};

/// A point's sparse vector: up to 12 of 400 indices, skewed to small ones.
fn sparse(seed: u64) -> BTreeMap<u32, f32> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let n = 1 + next() % 12;
    (0..n)
        .map(|_| {
            let (a, b) = (next() % 400, next() % 400);
            (a.min(b) as u32, (next() % 1000 + 1) as f32 / 100.0)
        })
        .collect()
}

fn as_json(v: &BTreeMap<u32, f32>) -> Value {
    json!({"indices": v.keys().collect::<Vec<_>>(), "values": v.values().collect::<Vec<_>>()})
}

fn dot(a: &BTreeMap<u32, f32>, b: &BTreeMap<u32, f32>) -> Option<f32> {
    let shared: Vec<f32> = a
        .iter()
        .filter_map(|(i, x)| b.get(i).map(|y| x * y))
        .collect();
    (!shared.is_empty()).then(|| shared.iter().sum())
}

fn hits(body: &Value) -> Vec<(u64, f32)> {
    body["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|h| {
            (
                h["id"].as_u64().unwrap(),
                h["score"].as_f64().unwrap() as f32,
            )
        })
        .collect()
}

/// Brute force over `points` (id → sparse vector), keeping ids `keep` takes.
fn brute(
    points: &BTreeMap<u64, BTreeMap<u32, f32>>,
    q: &BTreeMap<u32, f32>,
    keep: impl Fn(u64) -> bool,
    limit: usize,
) -> Vec<(u64, f32)> {
    let mut all: Vec<(u64, f32)> = points
        .iter()
        .filter(|(id, _)| keep(**id))
        .filter_map(|(id, v)| dot(v, q).map(|s| (*id, s)))
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(limit);
    all
}

fn assert_same(got: &[(u64, f32)], want: &[(u64, f32)], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g.1 - w.1).abs() <= 1e-3 * w.1.abs().max(1.0),
            "{what}: {got:?} vs {want:?}"
        );
    }
    let last = want.last().map_or(0.0, |w| w.1);
    let above = |v: &[(u64, f32)]| {
        let mut ids: Vec<u64> = v
            .iter()
            .filter(|x| x.1 > last + 1e-3 * last.abs().max(1.0))
            .map(|x| x.0)
            .collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(above(got), above(want), "{what}: {got:?} vs {want:?}");
}

async fn query(server: &Server, collection: &str, body: Value) -> Value {
    let (status, answer) = server
        .post(&format!("/collections/{collection}/query"), &body)
        .await;
    assert_eq!(status, 200, "{body}: {answer}");
    answer
}

/// Every query of `queries` on collection `c`, pruned and exact, with and
/// without a filter, against brute force.
async fn check(
    server: &Server,
    c: &str,
    points: &BTreeMap<u64, BTreeMap<u32, f32>>,
    queries: &[BTreeMap<u32, f32>],
) {
    let odd = json!({"must": [{"key": "parity", "match": {"value": "odd"}}]});
    for (n, q) in queries.iter().enumerate() {
        let want = brute(points, q, |_| true, 10);
        for exact in [false, true] {
            let body = json!({"using": "splade", "sparse": as_json(q), "limit": 10,
                              "params": {"exact": exact}});
            let got = hits(&query(server, c, body).await);
            assert_same(&got, &want, &format!("{c}: query {n}, exact {exact}"));
        }
        let want = brute(points, q, |id| id % 2 == 1, 10);
        let body =
            json!({"using": "splade", "sparse": as_json(q), "limit": 10, "filter": odd.clone()});
        let got = hits(&query(server, c, body).await);
        assert_same(&got, &want, &format!("{c}: query {n}, odd"));
    }
}

#[tokio::test]
async fn sparse_vectors_are_searched_as_brute_force_would_and_survive_kill_9() {
    let server = Server::start(&["--segment-points", "60"]).await;
    let (status, answer) = server
        .put(
            "/collections/docs",
            &json!({"vectors": {"dense": {"dims": 4, "metric": "cosine"},
                                "splade": {"kind": "sparse"},
                                "bow": {"kind": "sparse", "idf": true}},
                    "payload_indexes": {"parity": "keyword"}}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (_, info) = server.get_json("/collections/docs").await;
    assert_eq!(
        info["vectors"]["splade"],
        json!({"kind": "sparse", "idf": false}),
        "{info}"
    );
    assert_eq!(info["vectors"]["bow"]["idf"], true, "{info}");
    assert_eq!(info["vectors"]["dense"]["dims"], 4, "{info}");

    // Points with both vectors, with the dense one only (every 10th) or the
    // sparse one only (every 7th), written in batches: several sealed
    // segments and an appendable one.
    let mut model = BTreeMap::new();
    let mut batch = Vec::new();
    for id in 1..=400u64 {
        let mut vectors = serde_json::Map::new();
        if id % 7 != 0 || id % 10 == 0 {
            let d = id as f32;
            vectors.insert("dense".into(), json!([d.sin(), d.cos(), 1.0, 0.5]));
        }
        if id % 10 != 0 {
            let v = sparse(id);
            vectors.insert("splade".into(), as_json(&v));
            model.insert(id, v);
        }
        let parity = if id % 2 == 1 { "odd" } else { "even" };
        batch.push(json!({"id": id, "vectors": vectors, "payload": {"parity": parity}}));
        if batch.len() == 50 {
            let body = json!({ "points": std::mem::take(&mut batch) });
            let (status, answer) = server.put("/collections/docs/points", &body).await;
            assert_eq!(status, 200, "{answer}");
        }
    }
    let queries: Vec<BTreeMap<u32, f32>> = (0..12).map(|n| sparse(10_000 + n)).collect();
    check(&server, "docs", &model, &queries).await;

    // Reads give a point's sparse vector back (sorted, zeros dropped).
    let (status, answer) = server
        .put(
            "/collections/docs/points",
            &json!({"points": [{"id": 1000, "payload": {"parity": "even"},
                     "vectors": {"splade": {"indices": [9, 3, 5], "values": [1.5, 2.0, 0.0]}}}]}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    model.insert(1000, BTreeMap::from([(3, 2.0), (9, 1.5)]));
    let (_, point) = server.get_json("/collections/docs/points/1000").await;
    assert_eq!(
        point["vectors"]["splade"],
        json!({"indices": [3, 9], "values": [2.0, 1.5]}),
        "{point}"
    );
    let found = query(
        &server,
        "docs",
        json!({"using": "splade", "sparse": {"indices": [9], "values": [1.0]},
               "limit": 400, "with_vector": true}),
    )
    .await;
    let mine = found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == 1000)
        .unwrap_or_else(|| panic!("{found}"));
    assert_eq!(mine["score"], 1.5, "{mine}");
    assert_eq!(
        mine["vectors"]["splade"]["indices"],
        json!([3, 9]),
        "{mine}"
    );

    // Fused with a dense stage: every hit is explained by both stages' places.
    let fused = query(
        &server,
        "docs",
        json!({"prefetch": [{"using": "splade", "sparse": as_json(&queries[0]), "limit": 20},
                            {"using": "dense", "vector": [0.1, 0.9, 1.0, 0.5], "limit": 20}],
               "fusion": "rrf", "limit": 5, "explain": true}),
    )
    .await;
    let fused_hits = fused["hits"].as_array().unwrap();
    assert_eq!(fused_hits.len(), 5, "{fused}");
    assert!(
        fused_hits
            .iter()
            .all(|h| !h["explain"].as_array().unwrap().is_empty()),
        "{fused}"
    );
    let sparse_alone = hits(
        &query(
            &server,
            "docs",
            json!({"using": "splade", "sparse": as_json(&queries[0]), "limit": 20}),
        )
        .await,
    );
    for h in fused_hits {
        for place in h["explain"].as_array().unwrap() {
            if place["stage"] == 0 {
                let rank = place["rank"].as_u64().unwrap() as usize;
                assert_eq!(
                    sparse_alone[rank - 1].0,
                    h["id"].as_u64().unwrap(),
                    "{fused}"
                );
            }
        }
    }
    let (_, metrics) = server.get("/metrics").await;
    assert!(
        metrics.contains("trawl_query_stage_duration_seconds_count{kind=\"sparse\"}"),
        "{metrics}"
    );

    // Bad shapes are refused, naming the field; nothing is written.
    for (request, field) in [
        (
            json!({"id": 1, "vectors": {"splade": {"indices": [1, 1], "values": [1.0, 2.0]}}}),
            "points[0].vectors.splade",
        ),
        (
            json!({"id": 1, "vectors": {"splade": {"indices": [1, 2], "values": [1.0]}}}),
            "points[0].vectors.splade",
        ),
        (
            json!({"id": 1, "vectors": {"splade": [1.0, 2.0, 3.0, 4.0]}}),
            "points[0].vectors.splade",
        ),
        (
            json!({"id": 1, "vectors": {"dense": {"indices": [1], "values": [1.0]}}}),
            "points[0].vectors.dense",
        ),
        (
            json!({"id": 1, "vectors": {"splade": {"indices": [], "values": []}}}),
            "points[0].vectors",
        ),
    ] {
        let (status, body) = server
            .put("/collections/docs/points", &json!({ "points": [request] }))
            .await;
        assert_error(status, &body, 422, "invalid_value");
        assert_eq!(body["error"]["details"]["field"], field, "{body}");
    }
    let q = json!({"indices": [1], "values": [1.0]});
    for (request, field) in [
        (json!({"sparse": q}), "using"),
        (json!({"using": "dense", "sparse": q}), "using"),
        (json!({"using": "nope", "sparse": q}), "using"),
        (
            json!({"using": "splade", "sparse": q, "params": {"ef": 64}}),
            "params",
        ),
        (
            json!({"using": "splade", "sparse": {"indices": [1], "values": [1e39]}}),
            "sparse.values[0]",
        ),
        (
            json!({"using": "splade", "sparse": {"indices": [1, 1], "values": [1, 2]}}),
            "sparse",
        ),
        (
            json!({"prefetch": [{"using": "splade", "sparse": q, "vector": [1, 2, 3, 4]}]}),
            "prefetch[0].sparse",
        ),
        (json!({"using": "splade", "vector": [1, 2, 3, 4]}), "using"),
    ] {
        let (status, body) = server.post("/collections/docs/query", &request).await;
        assert!(
            status == 422 && body["error"]["details"]["field"] == field,
            "{request}: {status} {body}"
        );
    }
    for bad in [
        json!({"vectors": {"s": {"kind": "sparse", "dims": 3}}}),
        json!({"vectors": {"s": {"kind": "ragged"}}}),
        json!({"vectors": {"": {"kind": "sparse"}}}),
    ] {
        let (status, body) = server.put("/collections/bad", &bad).await;
        assert_eq!(status, 422, "{bad}: {body}");
    }

    // After a kill -9 the same answers (sealed files and the log's tail),
    // and a snapshot restored as another collection answers the same.
    let mut server = server;
    server.kill9();
    let data = Arc::clone(&server.data);
    drop(server);
    let server = Server::start_on(data, &["--segment-points", "60"]).await;
    check(&server, "docs", &model, &queries).await;
    server.copy_by_snapshot("docs", "copy").await;
    check(&server, "copy", &model, &queries).await;

    // A collection of sparse vectors only.
    let (status, answer) = server
        .put(
            "/collections/only",
            &json!({"vectors": {"splade": {"kind": "sparse"}}, "payload_indexes": {"parity": "keyword"}}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let points: Vec<Value> = model
        .iter()
        .map(|(id, v)| {
            let parity = if id % 2 == 1 { "odd" } else { "even" };
            json!({"id": id, "vectors": {"splade": as_json(v)}, "payload": {"parity": parity}})
        })
        .collect();
    let (status, answer) = server
        .put("/collections/only/points", &json!({ "points": points }))
        .await;
    assert_eq!(status, 200, "{answer}");
    check(&server, "only", &model, &queries).await;
}
