//! Trawl's HTTP server: configuration, state, routes and the glue between the
//! encoders and the index.
//!
//! [`app::router`] builds the whole axum application from an [`AppState`], so
//! tests can drive it without a socket; [`serve`] binds, loads the model in the
//! background (readiness turns 200 when it is loaded) and shuts down gracefully.

pub mod app;
pub mod auth;
pub mod body;
pub mod config;
pub mod connection;
pub mod convert;
pub mod error;
pub mod framing;
pub mod metrics;
pub mod operations;
pub mod pools;
pub mod probe;
pub mod routes;
pub mod state;

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use trawl_encoders::{BatchObserver, Embedder};

pub use app::router;
pub use config::{Cli, Command, Config};
pub use state::AppState;

/// Validates `config`, binds, and serves until SIGTERM or ctrl-c.
///
/// The model loads in the background while `/healthz` already answers; a model
/// that fails to load stops the server with the loader's error.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    config.validate().map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(&config.storage.data_dir).with_context(|| {
        format!(
            "cannot create --data-dir {}",
            config.storage.data_dir.display()
        )
    })?;
    let listener = TcpListener::bind(config.http.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.http.addr))?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    let state = AppState::new(config);
    let grace = app::shutdown_grace(&state);

    let load_failure = Arc::new(std::sync::Mutex::new(None::<anyhow::Error>));
    let stop = Arc::new(tokio::sync::Notify::new());
    tokio::spawn({
        let (state, load_failure, stop) =
            (state.clone(), Arc::clone(&load_failure), Arc::clone(&stop));
        async move {
            let outcome = tokio::task::spawn_blocking(move || {
                open_store(&state).and_then(|()| load_model(&state))
            })
            .await;
            let error = match outcome {
                Ok(Ok(())) => return,
                Ok(Err(error)) => error,
                Err(join) => anyhow::anyhow!("the model loader panicked: {join}"),
            };
            tracing::error!(error = %format!("{error:#}"), "model failed to load; stopping");
            if let Ok(mut slot) = load_failure.lock() {
                *slot = Some(error);
            }
            stop.notify_one();
        }
    });
    let stopping = {
        let stop = Arc::clone(&stop);
        async move {
            tokio::select! {
                () = shutdown_signal() => {},
                () = stop.notified() => {},
            }
        }
    };
    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
    let timeouts = connection::Timeouts::from(&state.config().clients);
    let server = connection::serve(listener, router(state), timeouts, async move {
        stopping.await;
        let _ = stopped_tx.send(());
    });
    tokio::select! {
        () = server => {},
        () = async {
            if stopped_rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => tracing::warn!(seconds = grace.as_secs(), "grace period over; dropping open requests"),
    }
    let failure = load_failure.lock().ok().and_then(|mut slot| slot.take());
    match failure {
        Some(error) => Err(error),
        None => {
            tracing::info!("stopped");
            Ok(())
        }
    }
}

fn open_store(state: &AppState) -> anyhow::Result<()> {
    let config = state.config();
    let started = std::time::Instant::now();
    let wal = trawl_index::storage::WalOptions {
        sync: config.storage.wal_sync,
        ..trawl_index::storage::WalOptions::default()
    };
    let policy = trawl_index::SealPolicy {
        points: config.storage.segment_points as usize,
        ..trawl_index::SealPolicy::default()
    };
    let store = trawl_index::Store::open_with(&config.storage.data_dir, wal, policy).with_context(
        || {
            format!(
                "cannot open the data directory {}",
                config.storage.data_dir.display()
            )
        },
    )?;
    tracing::info!(
        collections = store.list().len(),
        seconds = started.elapsed().as_secs_f64(),
        "storage open"
    );
    let (operations, queue) = operations::Operations::open(
        &config.storage.data_dir,
        config.limits.max_queued_operations,
    )
    .with_context(|| {
        format!(
            "cannot open the queued writes in {}",
            config.storage.data_dir.join("operations").display()
        )
    })?;
    state.set_operations(Arc::clone(&operations));
    state.set_store(store);
    // Runs on the server's runtime (this function runs on a blocking thread of it).
    tokio::spawn(operations::run(state.clone(), operations, queue));
    Ok(())
}

fn load_model(state: &AppState) -> anyhow::Result<()> {
    let config = state.config();
    trawl_encoders::init_runtime(&config.model.ort_lib)?;
    let started = std::time::Instant::now();
    let observer: Arc<dyn BatchObserver> = Arc::clone(state.metrics()) as Arc<dyn BatchObserver>;
    let embedder = Embedder::load(&config.embedder(), observer).with_context(|| {
        format!(
            "cannot load the model in {}",
            config.model.model_dir.display()
        )
    })?;
    tracing::info!(
        model = %embedder.spec().name,
        dims = embedder.spec().dims,
        precision = ?config.model.precision,
        seconds = started.elapsed().as_secs_f64(),
        "model loaded"
    );
    state.set_embedder(embedder);
    // Loading parses the model and the tokenizer through scratch buffers.
    trawl_index::background::release_freed_memory();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
