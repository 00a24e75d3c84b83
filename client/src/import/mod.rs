//! `trawl import`: a file of documents into a collection, over the HTTP API.
//!
//! Reads JSON Lines, CSV/TSV (optionally gzipped) or Parquet; each record
//! becomes a point: an id column (`--id`; `id` or `_id` when present,
//! otherwise the record's number), text columns joined by a space for the
//! server to embed (`--text`), or a vector column (`--vector`), and the other
//! columns as the payload. Points go in batches (`--batch`), a few requests
//! in flight (`--parallel`), each acknowledged once durable (`wait=true`).
//!
//! An import is resumable: after each batch the server acknowledged (in file
//! order) the count of records done is written to a progress file; a rerun
//! of the same command skips them (upserts by id are idempotent, so a batch
//! sent twice changes nothing). The file goes when the import finishes.
//! Busy or restarting servers (429, 503, refused connections) are retried
//! with backoff; a refused batch (4xx) stops the import, naming the record.

mod read;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub use read::{Format, Record, cell_value};

/// Arguments of `trawl import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The file: JSON Lines (`.jsonl`), CSV (`.csv`), TSV (`.tsv`), each
    /// optionally gzipped (`.gz`), or Parquet (`.parquet`).
    pub file: PathBuf,
    /// The collection to write to.
    #[arg(long, short = 'c')]
    pub collection: String,
    /// The server.
    #[arg(long, env = "TRAWL_URL", default_value = "http://127.0.0.1:6390")]
    pub url: String,
    /// The server's full API key, if it has one.
    #[arg(long, env = "TRAWL_API_KEY", hide_env_values = true)]
    pub api_key: Option<crate::ApiKey>,
    /// The file's format, when its name does not say.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// The id column (an unsigned integer, a UUID or a string of 1 to 256
    /// bytes). Default: `id`, else `_id`, when the first record has one;
    /// otherwise each record's number in the file.
    #[arg(long)]
    pub id: Option<String>,
    /// Text columns, comma-separated: joined by a space, embedded by the
    /// server's model. Default: `title,text` when the first record has a
    /// `text` column, unless `--vector` is given.
    #[arg(long, value_delimiter = ',')]
    pub text: Vec<String>,
    /// A vector column (an array of numbers; in CSV a JSON array).
    #[arg(long)]
    pub vector: Option<String>,
    /// Payload columns, comma-separated. Default: every column that is not
    /// the id, a text column or the vector.
    #[arg(long, value_delimiter = ',')]
    pub payload: Option<Vec<String>>,
    /// Points per upsert request.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Upsert requests in flight at once.
    #[arg(long, default_value_t = 2)]
    pub parallel: usize,
    /// Create the collection when it does not exist: a cosine vector of the
    /// server's model for text (with a full-text index of the joined text,
    /// for lexical and hybrid queries), or of the first vector's length.
    #[arg(long)]
    pub create: bool,
    /// Where progress is kept between runs. Default: a file in the current
    /// directory's `.trawl-import/`, named after the collection and the file.
    #[arg(long)]
    pub progress_file: Option<PathBuf>,
    /// Start from the first record even when a progress file says otherwise.
    #[arg(long)]
    pub restart: bool,
    /// No progress bar (a line every 10 seconds instead, as when standard
    /// error is not a terminal).
    #[arg(long)]
    pub quiet: bool,
}

/// How records become points, settled from the arguments and the first record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Mapping {
    id: Option<String>,
    text: Vec<String>,
    vector: Option<String>,
    payload: Option<Vec<String>>,
    /// The collection's full-text field, which holds the joined text: a
    /// column of that name is left out of the default payload.
    text_field: Option<String>,
}

impl Mapping {
    fn settle(
        args: &ImportArgs,
        first: Option<&Record>,
        text_field: Option<String>,
    ) -> Result<Self> {
        let has = |column: &str| first.is_some_and(|r| r.fields.contains_key(column));
        let id = match &args.id {
            Some(column) => Some(column.clone()),
            None => ["id", "_id"]
                .into_iter()
                .find(|c| has(c))
                .map(str::to_string),
        };
        let text = if !args.text.is_empty() {
            args.text.clone()
        } else if args.vector.is_none() && has("text") {
            ["title", "text"]
                .into_iter()
                .filter(|c| has(c) || *c == "text")
                .map(str::to_string)
                .collect()
        } else {
            Vec::new()
        };
        ensure!(
            args.text.is_empty() || args.vector.is_none(),
            "give --text or --vector, not both: a point is embedded from its text by the server \
             or carries its vector (name a text column in --payload to keep it, and to index it \
             for lexical queries in a collection with a full-text index)"
        );
        ensure!(
            !text.is_empty() || args.vector.is_some(),
            "say which column(s) hold the text (--text) or the vector (--vector): the first record has no `text` column"
        );
        Ok(Self {
            id,
            text_field: text_field.filter(|_| !text.is_empty()),
            text,
            vector: args.vector.clone(),
            payload: args.payload.clone(),
        })
    }

    /// The point for `record`, or why it has none.
    fn point(&self, record: &Record) -> Result<Option<Value>, String> {
        let fields = &record.fields;
        let id = match &self.id {
            Some(column) => match fields.get(column) {
                Some(Value::Number(n)) if n.is_u64() => Value::Number(n.clone()),
                Some(Value::String(s)) if !s.is_empty() => Value::String(s.clone()),
                Some(other) => {
                    return Err(format!(
                        "the id column {column:?} holds {}, not an unsigned integer or a string",
                        read::kind(other)
                    ));
                }
                None => return Err(format!("no id column {column:?}")),
            },
            None => Value::from(record.number),
        };
        let mut point = Map::new();
        point.insert("id".into(), id);
        if !self.text.is_empty() {
            let text = self
                .text
                .iter()
                .filter_map(|c| match fields.get(c) {
                    Some(Value::String(s)) => Some(s.clone()),
                    // A CSV cell such as `true` or `12` was typed on reading.
                    Some(value @ (Value::Number(_) | Value::Bool(_))) => Some(value.to_string()),
                    // Paragraphs as a list of strings.
                    Some(Value::Array(parts)) => Some(
                        parts
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(" ");
            let text = text.trim();
            if text.is_empty() && self.vector.is_none() {
                return Ok(None);
            }
            if !text.is_empty() {
                point.insert("text".into(), Value::from(text));
            }
        }
        if let Some(column) = &self.vector {
            match fields.get(column) {
                Some(Value::Array(v)) if v.iter().all(Value::is_number) && !v.is_empty() => {
                    point.insert("vector".into(), Value::Array(v.clone()));
                }
                Some(other) => {
                    return Err(format!(
                        "the vector column {column:?} holds {}, not an array of numbers",
                        read::kind(other)
                    ));
                }
                None => return Ok(None),
            }
        }
        let payload: Map<String, Value> = match &self.payload {
            Some(columns) => columns
                .iter()
                .filter_map(|c| fields.get(c).map(|v| (c.clone(), v.clone())))
                .collect(),
            None => fields
                .iter()
                .filter(|(k, _)| {
                    Some(*k) != self.id.as_ref()
                        && !self.text.contains(k)
                        && Some(*k) != self.vector.as_ref()
                        && Some(*k) != self.text_field.as_ref()
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        if !payload.is_empty() {
            point.insert("payload".into(), Value::Object(payload));
        }
        Ok(Some(Value::Object(point)))
    }
}

/// What the progress file keeps between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Progress {
    /// The file, as given and absolute.
    file: PathBuf,
    /// Its size and modification time (seconds), so an edited file is noticed.
    size: u64,
    modified: u64,
    collection: String,
    mapping: Mapping,
    /// Records read and acknowledged (written or skipped), from the start.
    records_done: u64,
    points_written: u64,
    skipped: u64,
}

impl Progress {
    fn load(path: &Path) -> Result<Option<Self>> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).with_context(|| {
                format!(
                    "{}: not a progress file (remove it, or pass --restart)",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Written beside itself, then renamed: a crash leaves the old or the new.
    fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Records read in this run.
    pub records: u64,
    /// Points the server acknowledged in this run.
    pub points: u64,
    /// Records without text or vector, not written.
    pub skipped: u64,
    /// Records a previous run had done.
    pub resumed_from: u64,
    /// Upsert requests.
    pub requests: u64,
    /// Requests retried after a busy or unreachable server.
    pub retries: u64,
    /// Seconds.
    pub seconds: f64,
    /// The collection's point count afterwards.
    pub collection_points: u64,
}

/// Runs an import and prints its summary.
pub async fn run(args: &ImportArgs) -> Result<Summary> {
    ensure!(args.batch > 0, "--batch must be at least 1");
    ensure!(args.parallel > 0, "--parallel must be at least 1");
    let format = match args.format.or_else(|| Format::of(&args.file)) {
        Some(format) => format,
        None => bail!(
            "{}: cannot tell the format from the name; pass --format jsonl, csv, tsv or parquet",
            args.file.display()
        ),
    };
    let client = crate::http_client(args.api_key.as_ref())?
        .timeout(Duration::from_secs(600))
        .build()?;
    let url = args.url.trim_end_matches('/').to_string();
    let collection_url = format!("{url}/collections/{}", args.collection);

    // The first record settles the mapping.
    let mut probe = read::open(&args.file, format)?;
    let first = probe.iter.next().transpose()?;
    drop(probe);
    let mut mapping = Mapping::settle(args, first.as_ref(), None)?;
    // The collection (created here with `--create`) says which payload field
    // its full-text index reads, where the server stores the joined text.
    mapping.text_field =
        prepare_collection(&client, &collection_url, args, &mapping, first.as_ref())
            .await?
            .filter(|_| !mapping.text.is_empty());

    let metadata = std::fs::metadata(&args.file)?;
    let modified = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let file = std::path::absolute(&args.file)?;
    let progress_path = args.progress_file.clone().unwrap_or_else(|| {
        let stem = file
            .file_name()
            .map_or_else(|| "input".into(), |n| n.to_string_lossy().into_owned());
        PathBuf::from(".trawl-import").join(format!("{}--{stem}.json", args.collection))
    });
    let fresh = Progress {
        file: file.clone(),
        size: metadata.len(),
        modified,
        collection: args.collection.clone(),
        mapping: mapping.clone(),
        records_done: 0,
        points_written: 0,
        skipped: 0,
    };
    let mut progress = match Progress::load(&progress_path)? {
        Some(old) if !args.restart => {
            let same = Progress {
                records_done: 0,
                points_written: 0,
                skipped: 0,
                ..old.clone()
            };
            if same != fresh {
                bail!(
                    "{} holds the progress of a different import (another file, a changed file, \
                     collection or columns); pass --restart to start this one from the first record, \
                     or --progress-file to keep both",
                    progress_path.display()
                );
            }
            eprintln!(
                "import: resuming after {} records ({} points written before; progress in {})",
                old.records_done,
                old.points_written,
                progress_path.display()
            );
            old
        }
        _ => fresh,
    };
    let resumed_from = progress.records_done;

    let records = read::open(&args.file, format)?;
    let bar = Bar::new(&records, args.quiet);
    let started = Instant::now();
    let mut summary = Summary {
        resumed_from,
        ..Summary::default()
    };

    // Batches are read on a thread of their own and sent in order; at most
    // `parallel` requests are in flight, and their answers are taken in order
    // so that the progress file only ever counts a prefix of the file.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Batch>>(args.parallel * 2);
    let skip = progress.records_done;
    let batch = args.batch;
    let reader_mapping = mapping.clone();
    let reader = std::thread::spawn(move || {
        read_batches(records.iter, skip, batch, &reader_mapping, &tx);
    });
    // Boxed so that dropping it (below) drops the receiver, which stops the
    // reader thread if the import ends early.
    let mut upserts = Box::pin(
        futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .map(|item| {
            let client = &client;
            let collection_url = &collection_url;
            async move {
                let batch = item?;
                let retries = upsert(client, collection_url, &batch).await?;
                Ok::<_, anyhow::Error>((batch, retries))
            }
        })
        .buffered(args.parallel),
    );
    let mut failure = None;
    while let Some(done) = upserts.next().await {
        match done {
            Ok((batch, retries)) => {
                summary.records += batch.records;
                summary.points += batch.points.len() as u64;
                summary.skipped += batch.skipped;
                summary.requests += u64::from(!batch.points.is_empty());
                summary.retries += retries;
                progress.records_done += batch.records;
                progress.points_written += batch.points.len() as u64;
                progress.skipped += batch.skipped;
                progress.save(&progress_path)?;
                bar.update(batch.end, progress.records_done, started);
            }
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    drop(upserts);
    let _ = reader.join();
    bar.finish();
    summary.seconds = started.elapsed().as_secs_f64();
    if let Some(error) = failure {
        return Err(error.context(format!(
            "import stopped after {} records ({} points written in all); progress is in {}: \
             run the same command again to resume",
            progress.records_done,
            progress.points_written,
            progress_path.display()
        )));
    }
    let info = call(&client, reqwest::Method::GET, &collection_url, None).await?;
    summary.collection_points = info["points"].as_u64().unwrap_or(0);
    let _ = std::fs::remove_file(&progress_path);
    if let Some(dir) = progress_path.parent()
        && args.progress_file.is_none()
    {
        let _ = std::fs::remove_dir(dir);
    }
    print_summary(args, &summary, &progress);
    Ok(summary)
}

/// Points of a run of records, and how many records they came from.
struct Batch {
    /// Its first and last records' numbers (lines for JSON Lines).
    first: u64,
    last: u64,
    /// Where its last record ends in the file (see [`Record::end`]).
    end: u64,
    records: u64,
    skipped: u64,
    points: Vec<Value>,
    /// Each point's record number, for messages.
    numbers: Vec<u64>,
}

fn read_batches(
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
    fn empty() -> Self {
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
async fn upsert(client: &reqwest::Client, collection_url: &str, batch: &Batch) -> Result<u64> {
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
fn refusal(status: u16, answer: &Value, batch: &Batch) -> String {
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

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<&Value>,
) -> Result<Value> {
    let mut request = client.request(method.clone(), url);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = answer["error"]["message"]
            .as_str()
            .map_or_else(|| answer.to_string(), str::to_string);
        bail!("{method} {url}: {status}: {message}");
    }
    Ok(answer)
}

/// Checks that the collection exists (or creates it with `--create`); the
/// payload field its full-text index reads, if it has one.
async fn prepare_collection(
    client: &reqwest::Client,
    collection_url: &str,
    args: &ImportArgs,
    mapping: &Mapping,
    first: Option<&Record>,
) -> Result<Option<String>> {
    let response = client
        .get(collection_url)
        .send()
        .await
        .with_context(|| format!("cannot reach {}", args.url))?;
    let text_field = |info: &Value| info["text"]["field"].as_str().map(str::to_string);
    match response.status().as_u16() {
        200 => {
            let info: Value = response.json().await.unwrap_or(Value::Null);
            Ok(text_field(&info))
        }
        404 if args.create => {
            let body = if mapping.text.is_empty() {
                let dims = first
                    .and_then(|r| mapping.vector.as_ref().and_then(|c| r.fields.get(c)))
                    .and_then(Value::as_array)
                    .map(Vec::len)
                    .context(
                        "--create: the first record holds no vector to take the dimension from",
                    )?;
                json!({"vector": {"dims": dims, "metric": "cosine"}})
            } else {
                json!({"vector": {"metric": "cosine"}, "text": {}})
            };
            call(client, reqwest::Method::PUT, collection_url, Some(&body)).await?;
            eprintln!("import: created collection {:?}: {body}", args.collection);
            let info = call(client, reqwest::Method::GET, collection_url, None).await?;
            Ok(text_field(&info))
        }
        404 => bail!(
            "collection {:?} does not exist at {}; create it first or pass --create",
            args.collection,
            args.url
        ),
        status => {
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            bail!(
                "GET {collection_url}: {status}: {}",
                answer["error"]["message"].as_str().unwrap_or("")
            )
        }
    }
}

/// The progress bar (on a terminal) or a line every 10 seconds (otherwise).
/// Its position is where the last record the server acknowledged ends.
struct Bar {
    bar: Option<indicatif::ProgressBar>,
    total: Option<u64>,
    counts_rows: bool,
    last_line: std::sync::Mutex<Instant>,
}

impl Bar {
    fn new(records: &read::Records, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let (bar, template) = match records.total {
                Some(total) => {
                    let unit = if records.counts_rows {
                        "{pos}/{len} rows"
                    } else {
                        "{bytes}/{total_bytes}"
                    };
                    (
                        indicatif::ProgressBar::new(total),
                        format!("import [{{bar:30}}] {unit} {{msg}} (eta {{eta}})"),
                    )
                }
                None => (
                    indicatif::ProgressBar::new_spinner(),
                    "import {spinner} {msg}".to_string(),
                ),
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            total: records.total,
            counts_rows: records.counts_rows,
            last_line: std::sync::Mutex::new(Instant::now()),
        }
    }

    fn update(&self, position: u64, records: u64, started: Instant) {
        let rate = records as f64 / started.elapsed().as_secs_f64().max(1e-9);
        if let Some(bar) = &self.bar {
            bar.set_position(position);
            bar.set_message(format!("{records} records, {rate:.0}/s"));
            return;
        }
        let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() < Duration::from_secs(10) {
            return;
        }
        *last = Instant::now();
        let unit = if self.counts_rows { "rows" } else { "bytes" };
        match self.total {
            Some(total) => eprintln!(
                "import: {:.0}% ({position} of {total} {unit}), {records} records, {rate:.0}/s",
                100.0 * position as f64 / total.max(1) as f64
            ),
            None => eprintln!("import: {records} records, {rate:.0}/s"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn print_summary(args: &ImportArgs, summary: &Summary, progress: &Progress) {
    let mut lines = BTreeMap::new();
    lines.insert("1 file", args.file.display().to_string());
    lines.insert(
        "2 collection",
        format!(
            "{} ({} points now)",
            args.collection, summary.collection_points
        ),
    );
    lines.insert(
        "3 this run",
        format!(
            "{} records read, {} points written, {} skipped (no text or vector), {} requests, {} retries, {:.1} s ({:.0} records/s)",
            summary.records,
            summary.points,
            summary.skipped,
            summary.requests,
            summary.retries,
            summary.seconds,
            summary.records as f64 / summary.seconds.max(1e-9)
        ),
    );
    if summary.resumed_from > 0 {
        lines.insert(
            "4 resumed",
            format!(
                "after record {} of an earlier run; {} points written in all",
                summary.resumed_from, progress.points_written
            ),
        );
    }
    println!("import done");
    for (key, value) in lines {
        println!("  {:<12} {value}", &key[2..]);
    }
}
