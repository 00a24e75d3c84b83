//! API keys and request limits, against the real binary.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Server, assert_error};

const FULL: &str = "full-key-5d1c0a7e93b2";
const READ: &str = "read-key-8f04b6c2d917";

/// Sends `body` (if any) with `key` in the given header form; status and JSON answer.
async fn call(
    server: &Server,
    method: Method,
    path: &str,
    key: Option<(&str, &str)>,
    body: Option<&Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = server.http.request(method, server.url(path));
    if let Some((header, value)) = key {
        request = request.header(header, value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
    )
}

fn bearer(key: &str) -> Option<(&'static str, String)> {
    Some(("authorization", format!("Bearer {key}")))
}

#[tokio::test]
async fn api_keys_open_what_they_should_and_nothing_else() {
    let server = Server::start(&["--api-key", FULL, "--read-only-api-key", READ]).await;
    let full = bearer(FULL);
    let full = full.as_ref().map(|(h, v)| (*h, v.as_str()));
    let read = bearer(READ);
    let read = read.as_ref().map(|(h, v)| (*h, v.as_str()));
    let create = json!({"vector": {"dims": 4, "metric": "cosine"}});
    let points = json!({"points": [{"id": 1, "vector": [1.0, 0.0, 0.0, 0.0]}]});
    let search = json!({"vector": [1.0, 0.0, 0.0, 0.0], "limit": 1});

    // Probes and the API document stay open.
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        let (status, _, _) = call(&server, Method::GET, path, None, None).await;
        assert_eq!(status, 200, "{path}");
    }

    // No key, or a wrong one: 401 with a challenge, on known and unknown routes alike.
    for key in [
        None,
        Some(("authorization", "Bearer not-the-key-at-all")),
        Some(("api-key", "wrong")),
    ] {
        for (method, path) in [
            (Method::GET, "/collections"),
            (Method::PUT, "/collections/docs"),
            (Method::POST, "/embed"),
            (Method::GET, "/metrics"),
            (Method::GET, "/no/such/route"),
        ] {
            let (status, body, headers) = call(&server, method, path, key, Some(&create)).await;
            assert_error(status, &body, 401, "unauthorized");
            assert_eq!(headers["www-authenticate"], "Bearer");
        }
    }
    // The key must be the whole header value after the scheme.
    let (status, body, _) = call(
        &server,
        Method::GET,
        "/collections",
        Some(("authorization", FULL)),
        None,
    )
    .await;
    assert_error(status, &body, 401, "unauthorized");

    // The full key writes, in either header form.
    let (status, body, _) = call(
        &server,
        Method::PUT,
        "/collections/docs",
        full,
        Some(&create),
    )
    .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let (status, body, _) = call(
        &server,
        Method::PUT,
        "/collections/docs/points",
        Some(("api-key", FULL)),
        Some(&points),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The read-only key reads, embeds and searches, and gets 403 on every write.
    let (status, _, _) = call(&server, Method::GET, "/collections/docs", read, None).await;
    assert_eq!(status, 200);
    let (status, body, _) = call(
        &server,
        Method::POST,
        "/collections/docs/search",
        read,
        Some(&search),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hits"][0]["id"], 1, "{body}");
    for (path, body) in [
        (
            "/collections/docs/query",
            json!({"vector": [1.0, 0.0, 0.0, 0.0]}),
        ),
        ("/collections/docs/points/scroll", json!({})),
        ("/collections/docs/points/count", json!({})),
        (
            "/collections/docs/search/batch",
            json!({"searches": [search.clone()]}),
        ),
    ] {
        let (status, answer, _) = call(&server, Method::POST, path, read, Some(&body)).await;
        assert_eq!(status, 200, "{path}: {answer}");
    }
    let (status, body, _) = call(
        &server,
        Method::POST,
        "/embed",
        Some(("api-key", READ)),
        Some(&json!({"inputs": ["hi"]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = call(&server, Method::GET, "/metrics", read, None).await;
    assert_eq!(status, 200);
    for (method, path, body) in [
        (Method::PUT, "/collections/other", &create),
        (Method::PUT, "/collections/docs/points", &points),
        (
            Method::POST,
            "/collections/docs/points/delete",
            &json!({"ids": [1]}),
        ),
        (Method::POST, "/collections/docs/snapshots", &json!({})),
        (
            Method::PUT,
            "/collections/docs/snapshots/restore",
            &json!({}),
        ),
        (
            Method::DELETE,
            "/collections/docs/snapshots/docs-1",
            &json!({}),
        ),
        (Method::DELETE, "/collections/docs", &json!({})),
    ] {
        let (status, answer, _) = call(&server, method, path, read, Some(body)).await;
        assert_error(status, &answer, 403, "forbidden");
    }
    // Nothing the read-only key tried changed the data.
    let (status, body, _) = call(
        &server,
        Method::GET,
        "/collections/docs/points/1",
        full,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The API document says so.
    let (_, doc, _) = call(&server, Method::GET, "/openapi.json", None, None).await;
    let responses = |path: &str, method: &str| doc["paths"][path][method]["responses"].clone();
    assert!(responses("/collections", "get")["401"].is_object());
    assert!(responses("/collections/{name}/search", "post")["401"].is_object());
    assert!(responses("/collections/{name}/search", "post")["403"].is_null());
    assert!(responses("/collections/{name}", "put")["403"].is_object());
    assert!(responses("/collections/{name}/points", "put")["403"].is_object());

    // Neither key ever reaches the log.
    let log = server.log();
    assert!(
        !log.contains(FULL) && !log.contains(READ),
        "a key was logged"
    );
}

#[tokio::test]
async fn metrics_can_be_opened_and_bad_key_settings_refuse_to_start() {
    let server = Server::start(&["--api-key", FULL, "--public-metrics"]).await;
    let (status, _, _) = call(&server, Method::GET, "/metrics", None, None).await;
    assert_eq!(status, 200);
    let (status, body, _) = call(&server, Method::GET, "/collections", None, None).await;
    assert_error(status, &body, 401, "unauthorized");
    drop(server);

    for args in [
        vec!["--api-key", "short"],
        vec!["--read-only-api-key", READ],
        vec!["--api-key", FULL, "--read-only-api-key", FULL],
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_trawl"))
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(&args)
            .output()
            .expect("run trawl");
        assert!(!output.status.success(), "{args:?} started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("key"), "{args:?}: {stderr}");
        assert!(!stderr.contains(FULL) && !stderr.contains(READ), "{stderr}");
    }
}

#[tokio::test]
async fn every_limit_is_enforced_with_a_4xx_that_names_it() {
    let server = Server::start(&[
        "--max-body-bytes",
        "8192",
        "--max-inputs",
        "2",
        "--max-upsert-points",
        "2",
        "--max-dims",
        "8",
        "--max-multivector-tokens",
        "2",
        "--max-payload-bytes",
        "64",
        "--max-payload-depth",
        "2",
        "--max-filter-depth",
        "2",
        "--max-filter-conditions",
        "3",
        "--max-limit",
        "5",
        "--max-ef",
        "50",
        "--max-oversample",
        "4",
        "--max-batch-searches",
        "2",
    ])
    .await;
    let (status, body) = server
        .put(
            "/collections/v",
            &json!({"vector": {"dims": 4, "layout": "binary"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .put(
            "/collections/mv",
            &json!({"vector": {"dims": 4, "layout": "multivector"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let v = json!([0.5, 0.5, 0.5, 0.5]);
    let cond = json!({"key": "k", "match": {"value": "x"}});
    let nested = json!({"must": [{"must": [{"must": [{"must": [cond]}]}]}]});
    let search = |extra: Value| {
        let mut body = json!({"vector": v, "limit": 1});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let cases: Vec<(&str, &str, Value, u16, &str)> = vec![
        (
            "PUT",
            "/collections/big",
            json!({"vector": {"dims": 9}}),
            422,
            "vector.dims",
        ),
        (
            "POST",
            "/embed",
            json!({"inputs": ["a", "b", "c"]}),
            413,
            "inputs",
        ),
        (
            "PUT",
            "/collections/v/points",
            json!({"points": [
            {"id": 1, "vector": v}, {"id": 2, "vector": v}, {"id": 3, "vector": v}]}),
            413,
            "points",
        ),
        (
            "PUT",
            "/collections/v/points",
            json!({"points": [
            {"id": 1, "vector": v, "payload": {"text": "x".repeat(80)}}]}),
            413,
            "points[0].payload",
        ),
        (
            "PUT",
            "/collections/v/points",
            json!({"points": [
            {"id": 1, "vector": v, "payload": {"a": {"b": {"c": 1}}}}]}),
            413,
            "points[0].payload",
        ),
        (
            "PUT",
            "/collections/mv/points",
            json!({"points": [
            {"id": 1, "multivector": [v, v, v]}]}),
            413,
            "multivector",
        ),
        (
            "POST",
            "/collections/v/search",
            search(json!({"limit": 6})),
            422,
            "limit",
        ),
        (
            "POST",
            "/collections/v/search",
            search(json!({"params": {"ef": 51}})),
            422,
            "params.ef",
        ),
        (
            "POST",
            "/collections/v/search",
            search(json!({"params": {"oversample": 4.5}})),
            422,
            "params.oversample",
        ),
        (
            "POST",
            "/collections/v/search",
            search(json!({"filter": nested})),
            422,
            "deeper than 2",
        ),
        (
            "POST",
            "/collections/v/search",
            search(json!({"filter": {"must": [cond, cond, cond, cond]}})),
            422,
            "conditions",
        ),
        (
            "POST",
            "/collections/v/search/batch",
            json!({"searches": [search(json!({})), search(json!({})), search(json!({}))]}),
            413,
            "searches",
        ),
        (
            "POST",
            "/embed",
            json!({"inputs": ["x".repeat(9000)]}),
            413,
            "8192",
        ),
    ];
    for (method, path, body, want, names) in cases {
        let request = server
            .http
            .request(method.parse().unwrap(), server.url(path))
            .json(&body);
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, want, "{method} {path} {body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(names),
            "{method} {path}: {message:?} should name {names:?}"
        );
    }
    // Within the limits the same requests pass, and nothing refused was stored.
    let (status, body) = server
        .put(
            "/collections/v/points",
            &json!({"points": [{"id": 1, "vector": v, "payload": {"a": {"b": 1}}}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.get_json("/collections/v").await;
    assert_eq!(status, 200);
    assert_eq!(body["points"], 1, "{body}");
    let (status, body) = server
        .post(
            "/collections/v/search",
            &search(json!({"limit": 5, "params": {"ef": 50, "oversample": 4}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn path_like_collection_names_never_reach_the_file_system() {
    let server = Server::start(&[]).await;
    let create = json!({"vector": {"dims": 4}});
    for name in [
        "..",
        "...",
        ".hidden",
        "a.b",
        "-x",
        "_x",
        "a%2Fb",
        "..%2F..%2Fetc",
        "%2e%2e",
        "a%00b",
        "a%20b",
        &"n".repeat(65),
    ] {
        let path = format!("/collections/{name}");
        let (status, body) = server.put(&path, &create).await;
        assert!((400..500).contains(&status), "{name}: {status} {body}");
        if status == 422 {
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("collection name"),
                "{body}"
            );
        }
    }
    // Only the data directory's own entries exist: nothing was created by those names.
    let parent = server.data.0.parent().unwrap();
    let before: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    let (status, _) = server.put("/collections/ok-name_1", &create).await;
    assert_eq!(status, 200);
    let after: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        before.len(),
        after.len(),
        "a collection was created outside the data directory"
    );
    let (status, body) = server.get_json("/collections").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = body["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["ok-name_1"], "{body}");
}

#[tokio::test]
async fn past_the_admission_limit_requests_wait_briefly_then_get_503() {
    // One slot, 50 ms of patience: with eight slow embeds at once, some must
    // be refused, each refusal says when to retry, and probes still answer.
    let server = Server::start(&[
        "--max-concurrent-requests",
        "1",
        "--max-queue-wait-ms",
        "50",
    ])
    .await;
    let long = "tokens of a long document ".repeat(60);
    let body = json!({"inputs": vec![long; 32]});
    let sends = (0..8).map(|_| server.http.post(server.url("/embed")).json(&body).send());
    let (answers, health) = tokio::join!(futures::future::join_all(sends), server.get("/healthz"));
    assert_eq!(health.0, 200);
    let mut ok = 0;
    let mut refused = 0;
    for answer in answers {
        let answer = answer.expect("an answer");
        match answer.status().as_u16() {
            200 => ok += 1,
            503 => {
                assert_eq!(answer.headers()["retry-after"], "1");
                let body: Value = answer.json().await.expect("JSON");
                assert_error(503, &body, 503, "overloaded");
                refused += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 1 && refused >= 1, "{ok} served, {refused} refused");
}
