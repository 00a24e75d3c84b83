//! Prometheus metrics: an owned registry per server (no globals), rendered by `GET /metrics`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use trawl_encoders::{BatchObserver, BatchStats};
use trawl_index::CollectionStats;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CollectionLabels {
    collection: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BytesLabels {
    collection: String,
    part: String,
}

/// The server's metrics.
pub struct Metrics {
    collection_points: Family<CollectionLabels, Gauge>,
    collection_ram: Family<BytesLabels, Gauge>,
    collection_disk: Family<BytesLabels, Gauge>,
    collections_damaged: Gauge,
    operations_pending: Gauge,
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    queue_depth: Gauge,
    batches: Counter,
    batch_texts: Histogram,
    batch_padded_tokens: Histogram,
    embedded_texts: Counter,
    embedded_tokens: Counter,
    queue_wait: Histogram,
    inference: Histogram,
    query_stages: Family<StageLabels, Histogram>,
}

fn latency_histogram() -> Histogram {
    // 0.1 ms .. ~6.5 s
    Histogram::new(exponential_buckets(0.000_1, 2.0, 17))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("trawl");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency, by method and route template",
            latency.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "embed_queue_depth",
            "Texts admitted to the embedding queue and not yet answered",
            queue_depth.clone(),
        );
        let batches = Counter::default();
        registry.register("embed_batches", "Encoder batches run", batches.clone());
        let batch_texts = Histogram::new(exponential_buckets(1.0, 2.0, 9));
        registry.register(
            "embed_batch_texts",
            "Texts per encoder batch",
            batch_texts.clone(),
        );
        let batch_padded_tokens = Histogram::new(exponential_buckets(16.0, 2.0, 12));
        registry.register(
            "embed_batch_padded_tokens",
            "Padded tokens (texts × longest) per encoder batch",
            batch_padded_tokens.clone(),
        );
        let embedded_texts = Counter::default();
        registry.register("embed_texts", "Texts embedded", embedded_texts.clone());
        let embedded_tokens = Counter::default();
        registry.register(
            "embed_tokens",
            "Tokens embedded (without padding)",
            embedded_tokens.clone(),
        );
        let queue_wait = latency_histogram();
        registry.register(
            "embed_queue_wait_seconds",
            "Time the oldest text of a batch waited in the queue",
            queue_wait.clone(),
        );
        let inference = latency_histogram();
        registry.register(
            "embed_inference_seconds",
            "Time one batch spent in the model",
            inference.clone(),
        );
        let collection_points = Family::<CollectionLabels, Gauge>::default();
        registry.register(
            "collection_points",
            "Live points, by collection",
            collection_points.clone(),
        );
        let collection_ram = Family::<BytesLabels, Gauge>::default();
        registry.register(
            "collection_ram_bytes",
            "Bytes a collection holds in memory, by part (vectors, codes, graph, payload_index, payloads, ids, text)",
            collection_ram.clone(),
        );
        let collections_damaged = Gauge::default();
        registry.register(
            "collections_damaged",
            "Collections refused at start-up because their files are damaged (listed with their error by GET /collections)",
            collections_damaged.clone(),
        );
        let operations_pending = Gauge::default();
        registry.register(
            "operations_pending",
            "Upserts accepted with wait=false and not finished (queued or running)",
            operations_pending.clone(),
        );
        let query_stages = Family::<StageLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "query_stage_duration_seconds",
            "Time a query spent per kind of stage: dense (vector stages, their texts' embedding included), lexical (BM25), sparse (sparse vectors), fusion (ranking the stages' hits and reading the fused hits' payloads)",
            query_stages.clone(),
        );
        let collection_disk = Family::<BytesLabels, Gauge>::default();
        registry.register(
            "collection_disk_bytes",
            "Bytes a collection holds on disk, by part (vectors_file, payloads_file, wal, segments_file, text_file, sparse_file)",
            collection_disk.clone(),
        );
        Self {
            collection_points,
            collection_ram,
            collection_disk,
            collections_damaged,
            operations_pending,
            registry,
            requests,
            latency,
            queue_depth,
            batches,
            batch_texts,
            batch_padded_tokens,
            embedded_texts,
            embedded_tokens,
            queue_wait,
            inference,
            query_stages,
        }
    }

    /// Records the time a query spent in its stages of one `kind`
    /// (`dense`, `lexical`, `fusion`).
    pub fn observe_query_stage(&self, kind: &str, seconds: f64) {
        self.query_stages
            .get_or_create(&StageLabels {
                kind: kind.to_string(),
            })
            .observe(seconds);
    }

    /// Renders the registry in the Prometheus / OpenMetrics text format, with
    /// the collections' current sizes.
    pub fn render(
        &self,
        queue_depth: usize,
        collections: &[(String, CollectionStats)],
        damaged: usize,
        operations_pending: usize,
    ) -> String {
        self.operations_pending
            .set(i64::try_from(operations_pending).unwrap_or(i64::MAX));
        self.queue_depth
            .set(i64::try_from(queue_depth).unwrap_or(i64::MAX));
        self.collections_damaged
            .set(i64::try_from(damaged).unwrap_or(i64::MAX));
        let gauge = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
        // Deleted collections drop out.
        self.collection_points.clear();
        self.collection_ram.clear();
        self.collection_disk.clear();
        for (name, stats) in collections {
            self.collection_points
                .get_or_create(&CollectionLabels {
                    collection: name.clone(),
                })
                .set(gauge(stats.points));
            for (part, in_memory, bytes) in stats.memory.parts() {
                let family = if in_memory {
                    &self.collection_ram
                } else {
                    &self.collection_disk
                };
                family
                    .get_or_create(&BytesLabels {
                        collection: name.clone(),
                        part: part.to_string(),
                    })
                    .set(gauge(bytes));
            }
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_string(),
                route: route.to_string(),
            })
            .observe(seconds);
    }
}

impl BatchObserver for Metrics {
    fn batch_done(&self, stats: &BatchStats) {
        self.batches.inc();
        self.batch_texts.observe(stats.texts as f64);
        self.batch_padded_tokens.observe(stats.padded_tokens as f64);
        self.embedded_texts.inc_by(stats.texts as u64);
        self.embedded_tokens.inc_by(stats.tokens as u64);
        self.queue_wait.observe(stats.queue_wait.as_secs_f64());
        self.inference.observe(stats.inference.as_secs_f64());
    }
}

/// Middleware counting every answer by route template (not raw path, to bound cardinality).
pub async fn track(
    State(metrics): State<std::sync::Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    metrics.observe_request(&method, &route, status, seconds);
    log_failure(status, &route, seconds);
    response
}

/// A server-side failure in the log: a 500 at ERROR (its cause was logged
/// where it arose), other 5xx (overloaded, timed out, storage full, a
/// damaged collection) at WARN, and `/readyz`'s 503 while the server starts
/// at DEBUG: it is the probe's answer, not a fault.
fn log_failure(status: u16, route: &str, seconds: f64) {
    let ms = (seconds * 1e3).round() as u64;
    match status {
        500 => tracing::error!(status, route, ms, "request failed"),
        503 if route == "/readyz" => tracing::debug!(status, route, ms, "not ready yet"),
        s if s >= 500 => tracing::warn!(status, route, ms, "request not served"),
        _ => {}
    }
}
