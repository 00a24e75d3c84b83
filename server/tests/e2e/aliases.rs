//! Aliases over HTTP: every route through an alias, an atomic switch under
//! a stream of searches, durability across kill -9, conflicts, and a damaged
//! aliases file.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::support::{Server, assert_error};

const DIMS: usize = 4;

async fn collection_with(server: &Server, name: &str, marker: &str) {
    let (status, body) = server
        .put(
            &format!("/collections/{name}"),
            &json!({"vector": {"dims": DIMS, "metric": "dot"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let points: Vec<Value> = (1..=5u64)
        .map(|id| json!({"id": id, "vector": [id as f32, 1.0, 0.0, 0.0], "payload": {"from": marker}}))
        .collect();
    let (status, body) = server
        .put(
            &format!("/collections/{name}/points"),
            &json!({ "points": points }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn aliases(server: &Server, actions: Value) -> (u16, Value) {
    server
        .post("/aliases", &json!({ "actions": actions }))
        .await
}

async fn search_from(server: &Server, name: &str) -> (u16, Value) {
    let (status, body) = server
        .post(
            &format!("/collections/{name}/search"),
            &json!({"vector": [1.0, 0.0, 0.0, 0.0], "limit": 1}),
        )
        .await;
    (status, body["hits"][0]["payload"]["from"].clone())
}

#[tokio::test]
async fn aliases_route_switch_atomically_and_survive_a_kill() {
    let mut server = Server::start(&[]).await;
    collection_with(&server, "docs_v1", "v1").await;
    collection_with(&server, "docs_v2", "v2").await;

    let (status, body) = aliases(
        &server,
        json!([{"create": {"alias": "docs", "collection": "docs_v1"}}]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"aliases": [{"alias": "docs", "collection": "docs_v1"}]})
    );

    // Every kind of route through the alias.
    assert_eq!(search_from(&server, "docs").await, (200, json!("v1")));
    let (status, _) = server
        .put(
            "/collections/docs/points",
            &json!({"points": [{"id": 9, "vector": [0.0, 0.0, 1.0, 0.0], "payload": {"from": "v1"}}]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = server.get_json("/collections/docs").await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["name"].clone(), body["points"].clone()),
        (json!("docs_v1"), json!(6))
    );
    let (_, body) = server.get_json("/collections/docs/points/9").await;
    assert_eq!(body["payload"]["from"], "v1");
    let (_, body) = server
        .post("/collections/docs/points/count", &json!({}))
        .await;
    assert_eq!(body["count"], 6);

    // Switch under a stream of searches: every one answers, from v1 then v2.
    let stop = Arc::new(AtomicBool::new(false));
    let url = server.url("/collections/docs/search");
    let searcher = tokio::spawn({
        let stop = Arc::clone(&stop);
        async move {
            let client = reqwest::Client::new();
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let response = client
                    .post(&url)
                    .json(&json!({"vector": [1.0, 0.0, 0.0, 0.0], "limit": 1}))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap();
                assert_eq!(status, 200, "a search through the alias failed: {body}");
                let from = body["hits"][0]["payload"]["from"]
                    .as_str()
                    .unwrap()
                    .to_string();
                if seen.last() != Some(&from) {
                    seen.push(from);
                }
            }
            seen
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (status, body) = aliases(
        &server,
        json!([{"delete": {"alias": "docs"}}, {"create": {"alias": "docs", "collection": "docs_v2"}}]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    assert_eq!(searcher.await.unwrap(), vec!["v1", "v2"]);

    // Refusals change nothing.
    for (actions, status, code) in [
        (
            json!([{"create": {"alias": "docs", "collection": "docs_v1"}}]),
            409,
            "name_taken",
        ),
        (
            json!([{"create": {"alias": "docs_v1", "collection": "docs_v2"}}]),
            409,
            "name_taken",
        ),
        (
            json!([{"create": {"alias": "other", "collection": "nope"}}]),
            404,
            "collection_not_found",
        ),
        // An alias names a collection, never another alias: no chains, so
        // no cycles.
        (
            json!([{"create": {"alias": "other", "collection": "docs"}}]),
            404,
            "collection_not_found",
        ),
        (
            json!([{"delete": {"alias": "docs"}}, {"create": {"alias": "a", "collection": "b"}}, {"create": {"alias": "b", "collection": "a"}}]),
            404,
            "collection_not_found",
        ),
        (
            json!([{"create": {"alias": "fine", "collection": "docs_v1"}}, {"delete": {"alias": "nope"}}]),
            404,
            "alias_not_found",
        ),
        (
            json!([{"create": {"alias": "../x", "collection": "docs_v1"}}]),
            422,
            "invalid_value",
        ),
    ] {
        let (got, body) = aliases(&server, actions.clone()).await;
        assert_error(got, &body, status, code);
    }
    let (_, body) = server.get_json("/aliases").await;
    assert_eq!(
        body,
        json!({"aliases": [{"alias": "docs", "collection": "docs_v2"}]})
    );
    let (status, body) = server
        .put("/collections/docs", &json!({"vector": {"dims": DIMS}}))
        .await;
    assert_error(status, &body, 409, "name_taken");
    let (status, body) = server.delete_path("/collections/docs").await;
    let message = assert_error(status, &body, 422, "invalid_value");
    assert!(message.contains("alias"), "{message}");

    // Durable: the alias is there after kill -9.
    let data = Arc::clone(&server.data);
    server.kill9();
    drop(server);
    let mut server = Server::start_on(Arc::clone(&data), &[]).await;
    assert_eq!(search_from(&server, "docs").await, (200, json!("v2")));

    // Deleting a collection deletes its aliases.
    let (status, _) = server.delete_path("/collections/docs_v2").await;
    assert_eq!(status, 200);
    let (_, body) = server.get_json("/aliases").await;
    assert_eq!(body, json!({"aliases": []}));
    let (status, body) = server
        .post(
            "/collections/docs/search",
            &json!({"vector": [1.0, 0.0, 0.0, 0.0]}),
        )
        .await;
    assert_error(status, &body, 404, "collection_not_found");

    // A damaged aliases file: the server starts, collections serve by name,
    // the aliases are gone (the log says so and the file is kept aside).
    let (status, _) = aliases(
        &server,
        json!([{"create": {"alias": "docs", "collection": "docs_v1"}}]),
    )
    .await;
    assert_eq!(status, 200);
    server.kill9();
    drop(server);
    let file = data.0.join("aliases");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[2] ^= 0x20;
    std::fs::write(&file, &bytes).unwrap();
    let server = Server::start_on(Arc::clone(&data), &[]).await;
    assert_eq!(search_from(&server, "docs_v1").await, (200, json!("v1")));
    let (_, body) = server.get_json("/aliases").await;
    assert_eq!(body, json!({"aliases": []}));
    assert!(server.log().contains("the aliases file is damaged"));
    assert!(data.0.join("aliases.damaged").exists());
}
