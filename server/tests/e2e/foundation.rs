//! Health, readiness, metrics, OpenAPI, and the error shape for bad requests.

use serde_json::{Value, json};

use crate::support::{Server, assert_error};

#[tokio::test]
async fn health_readiness_metrics_and_openapi_answer() {
    let server = Server::start(&[]).await;
    let (status, body) = server.get("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("json")["status"],
        "ok"
    );

    let (status, body) = server.get("/readyz").await;
    assert_eq!(status, 200);
    let ready: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(ready["ready"], true);
    assert_eq!(ready["model"], "all-minilm-l6-v2");

    let (status, body) = server.get("/openapi.json").await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).expect("json");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/embed",
        "/v1/embeddings",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }

    // Metrics count requests by route template and status.
    let (status, _) = server.post("/embed", &json!({"inputs": ["hello"]})).await;
    assert_eq!(status, 200);
    let (status, metrics) = server.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics
            .contains(r#"trawl_http_requests_total{method="POST",route="/embed",status="200"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"trawl_http_requests_total{method="GET",route="/readyz",status="200"}"#)
    );
    assert!(metrics.contains("trawl_http_request_duration_seconds_bucket"));
    assert!(metrics.contains("trawl_embed_batches_total 1"), "{metrics}");
    assert!(metrics.contains("trawl_embed_queue_depth 0"), "{metrics}");
}

#[tokio::test]
async fn bad_requests_get_the_json_error_shape_and_the_server_keeps_serving() {
    let mut server = Server::start(&["--max-body-bytes", "4096"]).await;

    let (status, body) = server
        .post_raw("/embed", b"{\"inputs\": [\"a\"".to_vec())
        .await;
    assert_error(status, &body, 400, "malformed_json");

    let (status, body) = server
        .post_raw("/embed", b"{\"inputs\": [\"\xff\xfe\"]}".to_vec())
        .await;
    assert_error(status, &body, 400, "malformed_json");

    let response = server
        .http
        .get(server.url("/no/such/route"))
        .send()
        .await
        .expect("GET");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("json");
    assert_error(status, &body, 404, "not_found");

    let response = server
        .http
        .delete(server.url("/embed"))
        .send()
        .await
        .expect("DELETE");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("json");
    assert_error(status, &body, 405, "method_not_allowed");

    let response = server
        .http
        .post(server.url("/embed"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("json");
    assert_error(status, &body, 415, "unsupported_media_type");

    let big = json!({"inputs": ["x".repeat(10_000)]});
    let (status, body) = server.post("/embed", &big).await;
    let message = assert_error(status, &body, 413, "payload_too_large");
    assert!(message.contains("4096"), "{message}");
    assert_eq!(body["error"]["details"]["limit"], 4096);

    // Still serving, and still alive.
    let (status, body) = server
        .post("/embed", &json!({"inputs": ["still here"]}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(server.alive());
    let (status, _) = server.get("/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn probe_exits_zero_only_when_the_server_is_ready() {
    let server = Server::start(&[]).await;
    let addr = server.url.trim_start_matches("http://").to_string();
    let probe = |addr: &str, path: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_trawl"))
            .args(["probe", "--addr", addr, "--path", path])
            .output()
            .expect("run trawl probe")
    };
    let ready = probe(&addr, "/readyz");
    assert!(ready.status.success(), "{ready:?}");
    let missing = probe(&addr, "/no-such-route");
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("answered 404"));
    // Nothing listens on the port once the server is gone.
    drop(server);
    let down = probe(&addr, "/readyz");
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    assert!(String::from_utf8_lossy(&down.stderr).contains("cannot connect"));
}
