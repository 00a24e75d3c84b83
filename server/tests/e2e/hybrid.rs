//! Lexical and hybrid queries on the real binary with the real model: a
//! collection with a full-text index stores each point's `text` in its
//! payload field, answers BM25 stages, fuses them with dense stages (RRF,
//! DBSF, weights), explains each hit's places, honours filters, refuses bad
//! stages and fusions naming the field, and answers the same after a
//! `kill -9` (sealed segments' text files and the log's tail).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::{Server, assert_error};

const TEXTS: [(u64, &str, &str); 8] = [
    (1, "A man is eating food.", "food"),
    (2, "A man is eating a piece of bread.", "food"),
    (3, "Someone is slicing bread in the kitchen.", "food"),
    (4, "A monkey is playing drums.", "music"),
    (5, "A man plays the guitar on stage.", "music"),
    (
        6,
        "The guitarist tuned her guitars before the concert.",
        "music",
    ),
    (7, "Sourdough loaves need a long, slow rise.", "food"),
    (
        8,
        "Kinases phosphorylate proteins in signalling cascades.",
        "science",
    ),
];

fn ids(body: &Value) -> Vec<u64> {
    body["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|h| h["id"].as_u64().unwrap())
        .collect()
}

/// Creates the collection `docs` with `body` and writes [`TEXTS`] into it.
async fn create_with_texts(server: &Server, body: Value) {
    let (status, answer) = server.put("/collections/docs", &body).await;
    assert_eq!(status, 200, "{answer}");
    let points: Vec<Value> = TEXTS
        .iter()
        .map(|(id, text, topic)| json!({"id": id, "text": text, "payload": {"topic": topic}}))
        .collect();
    let (status, answer) = server
        .put("/collections/docs/points", &json!({ "points": points }))
        .await;
    assert_eq!(status, 200, "{answer}");
}

async fn query(server: &Server, body: Value) -> Value {
    let (status, answer) = server.post("/collections/docs/query", &body).await;
    assert_eq!(status, 200, "{body}: {answer}");
    answer
}

#[tokio::test]
async fn lexical_and_hybrid_queries_fuse_stages_and_survive_kill_9() {
    let server = Server::start(&["--segment-points", "4"]).await;
    create_with_texts(
        &server,
        json!({"vector": {"metric": "cosine"}, "text": {},
               "payload_indexes": {"topic": "keyword", "text": "text"}}),
    )
    .await;
    let (_, info) = server.get_json("/collections/docs").await;
    assert_eq!(
        info["text"],
        json!({"field": "text", "language": "en"}),
        "{info}"
    );

    // The text is stored in the payload field the index reads.
    let (_, point) = server.get_json("/collections/docs/points/6").await;
    assert_eq!(point["payload"]["text"], TEXTS[5].1, "{point}");

    // Lexical: stemmed words ("guitars", "guitar"), stop words ignored.
    let lexical = query(&server, json!({"lexical": "the guitars", "limit": 5})).await;
    let got = ids(&lexical);
    assert_eq!(got.len(), 2, "{lexical}");
    assert!(got.contains(&5) && got.contains(&6), "{lexical}");
    assert_eq!(lexical["hits"][0]["payload"]["topic"], "music", "{lexical}");
    let shortcut = query(
        &server,
        json!({"text": "the guitars", "mode": "lexical", "limit": 5}),
    )
    .await;
    assert_eq!(ids(&shortcut), got);
    assert_eq!(
        query(&server, json!({"lexical": "the of a", "limit": 5})).await["hits"],
        json!([])
    );

    // Hybrid: the dense vector and the full-text index, here fused by RRF,
    // each hit explained by its place in each stage.
    let hybrid = query(
        &server,
        json!({"text": "fresh bread", "mode": "hybrid", "limit": 4, "explain": true,
               "fusion": "rrf"}),
    )
    .await;
    let got = ids(&hybrid);
    assert_eq!(got.len(), 4, "{hybrid}");
    assert!(got[..2].contains(&2) && got[..2].contains(&3), "{hybrid}");
    let first = &hybrid["hits"][0];
    let places = first["explain"]
        .as_array()
        .unwrap_or_else(|| panic!("{hybrid}"));
    assert_eq!(places.len(), 2, "{hybrid}");
    let rrf: f64 = places
        .iter()
        .map(|p| 1.0 / (60.0 + p["rank"].as_f64().unwrap()))
        .sum();
    assert!(
        (first["score"].as_f64().unwrap() - rrf).abs() < 1e-6,
        "{hybrid}"
    );
    assert!(first["payload"]["text"].is_string(), "{hybrid}");

    // The same stages given in `prefetch`, other fusions.
    let stages =
        json!([{"text": "fresh bread", "limit": 8}, {"lexical": "fresh bread", "limit": 8}]);
    let rrf_prefetch = query(&server, json!({"prefetch": stages, "limit": 4})).await;
    assert_eq!(ids(&rrf_prefetch), got);
    for fusion in [
        json!("dbsf"),
        json!({"rrf": {"k": 10}}),
        json!({"weights": [0.3, 0.7]}),
    ] {
        let body = query(
            &server,
            json!({"prefetch": stages, "fusion": fusion, "limit": 4}),
        )
        .await;
        let fused = ids(&body);
        assert_eq!(fused.len(), 4, "{fusion}: {body}");
        assert!(fused.contains(&2) && fused.contains(&3), "{fusion}: {body}");
    }
    // The hybrid shortcut's default fusion is DBSF.
    let default = query(
        &server,
        json!({"text": "fresh bread", "mode": "hybrid", "limit": 8}),
    )
    .await;
    let dbsf = query(
        &server,
        json!({"prefetch": stages, "fusion": "dbsf", "limit": 8}),
    )
    .await;
    assert_eq!(default["hits"], dbsf["hits"]);
    // Weights that keep one stage answer as that stage does.
    let dense_only = query(
        &server,
        json!({"prefetch": stages, "fusion": {"weights": [1.0, 0.0]}, "limit": 8,
               "with_payload": false}),
    )
    .await;
    let dense = query(&server, json!({"text": "fresh bread", "limit": 8})).await;
    assert_eq!(ids(&dense_only), ids(&dense));
    assert!(
        dense_only["hits"][0].get("payload").is_none(),
        "{dense_only}"
    );

    // Filters reach every stage.
    let music = query(
        &server,
        json!({"text": "bread guitar", "mode": "hybrid", "limit": 8,
               "filter": {"must": [{"key": "topic", "match": {"value": "music"}}]}}),
    )
    .await;
    let got = ids(&music);
    assert!(
        !got.is_empty() && got.iter().all(|id| [4, 5, 6].contains(id)),
        "{music}"
    );

    // Words filter: every word of the text in the point's text field (a
    // `text` payload index answers it; a value match on it is refused).
    let words = query(
        &server,
        json!({"text": "music", "mode": "hybrid", "limit": 8,
               "filter": {"must": [{"key": "text", "match": {"text": "GUITAR, stage"}}]}}),
    )
    .await;
    assert_eq!(ids(&words), vec![5], "{words}");
    let (status, counted) = server
        .post(
            "/collections/docs/points/count",
            &json!({"filter": {"must": [{"key": "text", "match": {"text": "a man"}}]}, "exact": false}),
        )
        .await;
    assert_eq!(status, 200, "{counted}");
    assert_eq!(counted["count"], 3, "{counted}");
    // Answered by the index, not estimated.
    assert_eq!(counted["exact"], true, "{counted}");
    let (status, body) = server
        .post(
            "/collections/docs/query",
            &json!({"lexical": "bread", "filter": {"must": [{"key": "text", "match": {"value": "bread"}}]}}),
        )
        .await;
    let message = assert_error(status, &body, 422, "invalid_filter");
    assert!(message.contains("indexed as text"), "{message}");
    let (status, body) = server
        .post("/collections/docs/facet", &json!({"key": "text"}))
        .await;
    assert_error(status, &body, 422, "invalid_value");
    let (status, body) = server
        .post(
            "/collections/docs/query",
            &json!({"lexical": "bread", "filter": {"must": [{"key": "text", "match": {"text": "!?"}}]}}),
        )
        .await;
    assert_error(status, &body, 422, "invalid_filter");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("filter.must[0].match.text")),
        "{body}"
    );

    // Each kind of stage's time is in the metrics.
    let (status, metrics) = server.get("/metrics").await;
    assert_eq!(status, 200);
    for kind in ["dense", "lexical", "fusion"] {
        let line = format!("trawl_query_stage_duration_seconds_count{{kind=\"{kind}\"}}");
        assert!(metrics.contains(&line), "{line} missing from:\n{metrics}");
    }

    // No more stages than a batch of searches may hold.
    let many: Vec<Value> = (0..257).map(|_| json!({"lexical": "bread"})).collect();
    let (status, body) = server
        .post(
            "/collections/docs/query",
            &json!({"prefetch": many, "fusion": "rrf"}),
        )
        .await;
    assert_error(status, &body, 413, "limit_exceeded");

    // Refusals name the field.
    for (request, field) in [
        (
            json!({"prefetch": stages, "fusion": {"weights": [1.0]}}),
            "fusion.weights",
        ),
        (
            json!({"prefetch": stages, "fusion": {"weights": [1.0, -1.0]}}),
            "fusion.weights",
        ),
        (
            json!({"prefetch": stages, "fusion": {"rrf": {"k": -1}}}),
            "fusion.rrf.k",
        ),
        (json!({"mode": "hybrid"}), "mode"),
        (json!({"text": "x", "mode": "hybrid", "using": ""}), "using"),
        (
            json!({"prefetch": [{"lexical": "x", "using": ""}]}),
            "prefetch[0].lexical",
        ),
        (json!({"prefetch": stages, "text": "x"}), "prefetch"),
        (json!({"lexical": "x", "limit": 0}), "limit"),
    ] {
        let (status, body) = server.post("/collections/docs/query", &request).await;
        assert_error(status, &body, 422, "invalid_value");
        assert_eq!(
            body["error"]["details"]["field"], field,
            "{request}: {body}"
        );
    }
    let (status, body) = server
        .put(
            "/collections/docs/points",
            &json!({"points": [{"id": 9, "text": "a", "payload": {"text": "b"}}]}),
        )
        .await;
    assert_error(status, &body, 422, "invalid_value");
    assert_eq!(
        body["error"]["details"]["field"], "points[0].payload.text",
        "{body}"
    );
    let (status, body) = server
        .put(
            "/collections/other",
            &json!({"vector": {"metric": "cosine"}, "text": {"language": "xx"}}),
        )
        .await;
    assert_error(status, &body, 422, "invalid_value");
    assert_eq!(body["error"]["details"]["field"], "text.language", "{body}");
    let (status, body) = server
        .put(
            "/collections/plain",
            &json!({"vector": {"metric": "cosine"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .post("/collections/plain/query", &json!({"lexical": "bread"}))
        .await;
    assert_error(status, &body, 422, "invalid_value");
    assert_eq!(body["error"]["details"]["field"], "lexical", "{body}");

    // A replaced text is searched by its new words only; then a crash.
    let (status, body) = server
        .put(
            "/collections/docs/points",
            &json!({"points": [{"id": 8, "text": "Rye bread with caraway.", "payload": {"topic": "food"}}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        query(&server, json!({"lexical": "kinases", "limit": 5})).await["hits"],
        json!([])
    );
    let before = query(&server, json!({"lexical": "bread", "limit": 8})).await;
    assert_eq!(ids(&before).len(), 3, "{before}");
    let mut server = server;
    server.kill9();
    let data = Arc::clone(&server.data);
    drop(server);
    let server = Server::start_on(data, &["--segment-points", "4"]).await;
    let after = query(&server, json!({"lexical": "bread", "limit": 8})).await;
    assert_eq!(ids(&after), ids(&before), "{}", server.log());
    // A snapshot carries the text index: restored as another collection, it
    // answers the same.
    server.copy_by_snapshot("docs", "copy").await;
    let (status, copied) = server
        .post(
            "/collections/copy/query",
            &json!({"lexical": "bread", "limit": 8}),
        )
        .await;
    assert_eq!(status, 200, "{copied}");
    // The same points (scores may move a little: the snapshot's flush merges
    // segments, and replaced points' old texts leave the statistics then).
    assert_eq!(ids(&copied), ids(&after), "{copied} {after}");
    // The scores after the crash: BM25's statistics count a replaced text
    // until its segment is merged away, and whether the sealer merged
    // before the kill is a matter of timing (1 run in ~6 here: 1.0631
    // after against 1.1908 before for the top hit). The order stays.
    for (a, b) in after["hits"]
        .as_array()
        .unwrap()
        .iter()
        .zip(before["hits"].as_array().unwrap())
    {
        let (a, b) = (a["score"].as_f64().unwrap(), b["score"].as_f64().unwrap());
        assert!(
            (a - b).abs() <= 0.2 * b,
            "score {a} after the crash, {b} before\n{before}\n{after}"
        );
    }
}

#[tokio::test]
async fn a_rerank_stage_rescores_the_fused_candidates_exactly() {
    let server = Server::start(&[]).await;
    create_with_texts(
        &server,
        json!({"vector": {"metric": "cosine", "layout": "binary"}, "text": {},
               "vectors": {"tokens": {"metric": "dot", "layout": "multivector",
                                      "encoder": "multivector"}}}),
    )
    .await;

    // Hybrid candidates, reranked by Chamfer over the token vectors: the
    // order and scores are the exact multivector search's over those points.
    let reranked = query(
        &server,
        json!({"text": "guitar music on stage", "mode": "hybrid", "limit": 3,
               "rerank": {"using": "tokens"}, "explain": true}),
    )
    .await;
    let exact = query(
        &server,
        json!({"using": "tokens", "text": "guitar music on stage", "limit": 3,
               "params": {"exact": true}}),
    )
    .await;
    assert_eq!(ids(&reranked), ids(&exact), "{reranked} {exact}");
    for (a, b) in reranked["hits"]
        .as_array()
        .unwrap()
        .iter()
        .zip(exact["hits"].as_array().unwrap())
    {
        assert!((a["score"].as_f64().unwrap() - b["score"].as_f64().unwrap()).abs() < 1e-5);
        assert!(a["payload"]["topic"].is_string(), "{reranked}");
    }
    // The explanation ends with the rerank's place (stage 3: after the
    // hybrid's stages, the unnamed vector, `tokens` and the lexical one).
    let last = reranked["hits"][0]["explain"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["stage"], 3, "{reranked}");
    assert_eq!(last["rank"], 1, "{reranked}");

    // Only the candidates are rescored: a lexical stage of one hit reranks to one hit.
    let one = query(
        &server,
        json!({"prefetch": [{"lexical": "drums", "limit": 1}], "limit": 5,
               "rerank": {"using": "tokens", "text": "drums"}}),
    )
    .await;
    assert_eq!(ids(&one), vec![4], "{one}");

    for (request, field) in [
        (
            json!({"lexical": "drums", "rerank": {"using": "tokens"}}),
            "rerank.text",
        ),
        (
            json!({"text": "x", "rerank": {"using": "nope"}}),
            "rerank.using",
        ),
        (
            json!({"text": "x", "rerank": {"using": "tokens", "limit": 0}}),
            "rerank.limit",
        ),
    ] {
        let (status, body) = server.post("/collections/docs/query", &request).await;
        assert_error(status, &body, 422, "invalid_value");
        assert_eq!(
            body["error"]["details"]["field"], field,
            "{request}: {body}"
        );
    }
}
