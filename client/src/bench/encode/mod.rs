//! `trawl-bench encode`: embedding throughput in-process and through HTTP.
//!
//! For each precision (`fp32`, `int8`) and each [`Workload`] (short queries,
//! long documents) it measures:
//!
//! - **in-process**: an [`trawl_encoders::Embedder`] in this process; after a
//!   few warm-up texts the whole workload is submitted at once with
//!   `embed_blocking`, so the batching queue sees every text and groups them by
//!   length under its token budget. Texts/s over the wall time, tokenisation
//!   included; per-text latency means nothing here, so those columns are `-`.
//! - **http**: a `trawl serve` started for this precision from the same target
//!   directory as this binary (or the server at `--server-url`), driven by a
//!   closed loop of `N` concurrent tasks each sending one text per
//!   `POST /embed` ([`http::closed_loop`]). Texts/s and per-request p50/p99.
//!
//! For each precision the in-process encoder and the server are loaded
//! together and take turns, one in-process pass and then one HTTP run per
//! concurrency in each repetition: the idle one's threads sleep, and a slow
//! spell of a shared machine falls on both paths alike, so their ratio holds
//! better than their absolute numbers. The fastest repetition of each row is
//! reported (all of them are in the JSON). The HTTP client runs on a single-threaded tokio
//! runtime to take as little CPU from the server as it can; on a small machine
//! it still shares the cores, and the HTTP numbers include that cost.
//!
//! Results go to stdout as a table and to `OUT/encode.json`.

mod http;
mod in_process;
mod table;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use clap::{Args, ValueEnum};
use serde::Serialize;
use trawl_encoders::Precision;

use crate::bench::data::{self, DEFAULT_DATA_DIR, Workload};
use crate::bench::model::ModelArgs;
use crate::bench::report::{self, MachineInfo};
use crate::bench::server::{self, ServerProcess};
use table::{Ratio, Row};

/// Arguments of `trawl-bench encode`.
#[derive(Debug, Clone, Args)]
pub struct EncodeArgs {
    /// BEIR directory with `queries.jsonl` and `corpus.jsonl`.
    #[arg(long, default_value = DEFAULT_DATA_DIR)]
    pub data: PathBuf,
    /// Workloads to run: `short` (every query) and/or `long` (the first 500 documents).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "short,long")]
    pub workloads: Vec<Workload>,
    /// Weights to measure, `fp32` and/or `int8`; the server restarts for each.
    #[arg(long, value_delimiter = ',', default_value = "fp32,int8")]
    pub precision: Vec<Precision>,
    /// Concurrent clients of the HTTP path, one run per value.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    pub concurrency: Vec<usize>,
    /// Paths to measure: `in-process` and/or `http`.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "in-process,http"
    )]
    pub paths: Vec<PathKind>,
    /// Model and encoder settings (used by both paths).
    #[command(flatten)]
    pub model: ModelArgs,
    /// Use this running server (e.g. `http://127.0.0.1:6390`) instead of starting one;
    /// it must run the single precision given with `--precision`.
    #[arg(long)]
    pub server_url: Option<String>,
    /// The `trawl` binary to start (default: the one next to this executable).
    #[arg(long)]
    pub trawl_bin: Option<PathBuf>,
    /// Seconds to wait for a started server's `/readyz`.
    #[arg(long, default_value_t = 300)]
    pub ready_timeout_secs: u64,
    /// Timed passes per row; the fastest is reported (all are kept in the JSON).
    /// More than one damps the noise of a shared machine.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Texts embedded untimed before each workload (per path).
    #[arg(long, default_value_t = 16)]
    pub warmup: usize,
    /// Directory for `encode.json` and the server logs.
    #[arg(long, default_value = "bench-out")]
    pub out: PathBuf,
}

/// How the texts reach the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PathKind {
    /// The encoder in this process.
    InProcess,
    /// `POST /embed` to a server.
    Http,
}

impl PathKind {
    /// The path's name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Self::InProcess => "in-process",
            Self::Http => "http",
        }
    }
}

/// The whole `encode.json`.
#[derive(Serialize)]
struct EncodeReport<'a> {
    benchmark: &'static str,
    machine: MachineInfo,
    data: PathBuf,
    rows: &'a [Row],
    ratios: &'a [Ratio],
}

/// Runs the benchmark, prints the table and writes `encode.json`.
pub fn run(args: &EncodeArgs) -> Result<()> {
    validate(args)?;
    let machine = MachineInfo::collect();
    let workloads = args
        .workloads
        .iter()
        .map(|&w| Ok((w, Arc::new(w.load(&args.data)?))))
        .collect::<Result<Vec<_>>>()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let client = http::client()?;
    let mut rows = Vec::new();
    for &precision in &args.precision {
        rows.extend(precision_rows(
            args, precision, &workloads, &runtime, &client,
        )?);
    }
    let ratios = table::ratios(&rows);
    println!();
    table::print(&rows, &ratios);
    let report = EncodeReport {
        benchmark: "encode",
        machine,
        data: data::absolute(&args.data),
        rows: &rows,
        ratios: &ratios,
    };
    let path = report::write_json(&args.out, "encode.json", &report)?;
    println!("\nwrote {}", path.display());
    Ok(())
}

fn validate(args: &EncodeArgs) -> Result<()> {
    ensure!(!args.workloads.is_empty(), "--workloads is empty");
    ensure!(!args.precision.is_empty(), "--precision is empty");
    ensure!(!args.paths.is_empty(), "--paths is empty");
    ensure!(args.repeat > 0, "--repeat must be positive");
    ensure!(
        args.model.threads > 0 && args.model.workers > 0,
        "--threads and --workers must be positive"
    );
    if args.paths.contains(&PathKind::Http) {
        ensure!(
            !args.concurrency.is_empty() && !args.concurrency.contains(&0),
            "--concurrency needs positive values"
        );
        if args.server_url.is_some() && args.precision.len() > 1 {
            bail!(
                "--server-url runs one precision: pass the server's, e.g. --precision {}",
                args.precision[0].key()
            );
        }
    }
    Ok(())
}

/// Every row of one precision. With both paths, the in-process encoder and
/// the server are loaded together and take turns: each repetition runs one
/// in-process pass, then one HTTP run per concurrency, so a slow spell of a
/// shared machine hits both paths alike instead of one of them.
fn precision_rows(
    args: &EncodeArgs,
    precision: Precision,
    workloads: &[(Workload, Arc<Vec<String>>)],
    runtime: &tokio::runtime::Runtime,
    client: &reqwest::Client,
) -> Result<Vec<Row>> {
    let encoder = if args.paths.contains(&PathKind::InProcess) {
        let largest = workloads.iter().map(|(_, t)| t.len()).max().unwrap_or(0);
        Some(in_process::InProcess::load(
            &args.model,
            precision,
            largest,
        )?)
    } else {
        None
    };
    let server = if args.paths.contains(&PathKind::Http) {
        Some(runtime.block_on(start_server(args, precision, client))?)
    } else {
        None
    };
    let mut in_process_rows = Vec::new();
    let mut http_rows = Vec::new();
    for (workload, texts) in workloads {
        let warmup = &texts[..args.warmup.min(texts.len())];
        if let Some(encoder) = &encoder {
            encoder.warm_up(warmup)?;
        }
        if let Some((_, url)) = &server {
            runtime.block_on(http::warm_up(client, url, warmup))?;
        }
        let mut passes = Vec::with_capacity(args.repeat);
        let mut runs: Vec<Vec<http::Run>> =
            vec![Vec::with_capacity(args.repeat); args.concurrency.len()];
        for _ in 0..args.repeat {
            if let Some(encoder) = &encoder {
                passes.push(encoder.pass(texts)?);
            }
            if let Some((_, url)) = &server {
                for (&concurrency, runs) in args.concurrency.iter().zip(&mut runs) {
                    let run = http::closed_loop(client, url, Arc::clone(texts), concurrency);
                    runs.push(runtime.block_on(run)?);
                }
            }
        }
        if encoder.is_some() {
            let row = Row::in_process(*workload, precision, &args.model, texts.len(), &passes);
            eprintln!("{}", row.progress());
            in_process_rows.push(row);
        }
        if server.is_some() {
            for (&concurrency, runs) in args.concurrency.iter().zip(&runs) {
                let row = Row::http(*workload, precision, args, concurrency, runs);
                eprintln!("{}", row.progress());
                http_rows.push(row);
            }
        }
    }
    in_process_rows.extend(http_rows);
    Ok(in_process_rows)
}

/// The server to measure: the one at `--server-url`, or one started for `precision`
/// (stopped when the returned process is dropped).
async fn start_server(
    args: &EncodeArgs,
    precision: Precision,
    client: &reqwest::Client,
) -> Result<(Option<ServerProcess>, String)> {
    if let Some(url) = &args.server_url {
        let url = url.trim_end_matches('/').to_string();
        server::check_ready(client, &url).await?;
        return Ok((None, url));
    }
    let binary = match &args.trawl_bin {
        Some(path) => path.clone(),
        None => server::sibling_binary()?,
    };
    let log = args.out.join(format!("server-{}.log", precision.key()));
    let mut process = ServerProcess::spawn(&binary, &args.model.server_args(precision), &log)?;
    let timeout = Duration::from_secs(args.ready_timeout_secs);
    process.wait_ready(client, timeout).await?;
    let url = process.url().to_string();
    Ok((Some(process), url))
}
