//! Request bodies are read whole before a request asks for an admission slot,
//! bounded in size (`--max-body-bytes`) and in time: a body must have sent n
//! bytes by `--body-read-timeout-secs` plus n / `--min-body-bytes-per-sec`
//! seconds (the rule of Apache's `mod_reqtimeout`). A slow sender therefore
//! holds its connection for a bounded time and never one of the
//! `--max-concurrent-requests` slots.
//!
//! A body declared larger than the limit is answered 413 before any of it is
//! read. The rest of an over-limit body is then read and discarded, up to
//! `--max-drain-bytes` and at the same minimum rate, before the connection is
//! closed (as nginx's lingering close does): a client that writes its whole
//! body before it reads (Python's urllib, `requests`) would otherwise see its
//! writes fail with a reset instead of reading the 413. A client that sent
//! `Expect: 100-continue` has sent no body: it gets the 413 without a
//! `100 Continue`, and nothing is read.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use crate::config::Config;
use crate::error::ApiError;

/// How request bodies are read.
#[derive(Debug, Clone, Copy)]
pub struct BodyRules {
    /// The largest body read (`--max-body-bytes`).
    pub limit: usize,
    /// Time before the minimum rate applies (`--body-read-timeout-secs`).
    pub grace: Duration,
    /// Bytes per second a body must average after the grace (`--min-body-bytes-per-sec`).
    pub min_rate: u64,
    /// The most bytes of an over-limit body read and discarded (`--max-drain-bytes`).
    pub max_drain: u64,
}

impl BodyRules {
    /// The rules `config` sets.
    pub fn new(config: &Config) -> Self {
        Self {
            limit: config.limits.max_body_bytes,
            grace: Duration::from_secs(config.clients.body_read_timeout_secs),
            min_rate: config.clients.min_body_bytes_per_sec.max(1),
            max_drain: config.clients.max_drain_bytes,
        }
    }

    /// How much longer a body that has sent `received` bytes since `started`
    /// may take to send more.
    fn patience(&self, started: Instant, received: u64) -> Duration {
        let earned = Duration::from_millis(received.saturating_mul(1_000) / self.min_rate);
        self.grace
            .saturating_add(earned)
            .saturating_sub(started.elapsed())
    }

    fn too_slow(&self) -> ApiError {
        ApiError::BodyTimeout {
            grace_secs: self.grace.as_secs(),
            min_rate: self.min_rate,
        }
    }
}

/// Middleware: reads the request's body into memory, then runs the request.
pub async fn read_first(
    State(rules): State<Arc<BodyRules>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let declared = body.size_hint();
    if declared.exact() == Some(0) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let too_large = ApiError::BodyTooLarge { limit: rules.limit };
    if declared.lower() > rules.limit as u64 {
        let expects_continue = parts
            .headers
            .get(header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        if !expects_continue && declared.lower() <= rules.max_drain {
            tokio::spawn(drain(body, *rules));
        }
        return closing(too_large);
    }
    match read(body, &rules).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(Unread::TooLarge(rest)) => {
            tokio::spawn(drain(rest, *rules));
            closing(too_large)
        }
        Err(Unread::TooSlow) => closing(rules.too_slow()),
        Err(Unread::Failed(error)) => closing(ApiError::IncompleteBody(error.to_string())),
    }
}

/// Hands `body` to `tx` a chunk at a time, within the rules' minimum rate
/// and `limit` bytes, for a route that streams its body (a snapshot
/// restore) instead of reading it first. True once the whole body went to
/// `tx`, false when the receiver stopped taking it.
pub async fn forward(
    mut body: Body,
    rules: &BodyRules,
    limit: u64,
    tx: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) -> Result<bool, ApiError> {
    let too_large = ApiError::BodyTooLarge {
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    };
    if body.size_hint().lower() > limit {
        return Err(too_large);
    }
    let started = Instant::now();
    let mut received = 0_u64;
    loop {
        let patience = rules.patience(started, received);
        match tokio::time::timeout(patience, next_data(&mut body)).await {
            Err(_) => return Err(rules.too_slow()),
            Ok(None) => return Ok(true),
            Ok(Some(Err(error))) => return Err(ApiError::IncompleteBody(error.to_string())),
            Ok(Some(Ok(data))) => {
                received += data.len() as u64;
                if received > limit {
                    return Err(too_large);
                }
                if tx.send(Ok(data)).await.is_err() {
                    return Ok(false);
                }
            }
        }
    }
}

/// Why a body was not read.
enum Unread {
    /// It passed the limit; the rest is still to come.
    TooLarge(Body),
    /// It fell behind the minimum rate.
    TooSlow,
    /// The client broke off, or its framing was refused.
    Failed(axum::Error),
}

async fn read(mut body: Body, rules: &BodyRules) -> Result<Vec<u8>, Unread> {
    let started = Instant::now();
    let mut bytes = Vec::new();
    loop {
        let patience = rules.patience(started, bytes.len() as u64);
        match tokio::time::timeout(patience, next_data(&mut body)).await {
            Err(_) => return Err(Unread::TooSlow),
            Ok(None) => return Ok(bytes),
            Ok(Some(Err(error))) => return Err(Unread::Failed(error)),
            Ok(Some(Ok(data))) => {
                if bytes.len() + data.len() > rules.limit {
                    return Err(Unread::TooLarge(body));
                }
                bytes.extend_from_slice(&data);
            }
        }
    }
}

/// Reads and discards the rest of an over-limit body, within the rules; the
/// connection closes when it returns.
async fn drain(mut body: Body, rules: BodyRules) {
    let started = Instant::now();
    let mut drained = 0_u64;
    while drained <= rules.max_drain {
        let patience = rules.patience(started, drained);
        match tokio::time::timeout(patience, next_data(&mut body)).await {
            Ok(Some(Ok(data))) => drained += data.len() as u64,
            Ok(None) => return,
            Ok(Some(Err(_))) | Err(_) => break,
        }
    }
    tracing::debug!(drained, "stopped draining an over-limit body");
}

/// The body's next data (trailers are skipped), or `None` at its end.
async fn next_data(body: &mut Body) -> Option<Result<Bytes, axum::Error>> {
    loop {
        match poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await? {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    return Some(Ok(data));
                }
            }
            Err(error) => return Some(Err(error)),
        }
    }
}

/// `error`'s answer, closing the connection: what is left of the body is not
/// read as a next request.
fn closing(error: ApiError) -> Response {
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> BodyRules {
        BodyRules {
            limit: 16,
            grace: Duration::from_secs(2),
            min_rate: 1_000,
            max_drain: 64,
        }
    }

    #[test]
    fn patience_grows_with_what_has_arrived() {
        let started = Instant::now();
        let rules = rules();
        let none = rules.patience(started, 0);
        assert!(none <= Duration::from_secs(2) && none > Duration::from_millis(1_900));
        let some = rules.patience(started, 3_000);
        assert!(some > Duration::from_millis(4_900), "{some:?}");
        let past = rules.patience(started - Duration::from_secs(10), 1_000);
        assert_eq!(past, Duration::ZERO);
    }

    #[tokio::test]
    async fn bodies_within_the_limit_are_read_whole() {
        let bytes = read(Body::from("0123456789"), &rules()).await;
        assert_eq!(bytes.ok().as_deref(), Some(&b"0123456789"[..]));
        let over = read(Body::from("0123456789abcdefg"), &rules()).await;
        assert!(matches!(over, Err(Unread::TooLarge(_))));
    }

    #[tokio::test]
    async fn a_body_that_stops_is_too_slow_after_the_grace() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        tx.send(Ok(Bytes::from_static(b"ab"))).await.expect("send");
        let body = Body::from_stream(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)));
        let rules = BodyRules {
            grace: Duration::from_millis(200),
            ..rules()
        };
        let started = Instant::now();
        let outcome = read(body, &rules).await;
        assert!(matches!(outcome, Err(Unread::TooSlow)));
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(200) && waited < Duration::from_secs(1),
            "{waited:?}"
        );
        drop(tx);
    }
}
