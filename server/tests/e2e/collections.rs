//! Collections, points and search over HTTP, and bad input against them.

use serde_json::{Value, json};

use crate::support::{Server, assert_error};

fn unit(i: usize, dims: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..dims)
        .map(|j| (((i * 7919 + j * 104_729) % 1_000) as f32) / 500.0 - 1.0)
        .collect();
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}

#[tokio::test]
async fn collection_lifecycle_with_text_vectors_and_filters() {
    let server = Server::start(&[]).await;
    let (status, body) = server
        .put(
            "/collections/docs",
            &json!({"vector": {"metric": "cosine"}, "payload_indexes": {"pos": "keyword", "len": "integer"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let points = json!({"points": [
        {"id": 1, "text": "A man is eating food.", "payload": {"pos": "noun", "len": 5}},
        {"id": 2, "text": "A man is eating a piece of bread.", "payload": {"pos": "noun", "len": 8}},
        {"id": "5f0c2f3e-1111-4222-8333-444455556666", "text": "A monkey is playing drums.", "payload": {"pos": "verb", "len": 5}},
        {"id": 4, "vector": unit(4, 384), "payload": {"pos": "adj", "len": 1, "tags": ["x", "y"]}},
    ]});
    let (status, body) = server.put("/collections/docs/points", &points).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["upserted"], 4);

    let (status, body) = server
        .post(
            "/collections/docs/search",
            &json!({"text": "someone eats bread", "limit": 2}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hits"][0]["id"], 2);
    assert_eq!(body["hits"][1]["id"], 1);
    assert!(
        body["hits"][0]["score"].as_f64().unwrap() > body["hits"][1]["score"].as_f64().unwrap()
    );
    assert_eq!(body["hits"][0]["payload"]["len"], 8);

    let filtered = json!({"text": "someone eats bread",
        "filter": {"must": [{"key": "len", "range": {"lt": 6}}], "must_not": [{"key": "pos", "match": {"value": "adj"}}]}});
    let (_, body) = server.post("/collections/docs/search", &filtered).await;
    let ids: Vec<&Value> = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| &h["id"])
        .collect();
    assert_eq!(
        ids,
        vec![&json!(1), &json!("5f0c2f3e-1111-4222-8333-444455556666")]
    );

    let (status, body) = server
        .post(
            "/collections/docs/search/batch",
            &json!({"searches": [{"vector": unit(4, 384), "limit": 1, "with_payload": false},
                                 {"text": "drums", "limit": 1, "filter": {"should": [{"has_id": ["5f0c2f3e-1111-4222-8333-444455556666"]}]}}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["hits"][0]["id"], 4);
    assert!((body["results"][0]["hits"][0]["score"].as_f64().unwrap() - 1.0).abs() < 1e-5);
    assert!(body["results"][0]["hits"][0].get("payload").is_none());
    assert_eq!(
        body["results"][1]["hits"][0]["id"],
        "5f0c2f3e-1111-4222-8333-444455556666"
    );

    let (status, body) = server
        .get_json("/collections/docs/points/5f0c2f3e-1111-4222-8333-444455556666")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["payload"]["pos"], "verb");
    assert_eq!(body["vector"].as_array().unwrap().len(), 384);

    let (status, body) = server.get_json("/collections/docs").await;
    assert_eq!(status, 200);
    assert_eq!(body["points"], 4);
    assert_eq!(body["vector"]["dims"], 384);
    assert!(body["ram_bytes"].as_u64().unwrap() > 4 * 384 * 4);
    assert!(body["disk_bytes"].as_u64().unwrap() > 0);

    let (_, body) = server
        .post(
            "/collections/docs/points/delete",
            &json!({"filter": {"must": [{"key": "tags", "match": {"any": ["y"]}}]}}),
        )
        .await;
    assert_eq!(body["deleted"], 1);
    let (_, body) = server
        .post("/collections/docs/points/delete", &json!({"ids": [1, 999]}))
        .await;
    assert_eq!(body["deleted"], 1);
    let (status, body) = server.get_json("/collections/docs/points/1").await;
    assert_error(status, &body, 404, "point_not_found");
    let (status, body) = server.post("/collections/docs/snapshots", &json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["points"], 2);

    let (_, body) = server.get_json("/collections").await;
    assert_eq!(body["collections"], json!([{"name": "docs", "points": 2}]));
    let response = server
        .http
        .delete(server.url("/collections/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, body) = server.get_json("/collections/docs").await;
    assert_error(status, &body, 404, "collection_not_found");
}

#[tokio::test]
async fn compact_layouts_keep_codes_in_memory_and_rerank_from_the_vector_file() {
    let server = Server::start(&[]).await;
    for (body, field) in [
        (
            json!({"vector": {"metric": "l2", "layout": "binary"}}),
            "cosine or dot",
        ),
        (json!({"vector": {"layout": "matryoshka:384"}}), "shorter"),
        (json!({"vector": {"layout": "binary:3"}}), "1, 2 or 4"),
    ] {
        let (status, answer) = server.put("/collections/bad", &body).await;
        let message = assert_error(status, &answer, 422, "invalid_value");
        assert!(message.contains(field), "{body} → {message}");
    }
    let (status, body) = server
        .put(
            "/collections/codes",
            &json!({"vector": {"metric": "cosine", "layout": "binary:2"}, "payload_indexes": {"pos": "keyword"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let texts = [
        "A man is eating food.",
        "A man is eating a piece of bread.",
        "A monkey is playing drums.",
        "Two men pushed carts through the woods.",
        "A man is riding a white horse on an enclosed ground.",
        "A woman is playing violin.",
    ];
    let points: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"id": i, "text": t, "payload": {"pos": if i % 2 == 0 { "even" } else { "odd" }}}))
        .collect();
    let (status, body) = server
        .put("/collections/codes/points", &json!({ "points": points }))
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = server
        .post(
            "/collections/codes/search",
            &json!({"text": "someone eats bread", "limit": 2, "params": {"oversample": 2}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hits"][0]["id"], 1);
    assert_eq!(body["hits"][1]["id"], 0);
    let reranked = body["hits"][0]["score"].as_f64().unwrap();
    // The exact score of the stored vector.
    let (_, exact) = server
        .post(
            "/collections/codes/search",
            &json!({"text": "someone eats bread", "limit": 1, "params": {"exact": true}}),
        )
        .await;
    assert!((exact["hits"][0]["score"].as_f64().unwrap() - reranked).abs() < 1e-5);
    let (status, coarse) = server
        .post(
            "/collections/codes/search",
            &json!({"text": "someone eats bread", "limit": 2, "params": {"rerank": false}}),
        )
        .await;
    assert_eq!(status, 200, "{coarse}");
    let coarse_score = coarse["hits"][0]["score"].as_f64().unwrap();
    assert!(
        coarse_score != reranked && coarse_score.abs() < 2.0,
        "{coarse}"
    );
    let (status, body) = server
        .post(
            "/collections/codes/search",
            &json!({"text": "violin", "limit": 1, "filter": {"must": [{"key": "pos", "match": {"value": "odd"}}]}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hits"][0]["id"], 5);
    let (status, body) = server
        .post(
            "/collections/codes/search",
            &json!({"text": "violin", "params": {"oversample": 0.5}}),
        )
        .await;
    let message = assert_error(status, &body, 422, "invalid_value");
    assert!(message.contains("params.oversample"), "{message}");

    let (status, info) = server.get_json("/collections/codes").await;
    assert_eq!(status, 200);
    assert_eq!(info["vector"]["layout"], "binary:2");
    assert_eq!(info["memory"]["ram"]["vectors"], 0, "{info}");
    assert!(info["memory"]["ram"]["codes"].as_u64().unwrap() >= 6 * 2 * 48);
    assert!(info["memory"]["disk"]["vectors_file"].as_u64().unwrap() >= 6 * 384 * 4);
    let (status, text) = server.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        text.contains(r#"trawl_collection_ram_bytes{collection="codes",part="codes"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"trawl_collection_disk_bytes{collection="codes",part="vectors_file"}"#)
    );
    assert!(text.contains(r#"trawl_collection_points{collection="codes"} 6"#));
}

#[tokio::test]
async fn bad_collection_requests_are_refused_and_nothing_is_written() {
    let server = Server::start(&["--max-upsert-points", "3", "--max-limit", "100"]).await;
    let (status, _) = server
        .put(
            "/collections/c",
            &json!({"vector": {"dims": 4, "metric": "l2"}, "payload_indexes": {"k": "keyword"}}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = server
        .put("/collections/c", &json!({"vector": {"dims": 4}}))
        .await;
    assert_error(status, &body, 409, "collection_exists");

    for (name, code) in [
        ("..%2F..%2Fetc", 422),
        ("a%20b", 422),
        (&"x".repeat(65), 422),
        ("_hidden", 422),
    ] {
        let (status, body) = server
            .put(
                &format!("/collections/{name}"),
                &json!({"vector": {"dims": 4}}),
            )
            .await;
        assert_error(status, &body, code, "invalid_value");
    }
    let creates = [
        (json!({"vector": {"dims": 0}}), "invalid_value", "dims"),
        (
            json!({"vector": {"dims": 4, "layout": "sparse"}}),
            "invalid_value",
            "layout",
        ),
        (
            json!({"vector": {"dims": 4, "hnsw": {"m": 1000}}}),
            "invalid_value",
            "hnsw.m",
        ),
        (
            json!({"vector": {"dims": 4, "metric": "hamming"}}),
            "invalid_body",
            "metric",
        ),
        (
            json!({"vector": {"dims": 4}, "payload_indexes": {"k": "geo"}}),
            "invalid_body",
            "payload_indexes",
        ),
    ];
    for (body, code, field) in creates {
        let (status, answer) = server.put("/collections/new", &body).await;
        let message = assert_error(status, &answer, 422, code);
        assert!(message.contains(field), "{body} → {message}");
    }

    let upserts = [
        (
            json!({"points": [{"id": 1, "vector": [1, 2, 3]}]}),
            422,
            "dimension_mismatch",
            "points[0].vector",
        ),
        (
            json!({"points": [{"id": 1, "vector": [1, 2, 3, 1e39]}]}),
            422,
            "invalid_value",
            "points[0].vector",
        ),
        (
            json!({"points": [{"id": -1, "vector": [1, 2, 3, 4]}]}),
            422,
            "invalid_body",
            "negative",
        ),
        (
            json!({"points": [{"id": 1.5, "vector": [1, 2, 3, 4]}]}),
            422,
            "invalid_body",
            "not an integer",
        ),
        (
            // Any string is an id, up to 256 bytes.
            json!({"points": [{"id": "x".repeat(257), "vector": [1, 2, 3, 4]}]}),
            422,
            "invalid_value",
            "points[0].id",
        ),
        (
            json!({"points": [{"id": 1}]}),
            422,
            "invalid_value",
            "points[0]",
        ),
        (
            json!({"points": [{"id": 1, "vector": [1, 2, 3, 4], "payload": [1]}]}),
            422,
            "invalid_body",
            "payload",
        ),
        (
            json!({"points": [{"id": 1, "vector": [1, 2, 3, 4]}, {"id": 2, "vector": [1, 2, 3, 4]}, {"id": 3, "vector": [1, 2, 3, 4]}, {"id": 4, "vector": [1, 2, 3, 4]}]}),
            413,
            "limit_exceeded",
            "points",
        ),
    ];
    for (body, status_want, code, needle) in upserts {
        let (status, answer) = server.put("/collections/c/points", &body).await;
        let message = assert_error(status, &answer, status_want, code);
        assert!(message.contains(needle), "{body} → {message}");
    }
    // A good point next to a bad one: nothing is written.
    let (status, _) = server
        .put(
            "/collections/c/points",
            &json!({"points": [{"id": 1, "vector": [1, 2, 3, 4]}, {"id": 2, "vector": [1, 2]}]}),
        )
        .await;
    assert_eq!(status, 422);
    let (_, info) = server.get_json("/collections/c").await;
    assert_eq!(info["points"], 0);

    let (status, _) = server
        .put(
            "/collections/c/points",
            &json!({"points": [{"id": 1, "vector": [1, 2, 3, 4], "payload": {"k": "a"}}]}),
        )
        .await;
    assert_eq!(status, 200);
    let searches = [
        (
            json!({"vector": [1, 2, 3, 4], "limit": 0}),
            "invalid_value",
            "limit",
        ),
        (
            json!({"vector": [1, 2, 3, 4], "limit": 101}),
            "invalid_value",
            "limit",
        ),
        (
            json!({"vector": [1, 2, 3, 4], "params": {"ef": 0}}),
            "invalid_value",
            "ef",
        ),
        (json!({"vector": [1, 2, 3]}), "dimension_mismatch", "vector"),
        (
            json!({"vector": [1, 2, 3, 4], "text": "both"}),
            "invalid_value",
            "vector",
        ),
        (
            json!({"vector": [1, 2, 3, 4], "filter": {"must": [{"key": "k", "range": {"gt": 1}}]}}),
            "invalid_filter",
            "must[0]",
        ),
        (
            json!({"vector": [1, 2, 3, 4], "filter": {"must": [{"key": "k", "regex": "a"}]}}),
            "invalid_body",
            "regex",
        ),
        (
            json!({"vector": [1, 2, 3, 4], "filter": {"must": [{"key": "k", "range": {}}]}}),
            "invalid_filter",
            "range",
        ),
        (
            json!({"vector": [1, 2, 3, 4], "filter": {"must": [{"key": "k", "match": {"value": 3}}]}}),
            "invalid_filter",
            "must[0]",
        ),
    ];
    for (body, code, needle) in searches {
        let (status, answer) = server.post("/collections/c/search", &body).await;
        let message = assert_error(status, &answer, 422, code);
        assert!(message.contains(needle), "{body} → {message}");
    }
    let (status, body) = server
        .post("/collections/nope/search", &json!({"vector": [1, 2, 3, 4]}))
        .await;
    assert_error(status, &body, 404, "collection_not_found");
    let (status, body) = server
        .post("/collections/c/search", &json!({"vector": [1, 2, 3, 4]}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hits"][0]["id"], 1);
    assert!(
        (body["hits"][0]["score"].as_f64().unwrap()).abs() < 1e-6,
        "l2: the negated distance, 0 for itself"
    );
}

/// Multi-vector collections over HTTP: texts become token vectors, token
/// vectors can be sent directly, search reranks by Chamfer, the info shows the
/// encoding, and bad token sets are refused naming the problem.
#[tokio::test]
async fn multivector_collections_over_http() {
    let server = Server::start(&["--max-multivector-tokens", "64"]).await;
    let (status, body) = server
        .put(
            "/collections/late",
            &json!({"vector": {"layout": "multivector", "muvera": {"k_sim": 3, "r_reps": 4}},
                    "payload_indexes": {"pos": "keyword"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, info) = server.get_json("/collections/late").await;
    assert_eq!(status, 200);
    assert_eq!(info["vector"]["layout"], "multivector");
    assert_eq!(info["vector"]["dims"], 384);
    let muvera = &info["vector"]["muvera"];
    assert_eq!(
        (&muvera["k_sim"], &muvera["d_proj"], &muvera["r_reps"]),
        (&json!(3), &json!(16), &json!(4))
    );
    assert_eq!(muvera["fde_dims"], 4 * 8 * 16);

    // Token vectors from /embed, sent as they are; and texts the server embeds.
    let (status, embedded) = server
        .post(
            "/embed",
            &json!({"inputs": ["A monkey is playing drums."], "kind": "multivector"}),
        )
        .await;
    assert_eq!(status, 200);
    let drums = embedded["embeddings"][0].clone();
    let points = json!({"points": [
        {"id": 1, "text": "A man is eating food.", "payload": {"pos": "noun"}},
        {"id": 2, "text": "A man is eating a piece of bread.", "payload": {"pos": "noun"}},
        {"id": 3, "multivector": drums, "payload": {"pos": "verb"}},
        {"id": 4, "text": "The new movie is awesome.", "payload": {"pos": "adj"}},
    ]});
    let (status, body) = server.put("/collections/late/points", &points).await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = server
        .post(
            "/collections/late/search",
            &json!({"text": "someone eats bread", "limit": 2}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hits"][0]["id"], 2, "{body}");
    let (_, body) = server
        .post(
            "/collections/late/search",
            &json!({"multivector": drums, "limit": 1, "with_vector": true}),
        )
        .await;
    assert_eq!(body["hits"][0]["id"], 3, "{body}");
    // Chamfer of a set with itself: one per token.
    let tokens = drums.as_array().unwrap().len() as f64;
    let score = body["hits"][0]["score"].as_f64().unwrap();
    assert!((score - tokens).abs() < 1e-3, "{score} vs {tokens}");
    assert_eq!(
        body["hits"][0]["multivector"].as_array().unwrap().len(),
        drums.as_array().unwrap().len()
    );
    let (_, body) = server
        .post(
            "/collections/late/search",
            &json!({"text": "someone eats bread", "filter": {"must": [{"key": "pos", "match": {"value": "verb"}}]}}),
        )
        .await;
    assert_eq!(body["hits"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["hits"][0]["id"], 3);
    let (status, point) = server.get_json("/collections/late/points/3").await;
    assert_eq!(status, 200);
    assert!(point["vector"].is_null());
    assert_same_rows(&drums, &point["multivector"]);

    // Bad input: each refused with the field named; nothing is written.
    let cases = [
        (
            json!({"points": [{"id": 9, "vector": unit(9, 384)}]}),
            422,
            "points[0].vector",
        ),
        (
            json!({"points": [{"id": 9, "multivector": []}]}),
            422,
            "points[0].multivector",
        ),
        (
            json!({"points": [{"id": 9, "multivector": [unit(1, 384), unit(2, 100)]}]}),
            422,
            "points[0].multivector[1]",
        ),
        (
            json!({"points": [{"id": 9, "multivector": vec![unit(1, 384); 65]}]}),
            413,
            "points[0].multivector",
        ),
        (
            json!({"points": [{"id": 9, "multivector": [vec![0.0; 384]]}]}),
            422,
            "points[0].multivector[0]",
        ),
    ];
    for (body, want, field) in cases {
        let (status, answer) = server.put("/collections/late/points", &body).await;
        assert_eq!(status, want, "{answer}");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(field),
            "{answer}"
        );
    }
    let (status, answer) = server
        .post("/collections/late/search", &json!({"vector": unit(1, 384)}))
        .await;
    assert_eq!(status, 422, "{answer}");
    let (status, answer) = server
        .put(
            "/collections/flat",
            &json!({"vector": {"layout": "float", "muvera": {"k_sim": 3}}}),
        )
        .await;
    assert_error(status, &answer, 422, "invalid_value");
    let (status, answer) = server
        .put(
            "/collections/late2",
            &json!({"vector": {"layout": "multivector", "muvera": {"d_proj": 0}}}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("d_proj")
    );
    let (status, answer) = server
        .put(
            "/collections/late3",
            &json!({"vector": {"layout": "multivector", "muvera": {"fde_dims": 128}}}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("derived")
    );
    let (_, info) = server.get_json("/collections/late").await;
    assert_eq!(info["points"], 4);
}

/// The stored token rows are the sent ones (already normalised), within float noise.
fn assert_same_rows(sent: &Value, stored: &Value) {
    let (sent, stored) = (sent.as_array().unwrap(), stored.as_array().unwrap());
    assert_eq!(sent.len(), stored.len());
    for (a, b) in sent.iter().zip(stored) {
        let (a, b) = (a.as_array().unwrap(), b.as_array().unwrap());
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-5);
        }
    }
}
