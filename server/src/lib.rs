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
    if let Some(peers) = state
        .config()
        .cluster
        .members()
        .map_err(anyhow::Error::msg)?
    {
        let api = listener.local_addr()?.to_string();
        let node = start_cluster(state.config(), peers, api).await?;
        state.set_cluster(node);
    }

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
    let cluster = state.cluster().cloned();
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
    if let Some(node) = cluster {
        node.shutdown().await;
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

/// Starts this node's cluster side: the metadata group (formed with
/// `peers` the first time), the replicas placed here, the cluster address.
async fn start_cluster(
    config: &Config,
    peers: std::collections::BTreeMap<u64, String>,
    api: String,
) -> anyhow::Result<Arc<trawl_cluster::Node>> {
    let cluster = &config.cluster;
    let raft = openraft_config()?;
    // A write waiting for a majority gives up before the request's own
    // timeout, so that it answers its own 503.
    let timeout = std::time::Duration::from_secs(config.http.request_timeout_secs).mul_f64(0.8);
    let options = trawl_cluster::NodeOptions {
        id: cluster.node_id.context("--node-id")?,
        dir: config.storage.data_dir.join("cluster"),
        cluster_addr: cluster.cluster_addr.clone().context("--cluster-addr")?,
        api_addr: Some(api),
        peers,
        raft,
        timeout,
        policy: trawl_index::SealPolicy {
            points: config.storage.segment_points as usize,
            ..trawl_index::SealPolicy::default()
        },
    };
    let node = trawl_cluster::Node::start(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the cluster node: {e}"))?;
    tracing::info!(node = node.id(), "cluster node started");
    Ok(node)
}

/// Raft timing for every group: a heartbeat every 200 ms, an election after
/// 1 to 2 s without one; a snapshot every 10,000 entries.
fn openraft_config() -> anyhow::Result<Arc<trawl_cluster::RaftConfig>> {
    let config = trawl_cluster::RaftConfig {
        cluster_name: "trawl".into(),
        heartbeat_interval: 200,
        election_timeout_min: 1_000,
        election_timeout_max: 2_000,
        snapshot_policy: trawl_cluster::SnapshotPolicy::LogsSinceLast(10_000),
        ..Default::default()
    };
    Ok(Arc::new(
        config.validate().map_err(|e| anyhow::anyhow!("{e}"))?,
    ))
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
