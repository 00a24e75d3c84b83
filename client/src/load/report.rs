//! Counting answers (HDR histograms per operation, errors by status) and the
//! report: its JSON shape, its table, and whether the run passed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::workload::Op;
use crate::bench::report::MachineInfo;

/// Latencies are recorded in microseconds from 1 µs up to an hour, to three
/// significant digits (HdrHistogram's bucket scheme: 0.1 % relative error).
const HIGHEST_US: u64 = 3_600_000_000;
const SIGNIFICANT_DIGITS: u8 = 3;

/// An empty latency histogram with the report's bounds.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_US, SIGNIFICANT_DIGITS)
        .expect("constant histogram bounds are valid")
}

/// Records `latency` in `histogram`, clamped to its bounds.
pub fn record_latency(histogram: &mut Histogram<u64>, latency: Duration) {
    let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    histogram.saturating_record(us.clamp(1, HIGHEST_US));
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP answer with this status.
    Status(u16),
    /// No answer within `--timeout`.
    Timeout,
    /// No connection.
    Connect,
    /// Any other transport failure (reset, broken body).
    Transport,
}

impl Outcome {
    /// Classifies a transport error.
    pub fn of_error(error: &reqwest::Error) -> Self {
        if error.is_timeout() {
            Outcome::Timeout
        } else if error.is_connect() {
            Outcome::Connect
        } else {
            Outcome::Transport
        }
    }

    /// A 2xx answer.
    pub fn is_ok(self) -> bool {
        matches!(self, Outcome::Status(s) if (200..300).contains(&s))
    }

    /// The key in `by_status`: the status code, or `timeout` / `connect` / `transport`.
    pub fn label(self) -> String {
        match self {
            Outcome::Status(s) => s.to_string(),
            Outcome::Timeout => "timeout".into(),
            Outcome::Connect => "connect".into(),
            Outcome::Transport => "transport".into(),
        }
    }
}

/// What one operation's requests came to.
#[derive(Debug, Clone)]
struct OpCounts {
    latency: Histogram<u64>,
    /// 2xx answers only.
    ok_latency: Histogram<u64>,
    by_status: BTreeMap<String, u64>,
}

/// Every request's outcome and latency, per operation.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    ops: BTreeMap<Op, OpCounts>,
}

impl Recorder {
    /// Counts one request.
    pub fn record(&mut self, op: Op, outcome: Outcome, latency: Duration) {
        let counts = self.ops.entry(op).or_insert_with(|| OpCounts {
            latency: histogram(),
            ok_latency: histogram(),
            by_status: BTreeMap::new(),
        });
        record_latency(&mut counts.latency, latency);
        if outcome.is_ok() {
            record_latency(&mut counts.ok_latency, latency);
        }
        *counts.by_status.entry(outcome.label()).or_default() += 1;
    }

    /// Requests counted so far.
    pub fn total(&self) -> u64 {
        self.ops.values().map(|c| c.latency.len()).sum()
    }
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Arithmetic mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    #[serde(rename = "p99.9")]
    pub p99_9: f64,
    /// Slowest.
    pub max: f64,
}

impl LatencySummary {
    /// Percentiles of a histogram of microseconds (zeros when it is empty).
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let ms = |us: u64| round(us as f64 / 1e3, 3);
        Self {
            mean: round(h.mean() / 1e3, 3),
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            p99_9: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

/// One operation's share of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpReport {
    /// The operation.
    pub op: Op,
    /// HTTP method.
    pub method: String,
    /// Route template, as `/metrics` labels it.
    pub route: String,
    /// The path requested.
    pub path: String,
    /// Requests completed (answered or failed).
    pub requests: u64,
    /// Answered 2xx.
    pub ok: u64,
    /// The others.
    pub errors: u64,
    /// Requests by HTTP status, or `timeout` / `connect` / `transport`.
    pub by_status: BTreeMap<String, u64>,
    /// Requests per second over the run.
    pub throughput_rps: f64,
    /// Latency of every request, answered or failed.
    pub latency_ms: LatencySummary,
}

/// The open loop's schedule against what happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenLoopReport {
    /// Requests per second asked for.
    pub target_rate: f64,
    /// Requests the schedule held.
    pub scheduled: u64,
    /// Requests sent.
    pub sent: u64,
    /// Requests that could not start before the run's window closed, because
    /// `--max-in-flight` requests were still waiting for answers. They count
    /// as errors in the error rate.
    pub dropped: u64,
    /// Requests that started more than `late_after_ms` after their intended time.
    pub late: u64,
    /// The lateness threshold.
    pub late_after_ms: f64,
    /// Completed requests per second over the run.
    pub achieved_rps: f64,
    /// Delay between a request's intended time and its actual start.
    pub start_lag_ms: LatencySummary,
}

/// The run's settings, as recorded in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The server.
    pub url: String,
    /// The collection.
    pub collection: String,
    /// `search`, `upsert`, `embed` or `mix`.
    pub workload: String,
    /// The operations' weights.
    pub mix: BTreeMap<String, u32>,
    /// `closed` (fixed workers) or `open` (fixed rate).
    pub mode: String,
    /// Closed loop: workers.
    pub concurrency: Option<usize>,
    /// Open loop: target requests per second.
    pub rate: Option<f64>,
    /// Open loop: the cap on requests in flight.
    pub max_in_flight: Option<usize>,
    /// Run length, when bounded by time.
    pub duration_s: Option<f64>,
    /// Run length, when bounded by a count.
    pub requests: Option<u64>,
    /// Untimed warm-up before the run.
    pub warmup_s: f64,
    /// Where the queries came from (`built-in` or a path).
    pub queries: String,
    /// Number of distinct queries.
    pub query_count: usize,
    /// The filter applied to searches without their own.
    pub filter: Option<serde_json::Value>,
    /// Search `limit`.
    pub limit: usize,
    /// Points per upsert.
    pub batch: usize,
    /// Whether upserts send vectors rather than texts.
    pub upsert_vectors: bool,
    /// Texts per embed request.
    pub embed_batch: usize,
    /// Per-request timeout.
    pub timeout_s: f64,
    /// The error rate above which the run fails.
    pub max_error_rate: f64,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always `trawl-load`.
    pub tool: String,
    /// Where it ran.
    pub machine: Option<MachineInfo>,
    /// The settings.
    pub config: RunConfig,
    /// Wall time from the first request to the last answer.
    pub duration_s: f64,
    /// Requests completed (answered or failed).
    pub requests: u64,
    /// Answered 2xx.
    pub ok: u64,
    /// Not answered 2xx.
    pub errors: u64,
    /// `(errors + dropped) / (requests + dropped)`.
    pub error_rate: f64,
    /// Requests by HTTP status, or `timeout` / `connect` / `transport`.
    pub by_status: BTreeMap<String, u64>,
    /// Completed requests per second.
    pub throughput_rps: f64,
    /// Mean requests in flight (sum of latencies / duration, by Little's law).
    pub mean_in_flight: f64,
    /// Latency of every request, answered or failed.
    pub latency_ms: LatencySummary,
    /// Latency of the accepted (2xx) requests alone: under overload, what a
    /// served caller saw, apart from the fast refusals.
    pub ok_latency_ms: LatencySummary,
    /// Per operation.
    pub ops: Vec<OpReport>,
    /// Open loop only.
    pub open_loop: Option<OpenLoopReport>,
    /// Requests sent during the warm-up (not counted above).
    pub warmup_requests: u64,
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

impl Report {
    /// Builds the report from what `recorder` counted over `elapsed`.
    pub fn new(
        config: RunConfig,
        recorder: &Recorder,
        elapsed: Duration,
        open_loop: Option<OpenLoopReport>,
        warmup_requests: u64,
    ) -> Self {
        let seconds = elapsed.as_secs_f64().max(1e-9);
        let collection = config.collection.clone();
        let mut all = histogram();
        let mut all_ok = histogram();
        let mut by_status = BTreeMap::new();
        let mut ops = Vec::new();
        for (op, counts) in &recorder.ops {
            // Same bounds on both sides: the addition cannot fail.
            let _ = all.add(&counts.latency);
            let _ = all_ok.add(&counts.ok_latency);
            for (status, n) in &counts.by_status {
                *by_status.entry(status.clone()).or_default() += n;
            }
            let requests = counts.latency.len();
            let ok = ok_count(&counts.by_status);
            ops.push(OpReport {
                op: *op,
                method: op.method().to_string(),
                route: op.route().to_string(),
                path: op.path(&collection),
                requests,
                ok,
                errors: requests - ok,
                by_status: counts.by_status.clone(),
                throughput_rps: round(requests as f64 / seconds, 2),
                latency_ms: LatencySummary::of(&counts.latency),
            });
        }
        let requests = all.len();
        let ok = ok_count(&by_status);
        let errors = requests - ok;
        let dropped = open_loop.as_ref().map_or(0, |o| o.dropped);
        let error_rate = if requests + dropped == 0 {
            0.0
        } else {
            (errors + dropped) as f64 / (requests + dropped) as f64
        };
        let busy_s = all.mean() * requests as f64 / 1e6;
        Self {
            tool: "trawl-load".into(),
            machine: None,
            config,
            duration_s: round(seconds, 3),
            requests,
            ok,
            errors,
            error_rate,
            by_status,
            throughput_rps: round(requests as f64 / seconds, 2),
            mean_in_flight: round(busy_s / seconds, 2),
            latency_ms: LatencySummary::of(&all),
            ok_latency_ms: LatencySummary::of(&all_ok),
            ops,
            open_loop,
            warmup_requests,
        }
    }

    /// Why the run fails, if it does: no request completed, or the error rate
    /// passed `max_error_rate`.
    pub fn failure(&self, max_error_rate: f64) -> Option<String> {
        let dropped = self.open_loop.as_ref().map_or(0, |o| o.dropped);
        if self.requests == 0 {
            return Some("no request completed".into());
        }
        (self.error_rate > max_error_rate).then(|| {
            let statuses: Vec<String> = self
                .by_status
                .iter()
                .filter(|(s, _)| !s.starts_with('2'))
                .map(|(s, n)| format!("{s} × {n}"))
                .collect();
            format!(
                "error rate {:.4} is above --max-error-rate {max_error_rate}: {} errors{} in {} requests ({})",
                self.error_rate,
                self.errors,
                if dropped > 0 {
                    format!(" and {dropped} dropped")
                } else {
                    String::new()
                },
                self.requests + dropped,
                if statuses.is_empty() {
                    "no failed answers".to_string()
                } else {
                    statuses.join(", ")
                },
            )
        })
    }

    /// The report as a plain text table.
    pub fn table(&self) -> String {
        let c = &self.config;
        let mut out = String::new();
        let shape = match (c.concurrency, c.rate) {
            (_, Some(rate)) => format!(
                "open loop at {rate} req/s (at most {} in flight)",
                c.max_in_flight.unwrap_or(0)
            ),
            (Some(n), None) => format!("closed loop, {n} workers"),
            (None, None) => c.mode.clone(),
        };
        let _ = writeln!(
            out,
            "trawl-load: {} workload, {shape}, {:.1} s, {} collection {:?}",
            c.workload, self.duration_s, c.url, c.collection
        );
        let _ = writeln!(
            out,
            "{:<8} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "op",
            "requests",
            "ok",
            "errors",
            "req/s",
            "mean ms",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms"
        );
        let row = |out: &mut String,
                   name: &str,
                   n: u64,
                   ok: u64,
                   err: u64,
                   rps: f64,
                   l: &LatencySummary| {
            let _ = writeln!(
                out,
                "{name:<8} {n:>9} {ok:>9} {err:>7} {rps:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                l.mean, l.p50, l.p90, l.p99, l.p99_9, l.max
            );
        };
        for op in &self.ops {
            row(
                &mut out,
                op.op.name(),
                op.requests,
                op.ok,
                op.errors,
                op.throughput_rps,
                &op.latency_ms,
            );
        }
        row(
            &mut out,
            "all",
            self.requests,
            self.ok,
            self.errors,
            self.throughput_rps,
            &self.latency_ms,
        );
        if self.errors > 0 && self.ok > 0 {
            let seconds = self.duration_s.max(1e-9);
            row(
                &mut out,
                "all 2xx",
                self.ok,
                self.ok,
                0,
                self.ok as f64 / seconds,
                &self.ok_latency_ms,
            );
        }
        let statuses: Vec<String> = self
            .by_status
            .iter()
            .map(|(s, n)| format!("{s} × {n}"))
            .collect();
        let _ = writeln!(
            out,
            "status: {}; error rate {:.4}; mean in flight {:.1}",
            if statuses.is_empty() {
                "none".to_string()
            } else {
                statuses.join(", ")
            },
            self.error_rate,
            self.mean_in_flight
        );
        if let Some(o) = &self.open_loop {
            let _ = writeln!(
                out,
                "open loop: target {:.1} req/s, achieved {:.1}; scheduled {}, sent {}, dropped {}, late (> {} ms) {}; start lag p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                o.target_rate,
                o.achieved_rps,
                o.scheduled,
                o.sent,
                o.dropped,
                o.late_after_ms,
                o.late,
                o.start_lag_ms.p50,
                o.start_lag_ms.p99,
                o.start_lag_ms.max
            );
        }
        out
    }
}

fn ok_count(by_status: &BTreeMap<String, u64>) -> u64 {
    by_status
        .iter()
        .filter(|(s, _)| s.len() == 3 && s.starts_with('2'))
        .map(|(_, n)| n)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RunConfig {
        RunConfig {
            url: "http://h".into(),
            collection: "c".into(),
            workload: "mix".into(),
            mix: BTreeMap::new(),
            mode: "closed".into(),
            concurrency: Some(4),
            rate: None,
            max_in_flight: None,
            duration_s: None,
            requests: Some(10),
            warmup_s: 0.0,
            queries: "built-in".into(),
            query_count: 40,
            filter: None,
            limit: 10,
            batch: 16,
            upsert_vectors: false,
            embed_batch: 1,
            timeout_s: 30.0,
            max_error_rate: 0.01,
        }
    }

    #[test]
    fn percentiles_come_from_the_histogram_within_its_precision() {
        let mut h = histogram();
        for ms in 1..=1000u64 {
            record_latency(&mut h, Duration::from_millis(ms));
        }
        let s = LatencySummary::of(&h);
        let close = |got: f64, want: f64| (got - want).abs() <= want * 0.001 + 1e-9;
        assert!(close(s.p50, 500.0), "{s:?}");
        assert!(close(s.p90, 900.0), "{s:?}");
        assert!(close(s.p99, 990.0), "{s:?}");
        assert!(close(s.p99_9, 999.0), "{s:?}");
        assert!(close(s.max, 1000.0), "{s:?}");
        assert!(close(s.mean, 500.5), "{s:?}");
        assert_eq!(LatencySummary::of(&histogram()), LatencySummary::default());
        // Out-of-range latencies are clamped, not lost.
        record_latency(&mut h, Duration::ZERO);
        record_latency(&mut h, Duration::from_secs(100_000));
        assert_eq!(h.len(), 1002);
    }

    #[test]
    fn counts_split_by_operation_and_status() {
        let mut r = Recorder::default();
        for _ in 0..7 {
            r.record(Op::Search, Outcome::Status(200), Duration::from_millis(2));
        }
        r.record(Op::Search, Outcome::Status(422), Duration::from_millis(1));
        r.record(Op::Upsert, Outcome::Status(200), Duration::from_millis(20));
        r.record(Op::Embed, Outcome::Timeout, Duration::from_secs(30));
        assert_eq!(r.total(), 10);
        let report = Report::new(config(), &r, Duration::from_secs(2), None, 0);
        assert_eq!((report.requests, report.ok, report.errors), (10, 8, 2));
        assert_eq!(report.error_rate, 0.2);
        assert_eq!(report.throughput_rps, 5.0);
        assert_eq!(report.by_status["200"], 8);
        assert_eq!(report.by_status["422"], 1);
        assert_eq!(report.by_status["timeout"], 1);
        let search = &report.ops[0];
        assert_eq!(
            (search.op, search.method.as_str(), search.route.as_str()),
            (Op::Search, "POST", "/collections/{name}/search")
        );
        assert_eq!((search.requests, search.ok, search.errors), (8, 7, 1));
        assert_eq!(report.ops[1].path, "/collections/c/points");
        // Little's law: (7·2 + 1 + 20 + 30 000) ms over 2 s.
        assert!(
            (report.mean_in_flight - 15.02).abs() < 0.05,
            "{}",
            report.mean_in_flight
        );
        let json = serde_json::to_value(&report).unwrap();
        assert!(json["latency_ms"]["p99.9"].is_number());
        assert_eq!(json["ops"][2]["op"], "embed");
        let table = report.table();
        assert!(table.contains("search"), "{table}");
        assert!(table.contains("timeout × 1"), "{table}");
    }

    #[test]
    fn the_run_fails_past_the_error_threshold_or_with_nothing_done() {
        let mut r = Recorder::default();
        for i in 0..100 {
            let status = if i == 0 { 503 } else { 200 };
            r.record(
                Op::Search,
                Outcome::Status(status),
                Duration::from_millis(1),
            );
        }
        let report = Report::new(config(), &r, Duration::from_secs(1), None, 0);
        assert_eq!(report.error_rate, 0.01);
        assert_eq!(report.failure(0.01), None);
        let why = report.failure(0.0).expect("fails at 0");
        assert!(why.contains("503 × 1"), "{why}");

        // Dropped requests count against the open loop.
        let open = OpenLoopReport {
            target_rate: 100.0,
            scheduled: 110,
            sent: 100,
            dropped: 10,
            late: 0,
            late_after_ms: 10.0,
            achieved_rps: 100.0,
            start_lag_ms: LatencySummary::default(),
        };
        let report = Report::new(config(), &r, Duration::from_secs(1), Some(open), 0);
        assert!((report.error_rate - 11.0 / 110.0).abs() < 1e-12);
        assert!(report.failure(0.05).unwrap().contains("10 dropped"));

        let empty = Report::new(
            config(),
            &Recorder::default(),
            Duration::from_secs(1),
            None,
            0,
        );
        assert_eq!(empty.failure(1.0).as_deref(), Some("no request completed"));
    }
}
