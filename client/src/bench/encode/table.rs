//! Result rows of `trawl-bench encode`, the HTTP-to-in-process ratios, and the printed table.

use serde::Serialize;
use trawl_encoders::Precision;

use super::http::Run;
use super::in_process::Pass;
use super::{EncodeArgs, PathKind};
use crate::bench::data::Workload;
use crate::bench::model::ModelArgs;
use crate::bench::stats::Latency;

/// One measured configuration: a line of the table and a record of `encode.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `short` or `long`.
    pub workload: &'static str,
    /// `fp32` or `int8`.
    pub precision: &'static str,
    /// `in-process` or `http`.
    pub path: &'static str,
    /// Concurrent clients (HTTP only).
    pub concurrency: Option<usize>,
    /// Texts embedded.
    pub texts: usize,
    /// Tokens embedded (special tokens included, after truncation).
    pub tokens: u64,
    /// Wall time of the fastest pass.
    pub seconds: f64,
    /// Wall time of every pass, in order (`--repeat`).
    pub pass_seconds: Vec<f64>,
    /// `texts / seconds`.
    pub texts_per_s: f64,
    /// Per-request latency percentiles (HTTP only).
    pub p50_ms: Option<f64>,
    /// 99th percentile of the per-request latency.
    pub p99_ms: Option<f64>,
    /// Mean per-request latency.
    pub mean_ms: Option<f64>,
    /// Slowest request.
    pub max_ms: Option<f64>,
    /// Batches the queue formed (in-process only).
    pub batches: Option<u64>,
    /// Tokens after padding (in-process only).
    pub padded_tokens: Option<u64>,
    /// Time in the model summed over batches (in-process only).
    pub inference_seconds: Option<f64>,
    /// The server measured, when it was not started by the benchmark.
    pub server_url: Option<String>,
    /// Encoder settings; absent for a server the benchmark did not start.
    pub encoder: Option<ModelArgs>,
}

impl Row {
    /// The row of in-process passes (the fastest is reported); `passes` is non-empty.
    pub fn in_process(
        workload: Workload,
        precision: Precision,
        model: &ModelArgs,
        texts: usize,
        passes: &[Pass],
    ) -> Self {
        let pass = fastest(passes, |p| p.seconds);
        Self {
            workload: workload.name(),
            precision: precision.key(),
            path: PathKind::InProcess.name(),
            concurrency: None,
            texts,
            tokens: pass.tokens,
            seconds: pass.seconds,
            pass_seconds: passes.iter().map(|p| p.seconds).collect(),
            texts_per_s: texts as f64 / pass.seconds,
            p50_ms: None,
            p99_ms: None,
            mean_ms: None,
            max_ms: None,
            batches: Some(pass.batches),
            padded_tokens: Some(pass.padded_tokens),
            inference_seconds: Some(pass.inference_seconds),
            server_url: None,
            encoder: Some(model.clone()),
        }
    }

    /// The row of closed-loop HTTP runs, one text per request (the fastest run is
    /// reported, latencies included); `runs` is non-empty.
    pub fn http(
        workload: Workload,
        precision: Precision,
        args: &EncodeArgs,
        concurrency: usize,
        runs: &[Run],
    ) -> Self {
        let run = fastest(runs, |r| r.seconds);
        let latency = Latency::from_samples(&run.latencies);
        let texts = run.latencies.len();
        Self {
            workload: workload.name(),
            precision: precision.key(),
            path: PathKind::Http.name(),
            concurrency: Some(concurrency),
            texts,
            tokens: run.tokens,
            seconds: run.seconds,
            pass_seconds: runs.iter().map(|r| r.seconds).collect(),
            texts_per_s: texts as f64 / run.seconds,
            p50_ms: latency.map(|l| l.p50_ms),
            p99_ms: latency.map(|l| l.p99_ms),
            mean_ms: latency.map(|l| l.mean_ms),
            max_ms: latency.map(|l| l.max_ms),
            batches: None,
            padded_tokens: None,
            inference_seconds: None,
            server_url: args.server_url.clone(),
            encoder: args.server_url.is_none().then(|| args.model.clone()),
        }
    }

    /// A one-line summary printed as soon as the row is measured.
    pub fn progress(&self) -> String {
        let concurrency = self.concurrency.map_or(String::new(), |c| format!(" x{c}"));
        let latency = match (self.p50_ms, self.p99_ms) {
            (Some(p50), Some(p99)) => format!(", p50 {p50:.1} ms, p99 {p99:.1} ms"),
            _ => String::new(),
        };
        format!(
            "{} {} {}{concurrency}: {} texts in {:.2} s, {:.1} texts/s{latency}",
            self.workload, self.precision, self.path, self.texts, self.seconds, self.texts_per_s
        )
    }
}

/// The item with the smallest `seconds`.
///
/// # Panics
///
/// If `items` is empty (`--repeat` is validated to be positive).
fn fastest<T>(items: &[T], seconds: impl Fn(&T) -> f64) -> &T {
    items
        .iter()
        .min_by(|a, b| seconds(a).total_cmp(&seconds(b)))
        .expect("at least one timed pass")
}

/// HTTP throughput at the highest concurrency over in-process throughput.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    /// `short` or `long`.
    pub workload: &'static str,
    /// `fp32` or `int8`.
    pub precision: &'static str,
    /// The HTTP row's concurrency.
    pub concurrency: usize,
    /// `texts_per_s(http @ concurrency) / texts_per_s(in-process)`.
    pub http_over_in_process: f64,
}

/// One ratio per workload and precision that has both an in-process and an HTTP row.
pub fn ratios(rows: &[Row]) -> Vec<Ratio> {
    rows.iter()
        .filter(|r| r.path == PathKind::InProcess.name())
        .filter_map(|base| {
            let http = rows
                .iter()
                .filter(|r| {
                    r.path == PathKind::Http.name()
                        && r.workload == base.workload
                        && r.precision == base.precision
                })
                .max_by_key(|r| r.concurrency)?;
            Some(Ratio {
                workload: base.workload,
                precision: base.precision,
                concurrency: http.concurrency.unwrap_or(0),
                http_over_in_process: http.texts_per_s / base.texts_per_s,
            })
        })
        .collect()
}

/// Prints the rows as a plain table, then the ratios.
pub fn print(rows: &[Row], ratios: &[Ratio]) {
    println!(
        "{:<8}  {:<9}  {:<10}  {:>11}  {:>5}  {:>7}  {:>11}  {:>6}  {:>6}",
        "workload",
        "precision",
        "path",
        "concurrency",
        "texts",
        "seconds",
        "texts_per_s",
        "p50_ms",
        "p99_ms"
    );
    let dash = || "-".to_string();
    for row in rows {
        println!(
            "{:<8}  {:<9}  {:<10}  {:>11}  {:>5}  {:>7.2}  {:>11.1}  {:>6}  {:>6}",
            row.workload,
            row.precision,
            row.path,
            row.concurrency.map_or_else(dash, |c| c.to_string()),
            row.texts,
            row.seconds,
            row.texts_per_s,
            row.p50_ms.map_or_else(dash, |ms| format!("{ms:.1}")),
            row.p99_ms.map_or_else(dash, |ms| format!("{ms:.1}")),
        );
    }
    if ratios.is_empty() {
        return;
    }
    println!();
    println!(
        "{:<8}  {:<9}  {:>22}",
        "workload", "precision", "http@N / in-process"
    );
    for ratio in ratios {
        println!(
            "{:<8}  {:<9}  {:>22}",
            ratio.workload,
            ratio.precision,
            format!("@{}: {:.2}", ratio.concurrency, ratio.http_over_in_process),
        );
    }
}
