//! Shared application state.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use trawl_encoders::Embedder;
use trawl_index::Store;

use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::operations::Operations;

/// What every handler can reach; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    metrics: Arc<Metrics>,
    embedder: OnceLock<Embedder>,
    store: OnceLock<Arc<Store>>,
    operations: OnceLock<Arc<Operations>>,
    storage_open: AtomicBool,
    cluster: OnceLock<Arc<trawl_cluster::Node>>,
}

impl AppState {
    /// State with no model loaded yet and storage closed.
    pub fn new(config: Config) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                metrics: Arc::new(Metrics::new()),
                embedder: OnceLock::new(),
                store: OnceLock::new(),
                operations: OnceLock::new(),
                storage_open: AtomicBool::new(false),
                cluster: OnceLock::new(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// The default encoder, or 503 `not_ready` while it loads.
    pub fn embedder(&self) -> Result<&Embedder, ApiError> {
        self.inner.embedder.get().ok_or(ApiError::NotReady)
    }

    /// The default encoder if loaded.
    pub fn try_embedder(&self) -> Option<&Embedder> {
        self.inner.embedder.get()
    }

    /// Installs the loaded encoder (once).
    pub fn set_embedder(&self, embedder: Embedder) {
        let _ = self.inner.embedder.set(embedder);
    }

    /// Whether the data directory is open.
    pub fn storage_open(&self) -> bool {
        self.inner.storage_open.load(Ordering::Acquire)
    }

    /// The collections, or 503 `not_ready` while they are being opened.
    pub fn store(&self) -> Result<&Arc<Store>, ApiError> {
        self.inner.store.get().ok_or(ApiError::NotReady)
    }

    /// The queue of writes accepted with `wait=false`, or 503 `not_ready`
    /// while storage is being opened.
    pub fn operations(&self) -> Result<&Arc<Operations>, ApiError> {
        self.inner.operations.get().ok_or(ApiError::NotReady)
    }

    /// Installs the queue of writes (before the store).
    pub fn set_operations(&self, operations: Arc<Operations>) {
        let _ = self.inner.operations.set(operations);
    }

    /// This node's cluster side, when it runs as a cluster node.
    pub fn cluster(&self) -> Option<&Arc<trawl_cluster::Node>> {
        self.inner.cluster.get()
    }

    /// Sets the cluster side (once, at start-up).
    pub fn set_cluster(&self, node: Arc<trawl_cluster::Node>) {
        let _ = self.inner.cluster.set(node);
    }

    /// Installs the opened store and marks storage open.
    pub fn set_store(&self, store: Store) {
        let _ = self.inner.store.set(Arc::new(store));
        self.inner.storage_open.store(true, Ordering::Release);
    }
}
