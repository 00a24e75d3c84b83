//! `trawl-load`: a load generator for Trawl's HTTP API, as `oha` or qdrant's
//! `bfb` are for theirs.
//!
//! Two shapes of run:
//!
//! - **closed loop** (`--concurrency N`, the default): N workers, each sending
//!   its next request as soon as the previous one is answered, so exactly N
//!   requests are in flight. Measures the throughput the server sustains at
//!   that concurrency.
//! - **open loop** (`--rate R`): request `i` is due at `i / R` seconds and its
//!   latency is measured from that intended time, not from when it actually
//!   left, so a stall delays (and shows in) every request scheduled during it
//!   instead of hiding behind the few that were in flight: the coordinated
//!   omission that wrk2 and HdrHistogram's author warn about. At most
//!   `--max-in-flight` requests wait for answers; requests that cannot start
//!   before the run's time is up are reported as dropped, and ones that start
//!   more than 10 ms late as late.
//!
//! A run lasts `--duration` or `--requests` (the first reached). Workloads:
//! `search` (texts or vectors from `--queries`, or built-in sentences;
//! `--filter` for all searches), `upsert` (`--batch` points, texts for the
//! server to embed or `--upsert-vectors`), `embed`, and `mix` with
//! `--mix search=8,upsert=1,embed=1`. Latencies go into HDR histograms per
//! operation; answers are counted by HTTP status, transport failures as
//! `timeout`, `connect` or `transport`. [`Report::failure`] decides whether
//! the error rate passes the threshold.
//!
//! ```no_run
//! use trawl_client::load::{self, LoadArgs};
//!
//! let args = LoadArgs::from_flags(["--workload", "search", "--rate", "200", "--duration", "30s"])?;
//! let report = load::run(&args)?;
//! print!("{}", report.table());
//! if let Some(why) = report.failure(args.max_error_rate) {
//!     eprintln!("{why}");
//! }
//! # anyhow::Ok(())
//! ```

mod engine;
mod report;
pub(crate) mod setup;
pub(crate) mod workload;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use clap::{Args, Parser, ValueEnum};
use serde_json::Value;

pub use engine::{LATE_AFTER, Limit, intended_offset, schedule_len};
pub use report::{LatencySummary, OpReport, OpenLoopReport, Outcome, Report, RunConfig};
pub use setup::ensure_collection;
pub use workload::{Op, Query, default_queries, interleave, parse_mix, parse_queries};

use crate::bench::report::MachineInfo;
use crate::bench::server::check_ready;
use engine::Shared;
use workload::{Workload, WorkloadSpec};

/// Runs of no stated length last this long.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WorkloadKind {
    /// `POST /collections/{name}/search`.
    Search,
    /// `PUT /collections/{name}/points`.
    Upsert,
    /// `POST /embed`.
    Embed,
    /// All three, in the `--mix` ratios.
    Mix,
}

impl WorkloadKind {
    fn name(self) -> &'static str {
        match self {
            WorkloadKind::Search => "search",
            WorkloadKind::Upsert => "upsert",
            WorkloadKind::Embed => "embed",
            WorkloadKind::Mix => "mix",
        }
    }
}

/// Arguments of `trawl-load`.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:6390")]
    pub url: String,
    /// The server's API key, if it has one (the full key for `--setup` and upserts).
    #[arg(long, env = "TRAWL_API_KEY", hide_env_values = true)]
    pub api_key: Option<crate::ApiKey>,
    /// The collection searched and upserted into.
    #[arg(long, default_value = "load")]
    pub collection: String,
    /// What to send.
    #[arg(long, value_enum, default_value_t = WorkloadKind::Search)]
    pub workload: WorkloadKind,
    /// Ratios for `--workload mix`: `op=weight`, comma-separated.
    #[arg(long, default_value = "search=8,upsert=1,embed=1")]
    pub mix: String,
    /// Closed loop: workers, each keeping one request in flight.
    #[arg(long, short = 'c', default_value_t = 16)]
    pub concurrency: usize,
    /// Open loop: requests per second at fixed intervals, each timed from its
    /// intended start (replaces the closed loop).
    #[arg(long, short = 'r')]
    pub rate: Option<f64>,
    /// Open loop: most requests waiting for answers at once.
    #[arg(long, default_value_t = 1024)]
    pub max_in_flight: usize,
    /// How long to send (e.g. `60s`, `500ms`, `2m`); 10 s when neither this nor
    /// `--requests` is given.
    #[arg(long, short = 'z', value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// How many requests to send.
    #[arg(long, short = 'n')]
    pub requests: Option<u64>,
    /// Untimed warm-up with the same settings before the measured run.
    #[arg(long, value_parser = parse_duration, default_value = "0s")]
    pub warmup: Duration,
    /// Search queries: one text per line, or JSON lines `{"text": …}` /
    /// `{"vector": […]}` with an optional `"filter"` (built-in sentences by default).
    #[arg(long)]
    pub queries: Option<PathBuf>,
    /// A filter (JSON) for every search whose query has none of its own.
    #[arg(long)]
    pub filter: Option<String>,
    /// Search `limit`.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Points per upsert request.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Upsert random vectors of the collection's dimension instead of texts
    /// for the server to embed.
    #[arg(long)]
    pub upsert_vectors: bool,
    /// Id of the first upserted point (later ones count up from it).
    #[arg(long, default_value_t = 1_000_000)]
    pub id_start: u64,
    /// Texts per embed request.
    #[arg(long, default_value_t = 1)]
    pub embed_batch: usize,
    /// Create the collection if it does not exist (the server model's
    /// dimension, cosine, `tag` and `n` payload indexes) and seed it.
    #[arg(long)]
    pub setup: bool,
    /// Points `--setup` seeds a new collection with.
    #[arg(long, default_value_t = 1000)]
    pub seed_points: usize,
    /// Layout of a collection `--setup` creates.
    #[arg(long, default_value = "float")]
    pub layout: String,
    /// Per-request timeout.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    pub timeout: Duration,
    /// Fail (exit 1) when (errors + dropped) / requests passes this.
    #[arg(long, default_value_t = 0.01)]
    pub max_error_rate: f64,
    /// Seed for the choice of queries and texts.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// No progress lines on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Parser)]
#[command(name = "trawl-load", no_binary_name = true)]
struct FlagsOnly {
    #[command(flatten)]
    args: LoadArgs,
}

impl LoadArgs {
    /// Parses command-line flags (without a program name), as `trawl-load` would.
    pub fn from_flags<I, T>(flags: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        FlagsOnly::try_parse_from(flags).map(|f| f.args)
    }

    /// The operations sent and their weights.
    pub fn mix_weights(&self) -> Result<Vec<(Op, u32)>> {
        Ok(match self.workload {
            WorkloadKind::Search => vec![(Op::Search, 1)],
            WorkloadKind::Upsert => vec![(Op::Upsert, 1)],
            WorkloadKind::Embed => vec![(Op::Embed, 1)],
            WorkloadKind::Mix => parse_mix(&self.mix)?,
        })
    }

    /// When the measured run stops.
    pub fn limit(&self) -> Limit {
        Limit {
            duration: match (self.duration, self.requests) {
                (None, None) => Some(DEFAULT_DURATION),
                (d, _) => d,
            },
            requests: self.requests,
        }
    }

    /// Checks what clap cannot.
    pub fn validate(&self) -> Result<()> {
        ensure!(self.concurrency > 0, "--concurrency must be at least 1");
        ensure!(
            (1..=1_000_000).contains(&self.max_in_flight),
            "--max-in-flight must be between 1 and 1000000"
        );
        if let Some(rate) = self.rate {
            ensure!(
                rate.is_finite() && rate > 0.0,
                "--rate must be a positive number of requests per second"
            );
        }
        ensure!(
            (0.0..=1.0).contains(&self.max_error_rate),
            "--max-error-rate must be between 0 and 1"
        );
        ensure!(!self.timeout.is_zero(), "--timeout must be positive");
        ensure!(self.requests != Some(0), "--requests must be at least 1");
        ensure!(
            self.duration != Some(Duration::ZERO),
            "--duration must be positive"
        );
        ensure!(
            !self.collection.is_empty() && !self.collection.contains('/'),
            "--collection must be a name without '/'"
        );
        self.mix_weights()?;
        Ok(())
    }

    fn base_url(&self) -> String {
        self.url.trim_end_matches('/').to_string()
    }
}

/// Parses a duration: a number with `ms`, `s`, `m` or `h` (seconds without a unit).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 60s, 500ms, 2m)"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1e3,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3_600.0,
        other => return Err(format!("{text:?}: unknown unit {other:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

/// Runs the load on a runtime of its own. (From async code, use [`run_async`].)
pub fn run(args: &LoadArgs) -> Result<Report> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run_async(args))
}

/// Runs the load: checks the server is ready, sets the collection up when
/// asked, warms up, then sends the measured run and reports it.
pub async fn run_async(args: &LoadArgs) -> Result<Report> {
    args.validate()?;
    let base_url = args.base_url();
    let client = crate::http_client(args.api_key.as_ref())?
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(args.timeout)
        .build()
        .context("cannot build the HTTP client")?;
    check_ready(&client, &base_url).await?;
    if args.setup {
        ensure_collection(
            &client,
            &base_url,
            &args.collection,
            &args.layout,
            args.seed_points,
            args.quiet,
        )
        .await?;
    }
    let mix = args.mix_weights()?;
    let (queries, source) = match &args.queries {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let queries = parse_queries(&text).with_context(|| format!("{}", path.display()))?;
            (queries, path.display().to_string())
        }
        None => (default_queries(), "built-in".to_string()),
    };
    let filter: Option<Value> = match &args.filter {
        Some(text) => {
            let filter: Value = serde_json::from_str(text).context("--filter is not JSON")?;
            workload::check_filter(&filter).context("--filter")?;
            Some(filter)
        }
        None => None,
    };
    let upserts = mix.iter().any(|(op, _)| *op == Op::Upsert);
    let upsert_dims = if args.upsert_vectors && upserts {
        Some(setup::collection_dims(&client, &base_url, &args.collection).await?)
    } else {
        None
    };
    let spec = WorkloadSpec {
        base_url: base_url.clone(),
        collection: args.collection.clone(),
        mix: mix.clone(),
        queries,
        filter: filter.clone(),
        limit: args.limit,
        upsert_batch: args.batch,
        upsert_dims,
        id_start: args.id_start,
        embed_batch: args.embed_batch,
        seed: args.seed,
    };
    let query_count = spec.queries.len();
    let workload = Arc::new(Workload::new(spec)?);
    let limit = args.limit();
    let config = RunConfig {
        url: base_url,
        collection: args.collection.clone(),
        workload: args.workload.name().into(),
        mix: mix
            .iter()
            .map(|(op, w)| (op.name().to_string(), *w))
            .collect(),
        mode: if args.rate.is_some() {
            "open"
        } else {
            "closed"
        }
        .into(),
        concurrency: args.rate.is_none().then_some(args.concurrency),
        rate: args.rate,
        max_in_flight: args.rate.map(|_| args.max_in_flight),
        duration_s: limit.duration.map(|d| d.as_secs_f64()),
        requests: limit.requests,
        warmup_s: args.warmup.as_secs_f64(),
        queries: source,
        query_count,
        filter,
        limit: args.limit,
        batch: args.batch,
        upsert_vectors: args.upsert_vectors,
        embed_batch: args.embed_batch,
        timeout_s: args.timeout.as_secs_f64(),
        max_error_rate: args.max_error_rate,
    };

    let mut warmup_requests = 0;
    if !args.warmup.is_zero() {
        let warm = Limit {
            duration: Some(args.warmup),
            requests: None,
        };
        let shared = Arc::new(Shared::default());
        drive(args, &client, &workload, warm, &shared, "warmup").await;
        warmup_requests = shared.into_recorder().total();
    }
    let shared = Arc::new(Shared::default());
    let (elapsed, open) = drive(args, &client, &workload, limit, &shared, "load").await;
    let recorder = shared.into_recorder();
    let mut report = Report::new(config, &recorder, elapsed, open, warmup_requests);
    report.machine = Some(MachineInfo::collect());
    Ok(report)
}

/// One closed- or open-loop pass, with the progress line unless `--quiet`.
async fn drive(
    args: &LoadArgs,
    client: &reqwest::Client,
    workload: &Arc<Workload>,
    limit: Limit,
    shared: &Arc<Shared>,
    label: &'static str,
) -> (Duration, Option<OpenLoopReport>) {
    let ticker = (!args.quiet).then(|| tokio::spawn(engine::progress(Arc::clone(shared), label)));
    let result = match args.rate {
        Some(rate) => {
            let (elapsed, open) =
                engine::open_loop(client, workload, rate, args.max_in_flight, limit, shared).await;
            (elapsed, Some(open))
        }
        None => (
            engine::closed_loop(client, workload, args.concurrency, limit, shared).await,
            None,
        ),
    };
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5 days").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn flags_choose_the_loop_and_its_length() {
        let args = LoadArgs::from_flags(["--workload", "mix", "--requests", "200"]).unwrap();
        args.validate().unwrap();
        assert_eq!(
            args.limit(),
            Limit {
                duration: None,
                requests: Some(200)
            }
        );
        assert_eq!(args.mix_weights().unwrap().len(), 3);
        assert_eq!(args.rate, None);

        let args = LoadArgs::from_flags(["--rate", "200", "--duration", "30s"]).unwrap();
        assert_eq!(args.rate, Some(200.0));
        assert_eq!(args.limit().duration, Some(Duration::from_secs(30)));
        assert_eq!(args.mix_weights().unwrap(), vec![(Op::Search, 1)]);

        let args = LoadArgs::from_flags(Vec::<String>::new()).unwrap();
        assert_eq!(args.limit().duration, Some(DEFAULT_DURATION));
        assert_eq!(
            (args.concurrency, args.url.as_str()),
            (16, "http://127.0.0.1:6390")
        );

        for bad in [
            vec!["--rate", "0"],
            vec!["--concurrency", "0"],
            vec!["--workload", "mix", "--mix", "search=0"],
            vec!["--max-error-rate", "2"],
            vec!["--requests", "0"],
        ] {
            let args = LoadArgs::from_flags(bad.clone()).unwrap();
            assert!(args.validate().is_err(), "{bad:?} was accepted");
        }
        assert!(LoadArgs::from_flags(["--workload", "delete"]).is_err());
    }
}
