//! Scroll, count and facet over HTTP: paging a collection with cursors,
//! counting and value counts under filters, and bad requests.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::{Server, assert_error};

const DIMS: usize = 8;

fn vector(i: u64) -> Vec<f32> {
    (0..DIMS)
        .map(|j| ((i as usize * 31 + j * 17) % 13) as f32 - 6.0)
        .collect()
}

fn colour(i: u64) -> &'static str {
    ["red", "green", "blue"][i as usize % 3]
}

/// Every page of a scroll, following `next`.
async fn scroll_all(server: &Server, body: Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut body = body;
    for _ in 0..10_000 {
        let (status, page) = server.post("/collections/docs/points/scroll", &body).await;
        assert_eq!(status, 200, "{page}");
        out.extend(page["points"].as_array().unwrap().iter().cloned());
        match &page["next"] {
            Value::Null => return out,
            Value::String(next) => body["cursor"] = json!(next),
            other => panic!("next is {other}"),
        }
    }
    panic!("the scroll did not end");
}

#[tokio::test]
async fn scroll_count_and_facet_over_http() {
    let server = Server::start(&[]).await;
    let (status, body) = server
        .put(
            "/collections/docs",
            &json!({"vector": {"dims": DIMS, "metric": "dot"},
                    "payload_indexes": {"colour": "keyword", "n": "integer", "w": "float"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Integer ids in a scrambled order, and UUIDs (which sort after them).
    let mut expected: BTreeMap<u64, Value> = BTreeMap::new();
    for batch in 0..5u64 {
        let points: Vec<Value> = (0..100)
            .map(|i| (batch * 100 + i) * 37 % 501)
            .map(|id| {
                let payload = json!({"colour": colour(id), "n": id % 4, "w": id as f64 / 7.0});
                expected.insert(id, payload.clone());
                json!({"id": id, "vector": vector(id), "payload": payload})
            })
            .collect();
        let (status, body) = server
            .put("/collections/docs/points", &json!({ "points": points }))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let uuids = [
        "00000000-0000-4000-8000-000000000002",
        "00000000-0000-4000-8000-000000000001",
    ];
    let points: Vec<Value> = uuids
        .iter()
        .map(|u| json!({"id": u, "vector": vector(7), "payload": {"colour": "red"}}))
        .collect();
    let (status, _) = server
        .put("/collections/docs/points", &json!({ "points": points }))
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .post(
            "/collections/docs/points/delete",
            &json!({"ids": [0, 37, 74]}),
        )
        .await;
    assert_eq!(status, 200);
    for id in [0, 37, 74] {
        expected.remove(&id);
    }

    // Pages of 64: ids in order, each once, payloads as written.
    let all = scroll_all(&server, json!({"limit": 64})).await;
    assert_eq!(all.len(), expected.len() + 2);
    for (point, (id, payload)) in all.iter().zip(&expected) {
        assert_eq!(point["id"], json!(id));
        assert_eq!(&point["payload"], payload);
        assert!(point.get("vector").is_none());
    }
    assert_eq!(all[expected.len()]["id"], json!(uuids[1]));
    assert_eq!(all[expected.len() + 1]["id"], json!(uuids[0]));

    // Filtered, with vectors and without payloads.
    let filter = json!({"must": [{"key": "colour", "match": {"value": "green"}}]});
    let green = scroll_all(
        &server,
        json!({"filter": filter, "limit": 10, "with_payload": false, "with_vectors": true}),
    )
    .await;
    let want: Vec<u64> = expected
        .keys()
        .copied()
        .filter(|&id| colour(id) == "green")
        .collect();
    let got: Vec<u64> = green.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    assert_eq!(got, want);
    for p in &green {
        assert_eq!(p["payload"], Value::Null);
        let id = p["id"].as_u64().unwrap();
        assert_eq!(p["vector"], json!(vector(id)));
    }

    // Counts: all, filtered exactly, estimated.
    let (status, body) = server
        .post("/collections/docs/points/count", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"count": expected.len() + 2, "exact": true}));
    let (_, body) = server
        .post("/collections/docs/points/count", &json!({"filter": filter}))
        .await;
    assert_eq!(body["count"], want.len());
    let (status, body) = server
        .post(
            "/collections/docs/points/count",
            &json!({"filter": filter, "exact": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["count"].as_u64().unwrap() > 0, "{body}");

    // Facets: counts per value, most frequent first, under a filter.
    let (status, body) = server
        .post(
            "/collections/docs/facet",
            &json!({"key": "colour", "filter": {"must": [{"key": "n", "match": {"value": 1}}]}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut want: BTreeMap<&str, u64> = BTreeMap::new();
    for (id, _) in expected.iter().filter(|(id, _)| *id % 4 == 1) {
        *want.entry(colour(*id)).or_default() += 1;
    }
    let values = body["values"].as_array().unwrap();
    assert_eq!(values.len(), want.len(), "{body}");
    for v in values {
        assert_eq!(v["count"], want[v["value"].as_str().unwrap()], "{body}");
    }
    let (_, body) = server
        .post("/collections/docs/facet", &json!({"key": "n", "limit": 2}))
        .await;
    assert_eq!(body["values"].as_array().unwrap().len(), 2, "{body}");

    // Bad requests: 422 naming the field, 404 for a missing collection.
    for (path, body, field) in [
        (
            "/collections/docs/points/scroll",
            json!({"limit": 0}),
            "limit",
        ),
        (
            "/collections/docs/points/scroll",
            json!({"limit": 10001}),
            "limit",
        ),
        (
            "/collections/docs/points/scroll",
            json!({"cursor": "17"}),
            "cursor",
        ),
        (
            "/collections/docs/points/scroll",
            json!({"cursor": "u:nope"}),
            "cursor",
        ),
        ("/collections/docs/facet", json!({"key": "w"}), "key"),
        (
            "/collections/docs/facet",
            json!({"key": "unindexed"}),
            "key",
        ),
        (
            "/collections/docs/facet",
            json!({"key": "colour", "limit": 0}),
            "limit",
        ),
    ] {
        let (status, answer) = server.post(path, &body).await;
        let message = assert_error(status, &answer, 422, "invalid_value");
        assert_eq!(
            answer["error"]["details"]["field"], field,
            "{body}: {message}"
        );
    }
    let (status, answer) = server
        .post(
            "/collections/docs/points/count",
            &json!({"filter": {"must": [{"key": "w", "match": {"value": "x"}}]}}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    let (status, answer) = server
        .post("/collections/docs/points/scroll", &json!({"limti": 5}))
        .await;
    assert_eq!(status, 422, "{answer}");
    let (status, answer) = server
        .post("/collections/nope/points/count", &json!({}))
        .await;
    assert_error(status, &answer, 404, "collection_not_found");

    // A cursor names the last id returned, not a place in one collection:
    // taken from `docs`, it pages another collection from that id on.
    let (_, page) = server
        .post("/collections/docs/points/scroll", &json!({"limit": 3}))
        .await;
    let cursor = page["next"].as_str().expect("next").to_string();
    let (status, body) = server
        .put("/collections/other", &json!({"vector": {"dims": DIMS}}))
        .await;
    assert_eq!(status, 200, "{body}");
    let points: Vec<Value> = (0..6u64)
        .map(|id| json!({"id": id, "vector": vector(id)}))
        .collect();
    let (status, body) = server
        .put("/collections/other/points", &json!({ "points": points }))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, page) = server
        .post(
            "/collections/other/points/scroll",
            &json!({"limit": 10, "cursor": cursor}),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let last = cursor.trim_start_matches("n:").parse::<u64>().unwrap();
    let ids: Vec<u64> = page["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, ((last + 1)..6).collect::<Vec<u64>>(), "{page}");
}

#[tokio::test]
async fn a_payload_update_past_the_size_limit_is_refused_and_writes_nothing() {
    let server = Server::start(&["--max-payload-bytes", "64"]).await;
    let (status, body) = server
        .put(
            "/collections/docs",
            &json!({"vector": {"dims": DIMS, "metric": "dot"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // 40 and 20 bytes of compact JSON: each fits alone.
    let points = json!({"points": [
        {"id": 1, "vector": vector(1), "payload": {"text": "x".repeat(29)}},
        {"id": 2, "vector": vector(2), "payload": {"text": "y".repeat(9)}},
    ]});
    let (status, body) = server.put("/collections/docs/points", &points).await;
    assert_eq!(status, 200, "{body}");
    // Merged into both, the first would pass 64 bytes: refused, neither changed.
    let merge = json!({"payload": {"more": "z".repeat(20)}, "ids": [2, 1]});
    let (status, body) = server
        .post("/collections/docs/points/payload", &merge)
        .await;
    let message = assert_error(status, &body, 413, "limit_exceeded");
    assert!(message.contains("point 1"), "{message}");
    for (id, text) in [(1, "x".repeat(29)), (2, "y".repeat(9))] {
        let (_, point) = server
            .get_json(&format!("/collections/docs/points/{id}"))
            .await;
        assert_eq!(point["payload"], json!({"text": text}), "{point}");
    }
    // Into the small one only, it fits.
    let merge = json!({"payload": {"more": "z".repeat(20)}, "ids": [2]});
    let (status, body) = server
        .post("/collections/docs/points/payload", &merge)
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn payload_updates_over_http_are_durable_and_indexed() {
    let mut server = Server::start(&[]).await;
    let (status, body) = server
        .put(
            "/collections/docs",
            &json!({"vector": {"dims": DIMS, "metric": "dot"}, "payload_indexes": {"colour": "keyword"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let points: Vec<Value> = (1..=30u64)
        .map(|id| json!({"id": id, "vector": vector(id), "payload": {"colour": colour(id), "n": id}}))
        .collect();
    let (status, _) = server
        .put("/collections/docs/points", &json!({ "points": points }))
        .await;
    assert_eq!(status, 200);

    // Merge by ids: other keys stay, the vector stays.
    let (status, body) = server
        .post(
            "/collections/docs/points/payload",
            &json!({"payload": {"n": 0, "seen": true}, "ids": [1, 2, 999]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"updated": 2}));
    let (_, point) = server.get_json("/collections/docs/points/1").await;
    assert_eq!(
        point["payload"],
        json!({"colour": colour(1), "n": 0, "seen": true})
    );
    assert_eq!(point["vector"], json!(vector(1)));

    // Replace by filter: the keyword index answers for the new values.
    let red = json!({"must": [{"key": "colour", "match": {"value": "red"}}]});
    let (status, body) = server
        .put(
            "/collections/docs/points/payload",
            &json!({"payload": {"colour": "crimson"}, "filter": red}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["updated"], 10);
    let (_, body) = server
        .post("/collections/docs/points/count", &json!({"filter": red}))
        .await;
    assert_eq!(body["count"], 0);
    let (_, body) = server
        .post("/collections/docs/facet", &json!({"key": "colour"}))
        .await;
    // Ten of each colour: ties are listed by value.
    assert_eq!(
        body["values"],
        json!([{"value": "blue", "count": 10}, {"value": "crimson", "count": 10}, {"value": "green", "count": 10}])
    );

    // Delete keys by ids.
    let (status, body) = server
        .post(
            "/collections/docs/points/payload/delete",
            &json!({"keys": ["n", "seen"], "ids": [2]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, point) = server.get_json("/collections/docs/points/2").await;
    assert_eq!(point["payload"], json!({"colour": colour(2)}));

    // Bad requests change nothing.
    let set = "/collections/docs/points/payload";
    let delete_keys = "/collections/docs/points/payload/delete";
    for (put, path, body, field) in [
        (false, set, json!({"payload": {"a": 1}}), Some("ids")),
        (
            false,
            set,
            json!({"payload": {"a": 1}, "ids": [1], "filter": red}),
            Some("ids"),
        ),
        // A negative id is a malformed body (422 without a field).
        (true, set, json!({"payload": {}, "ids": [-1]}), None),
        (
            false,
            delete_keys,
            json!({"keys": [], "ids": [1]}),
            Some("keys"),
        ),
        (
            false,
            delete_keys,
            json!({"keys": [""], "ids": [1]}),
            Some("keys[0]"),
        ),
    ] {
        let (status, answer) = if put {
            server.put(path, &body).await
        } else {
            server.post(path, &body).await
        };
        assert_eq!(status, 422, "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["error"]["details"]["field"], field, "{answer}");
        }
    }
    let (_, point) = server.get_json("/collections/docs/points/1").await;
    assert_eq!(
        point["payload"],
        json!({"colour": colour(1), "n": 0, "seen": true})
    );

    // Acknowledged updates survive kill -9.
    let data = std::sync::Arc::clone(&server.data);
    server.kill9();
    drop(server);
    let server = Server::start_on(data, &[]).await;
    let (_, point) = server.get_json("/collections/docs/points/2").await;
    assert_eq!(point["payload"], json!({"colour": colour(2)}));
    let (_, body) = server
        .post(
            "/collections/docs/points/count",
            &json!({"filter": {"must": [{"key": "colour", "match": {"value": "crimson"}}]}}),
        )
        .await;
    assert_eq!(body["count"], 10);
}

#[tokio::test]
async fn query_runs_one_stage_by_vector_text_or_example() {
    let server = Server::start(&[]).await;
    let (status, body) = server
        .put(
            "/collections/docs",
            &json!({"vector": {"metric": "cosine"}, "payload_indexes": {"topic": "keyword"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let texts = [
        (1, "A man is eating food.", "food"),
        (2, "A man is eating a piece of bread.", "food"),
        (3, "Someone is slicing bread in the kitchen.", "food"),
        (4, "A monkey is playing drums.", "music"),
        (5, "A man plays the guitar on stage.", "music"),
    ];
    let points: Vec<Value> = texts
        .iter()
        .map(|(id, text, topic)| json!({"id": id, "text": text, "payload": {"topic": topic}}))
        .collect();
    let (status, body) = server
        .put("/collections/docs/points", &json!({ "points": points }))
        .await;
    assert_eq!(status, 200, "{body}");
    let ids = |body: &Value| -> Vec<u64> {
        body["hits"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|h| h["id"].as_u64().unwrap())
            .collect()
    };

    // One stage at the top level is the search route's answer.
    let (status, query) = server
        .post(
            "/collections/docs/query",
            &json!({"text": "eating bread", "limit": 3}),
        )
        .await;
    assert_eq!(status, 200, "{query}");
    let (_, search) = server
        .post(
            "/collections/docs/search",
            &json!({"text": "eating bread", "limit": 3}),
        )
        .await;
    assert_eq!(ids(&query), ids(&search));

    // In `prefetch`, with the stage's and the query's filters both applied
    // and the stage's limit capping the answer.
    let (status, body) = server
        .post(
            "/collections/docs/query",
            &json!({"prefetch": [{"using": "", "text": "eating bread", "limit": 2,
                                  "filter": {"must_not": [{"has_id": [2]}]}}],
                    "filter": {"must": [{"key": "topic", "match": {"value": "food"}}]},
                    "limit": 5}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let got = ids(&body);
    assert_eq!(got.len(), 2, "{body}");
    assert!(got.iter().all(|id| [1, 3].contains(id)), "{body}");

    // By example: the stored vector of point 2, point 2 itself excluded.
    let (status, body) = server
        .post("/collections/docs/query", &json!({"point": 2, "limit": 2}))
        .await;
    assert_eq!(status, 200, "{body}");
    let got = ids(&body);
    assert!(!got.contains(&2) && got.len() == 2, "{body}");
    assert!(got.iter().all(|id| [1, 3].contains(id)), "{body}");

    // Refusals name the field.
    for (request, field) in [
        (json!({"limit": 3}), "vector"),
        (json!({"text": "x", "point": 1}), "vector"),
        (json!({"using": "dense", "text": "x"}), "using"),
        (json!({"prefetch": []}), "prefetch"),
        (
            json!({"prefetch": [{"text": "a"}], "text": "b"}),
            "prefetch",
        ),
        (
            json!({"prefetch": [{"text": "a", "limit": 0}]}),
            "prefetch[0].limit",
        ),
        (
            json!({"prefetch": [{"text": "a", "using": "x"}]}),
            "prefetch[0].using",
        ),
    ] {
        let (status, body) = server.post("/collections/docs/query", &request).await;
        assert_error(status, &body, 422, "invalid_value");
        assert_eq!(
            body["error"]["details"]["field"], field,
            "{request}: {body}"
        );
    }
    let (status, body) = server
        .post("/collections/docs/query", &json!({"point": 99}))
        .await;
    assert_error(status, &body, 404, "point_not_found");
}
