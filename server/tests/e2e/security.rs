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
