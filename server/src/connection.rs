//! Connections: accepted here and served as HTTP/1 by hyper, each behind
//! [`StrictIo`] (strict framing, timed request heads) and closed when idle.
//!
//! This replaces `axum::serve`, which offers neither timeout. hyper's own
//! "header read timeout" starts when a connection begins waiting for its next
//! request and runs until that request's head is parsed, so it serves as the
//! idle timeout (`--idle-timeout-secs`); the head itself is timed by
//! [`StrictIo`] from its first byte (`--header-read-timeout-secs`).

use std::future::Future;
use std::io;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

use crate::config::ClientTimeouts;
use crate::framing::StrictIo;

/// The connection timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Time to send a request head.
    pub header: Duration,
    /// Time a keep-alive connection may wait for its next request.
    pub idle: Duration,
}

impl From<&ClientTimeouts> for Timeouts {
    fn from(config: &ClientTimeouts) -> Self {
        Self {
            header: Duration::from_secs(config.header_read_timeout_secs),
            idle: Duration::from_secs(config.idle_timeout_secs),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops
/// accepting, lets each connection finish its request in flight (idle ones
/// close at once), and returns when all have closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    // Every connection holds a receiver of `stop` and of `open`: dropping
    // `stop`'s receivers tells them to finish; `open` closes when they have.
    let (stop_tx, stop_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(stop_rx);
    });
    let (open_tx, open_rx) = watch::channel(());
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop_tx.closed() => break,
        };
        match accepted {
            Ok((stream, _)) => {
                let (app, stop_tx, open_rx) = (app.clone(), stop_tx.clone(), open_rx.clone());
                tokio::spawn(async move {
                    connection(stream, app, timeouts, stop_tx).await;
                    drop(open_rx);
                });
            }
            Err(error) => accept_failed(&error).await,
        }
    }
    drop(listener);
    drop(open_rx);
    open_tx.closed().await;
}

/// Serves one connection until it closes; when `stop` closes, lets the request
/// in flight finish and then closes it.
async fn connection(stream: TcpStream, app: Router, timeouts: Timeouts, stop: watch::Sender<()>) {
    let io = TokioIo::new(StrictIo::new(stream, timeouts.header));
    let service = TowerToHyperService::new(
        app.map_request(|request: Request<Incoming>| request.map(Body::new)),
    );
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.idle)
        .serve_connection(io, service);
    tokio::pin!(connection);
    let outcome = tokio::select! {
        outcome = connection.as_mut() => outcome,
        () = stop.closed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = outcome {
        tracing::debug!(%error, "connection closed");
    }
}

/// After a failed accept: a client that gave up is no matter; anything else
/// (out of file descriptors) is logged and waited out for a second, as hyper
/// and axum do, rather than retried in a tight loop.
async fn accept_failed(error: &io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
