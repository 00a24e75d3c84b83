//! Step 7: sequential search latency, idle and while another task upserts.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use reqwest::header::CONTENT_TYPE;
use serde::Serialize;

use super::{BASE_STREAM, Bench, LATENCY_SEARCHES, LOAD_BATCH, WRITER_BODIES, search, upsert_body};
use crate::bench::stats::Latency;
use crate::bench::synthetic::Synthetic;

/// Sequential search latency, idle and under writes.
#[derive(Debug, Serialize)]
pub(super) struct Latencies {
    pub(super) idle: Latency,
    pub(super) loaded: Latency,
    pub(super) p99_ratio: f64,
    /// Searches slower than [`SLOW_SECONDS`], as the benchmark timed them
    /// and as the server's own request histogram counted them: where the
    /// slow ones spent their time (in the server, or between the processes).
    pub(super) slow_idle: Slow,
    pub(super) slow_loaded: Slow,
    pub(super) points_upserted_during_load: u64,
    pub(super) upserts_per_second: f64,
}

/// The bound of the server's latency histogram (`le` of
/// `trawl_http_request_duration_seconds`) that the slow searches are counted
/// above: about twice the idle p99.
const SLOW_SECONDS: f64 = 0.0032;

/// Searches of one phase slower than [`SLOW_SECONDS`].
#[derive(Debug, Serialize)]
pub(super) struct Slow {
    pub(super) seconds: f64,
    /// Timed by the benchmark (request sent to answer read).
    pub(super) client: usize,
    /// Counted by the server (request received to answer written).
    pub(super) server: u64,
}

impl Bench {
    /// The server's count of search requests (all, and those answered within
    /// [`SLOW_SECONDS`]) from `GET /metrics`.
    async fn search_counts(&self) -> Result<(u64, u64)> {
        let url = format!("{}/metrics", self.server.url());
        let text = self
            .client
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?
            .text()
            .await
            .with_context(|| format!("GET {url}"))?;
        let (mut total, mut fast) = (0, 0);
        for line in text.lines().filter(|l| {
            l.starts_with("trawl_http_request_duration_seconds_bucket{")
                && l.contains("method=\"POST\"")
                && l.contains("/search\"")
        }) {
            let count: u64 = line
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .with_context(|| format!("a histogram line of {url}: {line}"))?;
            let le = line.split("le=\"").nth(1).and_then(|l| l.split('"').next());
            match le {
                Some("+Inf") => total += count,
                Some(le)
                    if le
                        .parse::<f64>()
                        .is_ok_and(|b| (b - SLOW_SECONDS).abs() < 1e-9) =>
                {
                    fast += count;
                }
                _ => {}
            }
        }
        Ok((total, fast))
    }

    /// Searches slower than [`SLOW_SECONDS`] between two histogram readings.
    fn slow(samples: &[Duration], before: (u64, u64), after: (u64, u64)) -> Slow {
        Slow {
            seconds: SLOW_SECONDS,
            client: samples
                .iter()
                .filter(|d| d.as_secs_f64() > SLOW_SECONDS)
                .count(),
            server: (after.0 - before.0).saturating_sub(after.1 - before.1),
        }
    }

    /// Step 7: sequential search latency idle, then while a task upserts new
    /// points (ids after the loaded ones) in batches of [`LOAD_BATCH`].
    pub(super) async fn latencies(
        &self,
        data: &Arc<Synthetic>,
        bodies: &[String],
    ) -> Result<Latencies> {
        let url = self.url("/search");
        let before = self.search_counts().await?;
        let idle_samples = searcher(&url, bodies).await?;
        let between = self.search_counts().await?;
        let slow_idle = Self::slow(&idle_samples, before, between);
        let idle = Latency::from_samples(&idle_samples).context("no searches ran")?;
        let stop = Arc::new(AtomicBool::new(false));
        // The writer's bodies are drawn and encoded before the timed phase:
        // the server shares the machine's cores with this benchmark, and the
        // load generator's own CPU (milliseconds per batch) would otherwise
        // be measured as the server's latency under writes. Once every body
        // has been sent the writer starts again from the first, so the rest
        // of the phase replaces points instead of adding them.
        let bodies_out: Arc<Vec<String>> = Arc::new({
            let (data, first) = (Arc::clone(data), self.points);
            tokio::task::spawn_blocking(move || {
                (0..WRITER_BODIES)
                    .map(|b| {
                        let next = first + b * LOAD_BATCH;
                        let vectors: Vec<f32> = (next..next + LOAD_BATCH)
                            .flat_map(|i| data.vector(BASE_STREAM, i))
                            .collect();
                        upsert_body(next, &vectors, data.dims()).to_string()
                    })
                    .collect()
            })
            .await
            .context("the writer's encoder panicked")?
        });
        let writer = tokio::spawn({
            let (client, stop) = (self.client.clone(), Arc::clone(&stop));
            let url = self.url("/points");
            async move {
                let mut sent = 0;
                while !stop.load(Ordering::Relaxed) {
                    let body = bodies_out[sent % bodies_out.len()].clone();
                    let response = client
                        .put(&url)
                        .header(CONTENT_TYPE, "application/json")
                        .body(body)
                        .send()
                        .await
                        .with_context(|| format!("PUT {url}"))?;
                    let status = response.status();
                    let answer = response.text().await.unwrap_or_default();
                    ensure!(status == 200, "PUT {url}: {status}: {answer}");
                    sent += 1;
                }
                anyhow::Ok(sent as u64 * LOAD_BATCH)
            }
        });
        let started = Instant::now();
        let loaded = searcher(&url, bodies).await;
        stop.store(true, Ordering::Relaxed);
        let seconds = started.elapsed().as_secs_f64();
        let upserted = writer.await.context("the writer task panicked")??;
        let loaded_samples = loaded?;
        let after = self.search_counts().await?;
        let slow_loaded = Self::slow(&loaded_samples, between, after);
        let loaded = Latency::from_samples(&loaded_samples).context("no searches ran")?;
        eprintln!(
            "storage: p99 {:.2} ms idle, {:.2} ms under writes ({upserted} points upserted)",
            idle.p99_ms, loaded.p99_ms
        );
        eprintln!(
            "storage: searches over {:.1} ms: idle {} timed here, {} by the server; under writes {} timed here, {} by the server",
            SLOW_SECONDS * 1e3,
            slow_idle.client,
            slow_idle.server,
            slow_loaded.client,
            slow_loaded.server
        );
        Ok(Latencies {
            p99_ratio: loaded.p99_ms / idle.p99_ms,
            slow_idle,
            slow_loaded,
            idle,
            loaded,
            points_upserted_during_load: upserted,
            upserts_per_second: upserted as f64 / seconds,
        })
    }
}

/// [`sequential_searches`] on a thread of their own, with a client and
/// runtime of their own, asking the kernel for the short scheduler slices
/// the server's request threads ask for
/// (`trawl_index::background::prefer_short_slices`). The benchmark shares
/// the machine's cores with the server, and its searcher, woken when an
/// answer arrives while the writer's threads (same process, same priority)
/// hold the other core, would otherwise wait for the end of their slice:
/// its own scheduling measured as the server's latency under writes.
async fn searcher(url: &str, bodies: &[String]) -> Result<Vec<Duration>> {
    let (url, bodies) = (url.to_string(), bodies.to_vec());
    tokio::task::spawn_blocking(move || {
        trawl_index::background::prefer_short_slices();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("the searcher's runtime")?;
        runtime.block_on(async {
            let client = reqwest::Client::new();
            sequential_searches(&client, &url, &bodies).await
        })
    })
    .await
    .context("the searcher panicked")?
}

/// [`LATENCY_SEARCHES`] searches one after the other, cycling through `bodies`.
async fn sequential_searches(
    client: &reqwest::Client,
    url: &str,
    bodies: &[String],
) -> Result<Vec<Duration>> {
    let mut samples = Vec::with_capacity(LATENCY_SEARCHES);
    for body in bodies.iter().cycle().take(LATENCY_SEARCHES) {
        let started = Instant::now();
        search(client, url, body).await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}
