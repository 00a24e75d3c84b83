//! Long text upserts with the real model: one past the request timeout says
//! how many points it wrote (and wrote exactly those); `?wait=false` queues
//! the write on disk, answers 202 with an operation that `GET
//! /operations/{id}` reports on, refuses bad points and a full queue up
//! front, and resumes after a `kill -9`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Server, assert_error};

/// A text of about 150 words (a long abstract's worth of tokens).
fn text(i: usize) -> String {
    let words = [
        "protein",
        "binding",
        "cells",
        "expression",
        "patients",
        "mutation",
        "signal",
        "tumour",
        "response",
        "receptor",
        "clinical",
        "pathway",
        "levels",
        "genome",
        "therapy",
        "immune",
    ];
    let body = (0..150)
        .map(|j| words[(i * 7 + j * 3 + j / 5) % words.len()])
        .collect::<Vec<_>>()
        .join(" ");
    format!("document {i}: {body}")
}

fn text_points(ids: std::ops::Range<usize>) -> Vec<Value> {
    ids.map(|i| json!({"id": i, "text": text(i), "payload": {"n": i}}))
        .collect()
}

async fn create(server: &Server, name: &str, dims: usize) {
    let (status, body) = server
        .put(
            &format!("/collections/{name}"),
            &json!({"vector": {"dims": dims, "metric": "cosine"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn count(server: &Server, name: &str) -> u64 {
    let (status, body) = server
        .post(&format!("/collections/{name}/points/count"), &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    body["count"].as_u64().expect("count")
}

/// Polls operation `id` until `done(op)` or `secs` pass.
async fn poll(server: &Server, id: &str, secs: u64, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (status, op) = server.get_json(&format!("/operations/{id}")).await;
        assert_eq!(status, 200, "{op}");
        if done(&op) {
            return op;
        }
        assert!(
            Instant::now() < deadline,
            "operation {id} still {op} after {secs} s:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn put_with_headers(
    server: &Server,
    path: &str,
    body: &Value,
) -> (u16, Value, Option<String>) {
    let response = server
        .http
        .put(server.url(path))
        .json(body)
        .send()
        .await
        .expect("PUT");
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, response.json().await.unwrap_or(Value::Null), retry)
}

#[tokio::test]
async fn a_text_upsert_past_the_timeout_says_how_many_points_it_wrote() {
    // Chunks of 8 texts, a 2 s budget: some chunks are written, not all.
    let server = Server::start(&["--request-timeout-secs", "2", "--max-inputs", "8"]).await;
    create(&server, "docs", 384).await;
    let total = 600;
    let (status, body, retry) = put_with_headers(
        &server,
        "/collections/docs/points",
        &json!({"points": text_points(0..total)}),
    )
    .await;
    let message = assert_error(status, &body, 503, "timeout");
    assert_eq!(retry.as_deref(), Some("1"), "a 503 carries Retry-After");
    let details = &body["error"]["details"];
    let written = details["written"].as_u64().expect("written");
    let in_flight = details["in_flight"].as_u64().expect("in_flight");
    assert_eq!(details["points"], total);
    assert!(
        written > 0 && written < total as u64,
        "{written} of {total} written: {message}"
    );
    assert!(written.is_multiple_of(8), "whole chunks: {written}");
    assert!(
        in_flight <= 8,
        "at most the chunk being written: {in_flight}"
    );
    for hint in ["?wait=false", "--request-timeout-secs", "smaller batches"] {
        assert!(message.contains(hint), "{message}");
    }
    // The first `written` points, perhaps the chunk that was being written,
    // and nothing after it, even later.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stored = count(&server, "docs").await;
    assert!(
        stored == written || stored == written + in_flight,
        "{stored} stored, {written} written, {in_flight} in flight"
    );
    let (status, body) = server
        .get_json(&format!("/collections/docs/points/{}", written - 1))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .get_json(&format!("/collections/docs/points/{stored}"))
        .await;
    assert_error(status, &body, 404, "point_not_found");
}

#[tokio::test]
async fn a_queued_upsert_is_written_in_the_background_and_reported() {
    let server = Server::start(&["--max-inputs", "16", "--max-queued-operations", "1"]).await;
    create(&server, "docs", 384).await;
    let (status, op) = server
        .put(
            "/collections/docs/points?wait=false",
            &json!({"points": text_points(0..200)}),
        )
        .await;
    assert_eq!(status, 202, "{op}");
    assert_eq!(op["points"], 200);
    assert_eq!(op["collection"], "docs");
    let id = op["id"].as_str().expect("id").to_string();
    // The queue holds one write: a second is refused while the first runs.
    let (status, body, retry) = put_with_headers(
        &server,
        "/collections/docs/points?wait=false",
        &json!({"points": text_points(1000..1001)}),
    )
    .await;
    assert_error(status, &body, 429, "queue_full");
    assert_eq!(retry.as_deref(), Some("1"));
    let done = poll(&server, &id, 300, |op| op["status"] == "done").await;
    assert_eq!(done["written"], 200, "{done}");
    assert!(done["finished"].is_string(), "{done}");
    assert_eq!(count(&server, "docs").await, 200);
    let (status, body) = server
        .post(
            "/collections/docs/search",
            &json!({"text": text(17), "limit": 1}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hits"][0]["id"], 17, "{body}");

    // Bad input is refused up front; nothing is queued.
    let bad = json!({"points": [
        {"id": 1, "text": "fine"},
        {"id": 2, "vector": [1.0, 2.0]},
    ]});
    let (status, body) = server
        .put("/collections/docs/points?wait=false", &bad)
        .await;
    let message = assert_error(status, &body, 422, "dimension_mismatch");
    assert!(message.contains("points[1].vector"), "{message}");
    let (status, body) = server
        .put(
            "/collections/docs/points?wait=maybe",
            &json!({"points": []}),
        )
        .await;
    let message = assert_error(status, &body, 422, "invalid_value");
    assert!(message.contains("wait"), "{message}");
    let (status, body) = server.get_json("/operations/no-such-operation").await;
    assert_error(status, &body, 404, "operation_not_found");

    // Text into a collection whose dimension is not the model's.
    create(&server, "small", 8).await;
    let (status, body) = server
        .put(
            "/collections/small/points",
            &json!({"points": [{"id": 1, "text": "a man eats"}]}),
        )
        .await;
    let message = assert_error(status, &body, 422, "invalid_value");
    assert!(
        message.contains("points[0].text")
            && message.contains("384")
            && message.contains("dims 384"),
        "{message}"
    );
    // Queued or not: refused before anything is accepted.
    let (status, body) = server
        .put(
            "/collections/small/points?wait=false",
            &json!({"points": [{"id": 1, "text": "a man eats"}]}),
        )
        .await;
    assert_error(status, &body, 422, "invalid_value");
}

#[tokio::test]
async fn a_queued_upsert_resumes_after_kill_9() {
    let mut server = Server::start(&["--max-inputs", "8"]).await;
    create(&server, "docs", 384).await;
    let total = 240;
    let (status, op) = server
        .put(
            "/collections/docs/points?wait=false",
            &json!({"points": text_points(0..total)}),
        )
        .await;
    assert_eq!(status, 202, "{op}");
    let id = op["id"].as_str().expect("id").to_string();
    let part = poll(&server, &id, 120, |op| {
        op["written"].as_u64().unwrap_or(0) >= 16
    })
    .await;
    assert_ne!(part["status"], "done", "finished before the kill: {part}");
    server.kill9();
    let data = server.data.clone();
    drop(server);
    let server = Server::start_on(data, &["--max-inputs", "8"]).await;
    let done = poll(&server, &id, 300, |op| op["status"] == "done").await;
    assert_eq!(done["written"], total, "{done}");
    assert_eq!(count(&server, "docs").await, total as u64);
    assert!(
        server.log().contains("queued writes resume"),
        "{}",
        server.log()
    );
}
