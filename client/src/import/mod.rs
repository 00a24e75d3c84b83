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

mod mapping;
mod progress;
mod read;
mod send;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, UNIX_EPOCH};

use anyhow::{Result, bail, ensure};
use clap::Args;
use futures::StreamExt;
use serde::Serialize;

pub use read::{Format, Record, cell_value};

use mapping::Mapping;
use progress::{Bar, Progress};
use send::{Batch, call, prepare_collection, read_batches, upsert};

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
