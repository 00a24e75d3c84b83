//! Point ids over HTTP: integers, UUIDs and any other string of up to 256
//! bytes, each kept and returned as given, through upsert, get, search,
//! scroll, delete, filters and a restart.

use serde_json::{Value, json};

use crate::support::{Server, assert_error};

const DIMS: usize = 4;

fn vector(i: usize) -> Vec<f32> {
    (0..DIMS)
        .map(|j| ((i * 7 + j * 3) % 11) as f32 - 5.0)
        .collect()
}

/// `/`, `#`, `?`, `%` and spaces in a path segment, percent-encoded.
fn encode(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn string_ids_are_kept_and_returned_as_given() {
    let server = Server::start(&[]).await;
    let (status, _) = server
        .put(
            "/collections/docs",
            &json!({"vector": {"dims": DIMS, "metric": "dot"}}),
        )
        .await;
    assert_eq!(status, 200);
    let long = "x".repeat(256);
    let ids: Vec<Value> = vec![
        json!("doc-17#chunk-3"),
        json!("foo"),
        json!("17"),
        json!(17),
        json!("a/b?c=d e%"),
        json!("ünïcödé"),
        json!(long),
        json!("550E8400-E29B-41D4-A716-446655440000"),
    ];
    let points: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| json!({"id": id, "vector": vector(i), "payload": {"i": i}}))
        .collect();
    let (status, body) = server
        .put("/collections/docs/points", &json!({ "points": points }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["upserted"], 8);

    check(&server).await;

    // Refused: empty, too long.
    for (id, what) in [(json!(""), "empty"), (json!("y".repeat(257)), "257 bytes")] {
        let (status, body) = server
            .put(
                "/collections/docs/points",
                &json!({"points": [{"id": id, "vector": vector(0)}]}),
            )
            .await;
        let message = assert_error(status, &body, 422, "invalid_value");
        assert!(message.contains("id"), "{what}: {message}");
    }
    // Delete by string id.
    let (status, body) = server
        .post("/collections/docs/points/delete", &json!({"ids": ["foo"]}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["deleted"], 1);
    let (status, body) = server.get_json("/collections/docs/points/foo").await;
    assert_error(status, &body, 404, "point_not_found");
    let (status, _) = server
        .put(
            "/collections/docs/points",
            &json!({"points": [{"id": "foo", "vector": vector(1), "payload": {"i": 1}}]}),
        )
        .await;
    assert_eq!(status, 200);

    // Sealed, then after a restart.
    let (status, body) = server.post("/collections/docs/snapshots", &json!({})).await;
    assert_eq!(status, 200, "{body}");
    let data = server.data.clone();
    drop(server);
    let server = Server::start_on(data, &[]).await;
    check(&server).await;
}

/// What must hold before and after the restart.
async fn check(server: &Server) {
    // By path: digits are the integer id; the string "17" is another point.
    let (status, body) = server.get_json("/collections/docs/points/17").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], json!(17));
    assert_eq!(body["payload"]["i"], 3);
    for (i, id) in [(0, "doc-17#chunk-3"), (4, "a/b?c=d e%"), (5, "ünïcödé")] {
        let path = format!("/collections/docs/points/{}", encode(id));
        let (status, body) = server.get_json(&path).await;
        assert_eq!(status, 200, "{id}: {body}");
        assert_eq!(body["id"], json!(id));
        assert_eq!(body["payload"]["i"], i);
    }
    // A UUID in any form is one point, returned in its canonical form.
    let (status, body) = server
        .get_json("/collections/docs/points/550e8400e29b41d4a716446655440000")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], "550e8400-e29b-41d4-a716-446655440000");
    // Search answers the id as given.
    let (status, body) = server
        .post(
            "/collections/docs/search",
            &json!({"vector": vector(2), "limit": 8, "params": {"exact": true}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let found: Vec<Value> = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].clone())
        .collect();
    assert!(
        found.contains(&json!("17")) && found.contains(&json!(17)),
        "{found:?}"
    );
    // A scroll in pages of 3 returns each once: integers, UUIDs, then strings.
    let mut seen = Vec::new();
    let mut body = json!({"limit": 3, "with_payload": false});
    loop {
        let (status, page) = server.post("/collections/docs/points/scroll", &body).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].clone()),
        );
        match &page["next"] {
            Value::String(next) => body["cursor"] = json!(next),
            _ => break,
        }
    }
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert_eq!(seen[0], json!(17));
    assert_eq!(seen[1], json!("550e8400-e29b-41d4-a716-446655440000"));
    let strings: Vec<&str> = seen[2..].iter().map(|v| v.as_str().unwrap()).collect();
    let sorted = {
        let mut s = strings.clone();
        s.sort_unstable();
        s
    };
    assert_eq!(strings, sorted);
    // has_id takes string ids too.
    let (status, body) = server
        .post(
            "/collections/docs/points/count",
            &json!({"filter": {"must": [{"has_id": ["foo", "17", 17, "nope"]}]}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 3);
}
