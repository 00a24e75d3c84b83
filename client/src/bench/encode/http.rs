//! The HTTP path: a closed loop of concurrent single-text `POST /embed` requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;
use serde::de::IgnoredAny;
use tokio::task::JoinSet;
use trawl_proto::{EmbedKind, EmbedRequest};

/// One timed run of the closed loop.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Wall time from the first request sent to the last answer received.
    pub seconds: f64,
    /// One latency per request (one text each).
    pub latencies: Vec<Duration>,
    /// Tokens the server reports having embedded.
    pub tokens: u64,
}

/// An HTTP client for loopback benchmarks: no proxy, no Nagle delay.
pub fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()
        .context("cannot build the HTTP client")
}

/// Sends each of `texts` once, one at a time, untimed.
pub async fn warm_up(client: &reqwest::Client, base_url: &str, texts: &[String]) -> Result<()> {
    let endpoint = format!("{base_url}/embed");
    for text in texts {
        embed_one(client, &endpoint, text).await?;
    }
    Ok(())
}

/// Sends every text of `texts` as its own request from `concurrency` tasks.
///
/// Closed loop: each task sends its next request as soon as the previous one
/// is answered, taking the next unsent text from a shared index, until all
/// texts are sent. Any failed request fails the run.
pub async fn closed_loop(
    client: &reqwest::Client,
    base_url: &str,
    texts: Arc<Vec<String>>,
    concurrency: usize,
) -> Result<Run> {
    let endpoint: Arc<str> = format!("{base_url}/embed").into();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let (client, endpoint, texts, next) = (
            client.clone(),
            Arc::clone(&endpoint),
            Arc::clone(&texts),
            Arc::clone(&next),
        );
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut tokens = 0;
            while let Some(text) = texts.get(next.fetch_add(1, Ordering::Relaxed)) {
                let sent = Instant::now();
                tokens += embed_one(&client, &endpoint, text).await?;
                latencies.push(sent.elapsed());
            }
            anyhow::Ok((latencies, tokens))
        });
    }
    let mut run = Run {
        seconds: 0.0,
        latencies: Vec::with_capacity(texts.len()),
        tokens: 0,
    };
    while let Some(joined) = tasks.join_next().await {
        let (latencies, tokens) = joined.context("a client task panicked")??;
        run.latencies.extend(latencies);
        run.tokens += tokens;
    }
    run.seconds = started.elapsed().as_secs_f64();
    Ok(run)
}

/// What the benchmark reads of an embed response: how many embeddings came
/// back, and the tokens. The vectors themselves are skipped, not parsed (the
/// server's contract tests check them): parsing 384 floats per answer would
/// spend the client's share of the same two cores the server runs on.
#[derive(Deserialize)]
struct Answer {
    embeddings: Vec<IgnoredAny>,
    usage: Tokens,
}

#[derive(Deserialize)]
struct Tokens {
    tokens: u64,
}

/// Embeds one text as `float`; returns the tokens the server reports.
async fn embed_one(client: &reqwest::Client, endpoint: &str, text: &str) -> Result<u64> {
    let request = EmbedRequest {
        inputs: vec![text.to_string()],
        kind: EmbedKind::Float,
        dims: None,
        bits: None,
        binary_encoding: None,
    };
    let response = client
        .post(endpoint)
        .json(&request)
        .send()
        .await
        .with_context(|| format!("POST {endpoint}"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        bail!("POST {endpoint}: {status}: {body}");
    }
    let answer: Answer = response
        .json()
        .await
        .with_context(|| format!("POST {endpoint}: not an embed response"))?;
    ensure!(
        answer.embeddings.len() == 1,
        "POST {endpoint}: {} embeddings for one input",
        answer.embeddings.len()
    );
    Ok(answer.usage.tokens)
}
