//! Before a run: create the collection and seed it when asked, and read its dimension.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::workload::{point_payload, point_text};

/// Points per seeding request.
const SEED_BATCH: usize = 64;
/// How long to wait for the graph to take every seeded point.
const INDEX_WAIT: Duration = Duration::from_secs(120);

/// Sends one JSON request; returns the status and the parsed answer (null
/// when the body is not JSON).
pub(crate) async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<&Value>,
) -> Result<(u16, Value)> {
    let mut request = client.request(method.clone(), url);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("{method} {url}"))?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// The collection's description, or `None` when it does not exist.
pub async fn collection_info(
    client: &reqwest::Client,
    base_url: &str,
    collection: &str,
) -> Result<Option<Value>> {
    let url = format!("{base_url}/collections/{collection}");
    match call(client, reqwest::Method::GET, &url, None).await? {
        (200, info) => Ok(Some(info)),
        (404, _) => Ok(None),
        (status, body) => bail!("GET {url}: {status}: {body}"),
    }
}

/// The dimension of an existing collection's vectors.
pub async fn collection_dims(
    client: &reqwest::Client,
    base_url: &str,
    collection: &str,
) -> Result<usize> {
    let info = collection_info(client, base_url, collection)
        .await?
        .with_context(|| format!("no collection {collection:?} (pass --setup to create it)"))?;
    info["vector"]["dims"]
        .as_u64()
        .map(|d| d as usize)
        .with_context(|| format!("collection {collection:?} reports no vector dimension"))
}

/// Creates `collection` unless it exists: the default encoder's dimension,
/// cosine, `layout`, with `tag` (keyword) and `n` (integer) indexed; then
/// upserts `points` texts (ids `0..points`) and waits until the graph holds
/// them all. Returns whether it created the collection.
pub async fn ensure_collection(
    client: &reqwest::Client,
    base_url: &str,
    collection: &str,
    layout: &str,
    points: usize,
    quiet: bool,
) -> Result<bool> {
    if let Some(info) = collection_info(client, base_url, collection).await? {
        if !quiet {
            eprintln!(
                "load: collection {collection:?} exists ({} points, {} dims); not seeding",
                info["points"], info["vector"]["dims"]
            );
        }
        return Ok(false);
    }
    let url = format!("{base_url}/collections/{collection}");
    let body = json!({
        "vector": {"metric": "cosine", "layout": layout},
        "payload_indexes": {"tag": "keyword", "n": "integer"},
    });
    let (status, answer) = call(client, reqwest::Method::PUT, &url, Some(&body)).await?;
    if !(200..300).contains(&status) {
        bail!("PUT {url}: {status}: {answer}");
    }
    let started = Instant::now();
    let ids: Vec<u64> = (0..points as u64).collect();
    for chunk in ids.chunks(SEED_BATCH) {
        let batch: Vec<Value> = chunk
            .iter()
            .map(|&id| json!({"id": id, "text": point_text(id), "payload": point_payload(id)}))
            .collect();
        let points_url = format!("{url}/points");
        let (status, answer) = call(
            client,
            reqwest::Method::PUT,
            &points_url,
            Some(&json!({ "points": batch })),
        )
        .await?;
        if !(200..300).contains(&status) {
            bail!("PUT {points_url}: {status}: {answer}");
        }
    }
    // Let the graph take every point, so that the run searches the graph
    // rather than an exact scan of a not-yet-indexed tail.
    loop {
        let info = collection_info(client, base_url, collection)
            .await?
            .with_context(|| format!("collection {collection:?} vanished while seeding"))?;
        if info["indexed_points"] == info["points"] {
            break;
        }
        if started.elapsed() > INDEX_WAIT {
            eprintln!(
                "load: the graph has not taken every seeded point after {INDEX_WAIT:?}; starting anyway"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if !quiet {
        eprintln!(
            "load: created collection {collection:?} ({layout}) and seeded {points} points in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(true)
}
