//! Records into batches (on a reader thread) and batches to the server.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

use super::ImportArgs;
use super::mapping::Mapping;
use super::read::Record;

/// Points of a run of records, and how many records they came from.
pub(super) struct Batch {
    /// Its first and last records' numbers (lines for JSON Lines).
    pub(super) first: u64,
    pub(super) last: u64,
    /// Where its last record ends in the file (see [`Record::end`]).
    pub(super) end: u64,
    pub(super) records: u64,
    pub(super) skipped: u64,
    pub(super) points: Vec<Value>,
    /// Each point's record number, for messages.
    pub(super) numbers: Vec<u64>,
}

pub(super) fn read_batches(
    records: Box<dyn Iterator<Item = Result<Record>> + Send>,
    skip: u64,
    size: usize,
    mapping: &Mapping,
    tx: &tokio::sync::mpsc::Sender<Result<Batch>>,
) {
    let mut batch = Batch::empty();
    for (n, record) in records.enumerate() {
        if (n as u64) < skip {
            continue;
        }
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let _ = tx.blocking_send(Err(error));
                return;
            }
        };
        if batch.records == 0 {
            batch.first = record.number;
        }
        batch.records += 1;
        batch.last = record.number;
        batch.end = record.end;
        match mapping.point(&record) {
            Ok(Some(point)) => {
                batch.points.push(point);
                batch.numbers.push(record.number);
            }
            Ok(None) => batch.skipped += 1,
            Err(reason) => {
                let _ =
                    tx.blocking_send(Err(anyhow::anyhow!("record {}: {reason}", record.number)));
                return;
            }
        }
        if batch.points.len() == size
            && tx
                .blocking_send(Ok(std::mem::replace(&mut batch, Batch::empty())))
                .is_err()
        {
            return;
        }
    }
    if batch.records > 0 {
        let _ = tx.blocking_send(Ok(batch));
    }
}

impl Batch {
    pub(super) fn empty() -> Self {
        Self {
            first: 0,
            last: 0,
            end: 0,
            records: 0,
            skipped: 0,
            points: Vec::new(),
            numbers: Vec::new(),
        }
    }
}

/// Attempts of one batch before the import stops.
const ATTEMPTS: u64 = 12;

/// Sends one batch, retrying a busy, restarting or unreachable server (429,
/// 502, 503 `overloaded` / `not_ready`, 504, transport errors: the upsert is
/// idempotent by id); the retries made.
pub(super) async fn upsert(
    client: &reqwest::Client,
    collection_url: &str,
    batch: &Batch,
) -> Result<u64> {
    if batch.points.is_empty() {
        return Ok(0);
    }
    let body = json!({ "points": batch.points });
    let mut retries = 0;
    let mut wait = Duration::from_millis(250);
    loop {
        let sent = client
            .put(format!("{collection_url}/points?wait=true"))
            .json(&body)
            .send()
            .await;
        let (retry_after, last) = match sent {
            Ok(response) if response.status().is_success() => return Ok(retries),
            Ok(response) => {
                let status = response.status().as_u16();
                let after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .map(Duration::from_secs);
                let answer: Value = response.json().await.unwrap_or(Value::Null);
                let code = answer["error"]["code"].as_str().unwrap_or("");
                let passing = match status {
                    429 | 502 | 504 => true,
                    503 => matches!(code, "overloaded" | "not_ready"),
                    _ => false,
                };
                if !passing {
                    let mut message = refusal(status, &answer, batch);
                    if code == "timeout" {
                        message
                            .push_str(" (a smaller --batch fits in the server's request timeout)");
                    }
                    bail!("{message}");
                }
                (after, refusal(status, &answer, batch))
            }
            Err(error) if error.is_builder() => {
                return Err(error).context("the upsert request could not be built");
            }
            // Refused, reset or timed-out connections: a restarting server.
            Err(error) => (None, format!("{error:#}")),
        };
        retries += 1;
        ensure!(
            retries < ATTEMPTS,
            "records {}..{}: the server stayed busy or unreachable through {ATTEMPTS} attempts; the last: {last}",
            batch.first,
            batch.last
        );
        tokio::time::sleep(retry_after.unwrap_or(wait)).await;
        wait = (wait * 2).min(Duration::from_secs(10));
    }
}

/// A refused batch's message, naming the record a point error points at.
pub(super) fn refusal(status: u16, answer: &Value, batch: &Batch) -> String {
    let message = answer["error"]["message"]
        .as_str()
        .map_or_else(|| answer.to_string(), str::to_string);
    let code = answer["error"]["code"].as_str().unwrap_or("error");
    // Field paths such as `points[3].vector` name a point of the batch.
    let record = message
        .split("points[")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| batch.numbers.get(i));
    match record {
        Some(number) => {
            format!("record {number}: the server refused it ({status} {code}): {message}")
        }
        None => format!(
            "records {}..{}: the server refused the batch ({status} {code}): {message}",
            batch.first, batch.last
        ),
    }
}

pub(super) async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<&Value>,
) -> Result<Value> {
    let (status, answer) = crate::load::setup::call(client, method.clone(), url, body).await?;
    if !(200..300).contains(&status) {
        let message = answer["error"]["message"]
            .as_str()
            .map_or_else(|| answer.to_string(), str::to_string);
        bail!("{method} {url}: {status}: {message}");
    }
    Ok(answer)
}

/// Checks that the collection exists (or creates it with `--create`); the
/// payload field its full-text index reads, if it has one.
pub(super) async fn prepare_collection(
    client: &reqwest::Client,
    collection_url: &str,
    args: &ImportArgs,
    mapping: &Mapping,
    first: Option<&Record>,
) -> Result<Option<String>> {
    let base_url = args.url.trim_end_matches('/');
    let text_field = |info: &Value| info["text"]["field"].as_str().map(str::to_string);
    if let Some(info) =
        crate::load::setup::collection_info(client, base_url, &args.collection).await?
    {
        return Ok(text_field(&info));
    }
    ensure!(
        args.create,
        "collection {:?} does not exist at {}; create it first or pass --create",
        args.collection,
        args.url
    );
    let body = if mapping.text.is_empty() {
        let dims = first
            .and_then(|r| mapping.vector.as_ref().and_then(|c| r.fields.get(c)))
            .and_then(Value::as_array)
            .map(Vec::len)
            .context("--create: the first record holds no vector to take the dimension from")?;
        json!({"vector": {"dims": dims, "metric": "cosine"}})
    } else {
        json!({"vector": {"metric": "cosine"}, "text": {}})
    };
    call(client, reqwest::Method::PUT, collection_url, Some(&body)).await?;
    eprintln!("import: created collection {:?}: {body}", args.collection);
    let info = call(client, reqwest::Method::GET, collection_url, None).await?;
    Ok(text_field(&info))
}
