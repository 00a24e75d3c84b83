//! Command line and environment configuration: one clap struct, validated at start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use trawl_encoders::{BatchLimits, EmbedderConfig, Precision};

use crate::auth::{Auth, Secret};

/// Trawl: embed text, index it, answer filtered similarity queries.
#[derive(Debug, Parser)]
#[command(name = "trawl", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The binary's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve(Box<Config>),
    /// Ask a running server whether it is ready (`GET /readyz`); exit 0 when it
    /// answers 200, 1 otherwise. For container health checks, where no `curl` exists.
    Probe(ProbeArgs),
    /// Import a file of documents (JSON Lines, CSV, TSV, Parquet) into a
    /// collection of a running server, in batches, resumably.
    Import(Box<trawl_client::import::ImportArgs>),
    /// Print the OpenAPI document (the one `GET /openapi.json` serves) to
    /// standard output, without starting a server: for client generators.
    Openapi,
}

/// Where and how long to probe.
#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    /// The server's address, `host:port`.
    #[arg(long, env = "TRAWL_PROBE_ADDR", default_value = "127.0.0.1:6390")]
    pub addr: String,
    /// The path to ask.
    #[arg(long, default_value = "/readyz")]
    pub path: String,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 3)]
    pub timeout_secs: u64,
}

/// Everything the server needs to start.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Network.
    #[command(flatten)]
    pub http: HttpConfig,
    /// How long clients may take.
    #[command(flatten)]
    pub clients: ClientTimeouts,
    /// Storage.
    #[command(flatten)]
    pub storage: StorageConfig,
    /// The default encoder.
    #[command(flatten)]
    pub model: ModelConfig,
    /// Request limits.
    #[command(flatten)]
    pub limits: LimitsConfig,
    /// API keys.
    #[command(flatten)]
    pub auth: AuthConfig,
    /// Cluster membership (none: a single node).
    #[command(flatten)]
    pub cluster: ClusterConfig,
}

/// A node of a cluster (see docs/cluster.md). Without these flags the server
/// is a single node, its storage exactly as before.
#[derive(Debug, Clone, Args)]
pub struct ClusterConfig {
    /// This node's id in the cluster: a positive integer, unique, never
    /// reused for another node.
    #[arg(long, env = "TRAWL_NODE_ID", value_parser = clap::value_parser!(u64).range(1..))]
    pub node_id: Option<u64>,
    /// The address the cluster's Raft traffic and forwarded requests use on
    /// this node, `host:port` as the other nodes reach it (it listens on
    /// that port on every interface), apart from the API's `--addr`.
    #[arg(long, env = "TRAWL_CLUSTER_ADDR")]
    pub cluster_addr: Option<String>,
    /// The cluster's first members, this node included:
    /// `1=host:port,2=host:port,3=host:port` (cluster addresses). The
    /// cluster forms once, whichever node starts first; later starts find
    /// it formed.
    #[arg(long, env = "TRAWL_PEERS")]
    pub peers: Option<String>,
}

impl ClusterConfig {
    /// The peers by id, checked against the node's own id and address;
    /// `None` for a single node.
    pub fn members(&self) -> Result<Option<std::collections::BTreeMap<u64, String>>, String> {
        let (id, addr, peers) = match (self.node_id, &self.cluster_addr, &self.peers) {
            (None, None, None) => return Ok(None),
            (Some(id), Some(addr), Some(peers)) => (id, addr, peers),
            _ => {
                return Err(
                    "--node-id, --cluster-addr and --peers go together: give all three for a cluster node, none for a single node".into(),
                );
            }
        };
        let mut members = std::collections::BTreeMap::new();
        for part in peers.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (peer, peer_addr) = part
                .split_once('=')
                .ok_or_else(|| format!("--peers: {part:?} is not id=host:port"))?;
            let peer: u64 = peer
                .trim()
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("--peers: {peer:?} is not a positive node id"))?;
            let peer_addr = peer_addr.trim();
            if peer_addr
                .rsplit_once(':')
                .is_none_or(|(_, port)| port.parse::<u16>().is_err())
            {
                return Err(format!(
                    "--peers: {peer_addr:?} (node {peer}) is not host:port"
                ));
            }
            if members.insert(peer, peer_addr.to_string()).is_some() {
                return Err(format!("--peers names node {peer} twice"));
            }
        }
        match members.get(&id) {
            None => Err(format!("--peers does not name this node (--node-id {id})")),
            Some(own) if own != addr => Err(format!(
                "--peers gives node {id} the address {own}, --cluster-addr says {addr}"
            )),
            Some(_) => Ok(Some(members)),
        }
    }
}

/// API keys (see docs/configuration.md, Security). Values never appear in
/// `--help`, `Debug` output or the logs.
#[derive(Debug, Clone, Args)]
pub struct AuthConfig {
    /// Key for every route, sent as `Authorization: Bearer <key>` or `api-key: <key>`;
    /// unset leaves the API open. At least 16 printable characters.
    #[arg(long, env = "TRAWL_API_KEY", hide_env_values = true)]
    pub api_key: Option<Secret>,
    /// Key for reads only (GET, embed, search); writes with it get 403. Needs `--api-key` too.
    #[arg(long, env = "TRAWL_READ_ONLY_API_KEY", hide_env_values = true)]
    pub read_only_api_key: Option<Secret>,
    /// Serve `/metrics` without a key even when keys are set (for a scraper on a trusted network).
    #[arg(long, env = "TRAWL_PUBLIC_METRICS")]
    pub public_metrics: bool,
}

impl AuthConfig {
    /// The middleware's view of the keys.
    pub fn auth(&self) -> Auth {
        Auth::new(
            self.api_key.clone(),
            self.read_only_api_key.clone(),
            self.public_metrics,
        )
    }
}

/// Network settings.
#[derive(Debug, Clone, Args)]
pub struct HttpConfig {
    /// Address to listen on.
    #[arg(long, env = "TRAWL_ADDR", default_value = "127.0.0.1:6390")]
    pub addr: SocketAddr,
    /// Requests running longer than this many seconds are answered 503 `timeout`.
    #[arg(long, env = "TRAWL_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// API requests served at once; more wait (see `--max-queue-wait-ms`), then
    /// are refused with 503 `overloaded` (health, readiness and metrics are
    /// exempt). 0: 64 per core, twice the concurrency at which text searches
    /// stop gaining throughput on 2 cores.
    #[arg(long, env = "TRAWL_MAX_CONCURRENT_REQUESTS", default_value_t = 0)]
    pub max_concurrent_requests: usize,
    /// How long a request may wait for one of the `--max-concurrent-requests`
    /// slots before it is refused with 503 `overloaded` and `Retry-After: 1`.
    #[arg(long, env = "TRAWL_MAX_QUEUE_WAIT_MS", default_value_t = 500)]
    pub max_queue_wait_ms: u64,
    /// Seconds to let in-flight requests finish after SIGTERM or ctrl-c.
    #[arg(long, env = "TRAWL_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, env = "TRAWL_LOG_JSON")]
    pub log_json: bool,
    /// Serve the web console's files from this directory, read at each
    /// request, instead of the copies built into the binary (for working on
    /// the console without rebuilding).
    #[arg(long, env = "TRAWL_CONSOLE_DIR")]
    pub console_dir: Option<PathBuf>,
}

/// How long clients may take to send a request, and to come back with the
/// next: slow and abandoned connections are cut off, so that they cannot hold
/// the server. A request's body is read before it asks for one of the
/// `--max-concurrent-requests` slots, so a slow sender never holds one.
#[derive(Debug, Clone, Args)]
pub struct ClientTimeouts {
    /// Seconds a client has to send a request's head (request line and
    /// headers), counted from the connection's start for its first request and
    /// from the head's first byte for later ones; slower clients are
    /// disconnected.
    #[arg(long, env = "TRAWL_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,
    /// Seconds a request body may take before it must keep up with
    /// `--min-body-bytes-per-sec`: a body must have sent n bytes by this many
    /// seconds plus n / rate after its head, or it is answered 408
    /// `body_timeout` and the connection is closed.
    #[arg(long, env = "TRAWL_BODY_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub body_read_timeout_secs: u64,
    /// The slowest average rate, in bytes per second, at which a request body
    /// may arrive (after `--body-read-timeout-secs`).
    #[arg(long, env = "TRAWL_MIN_BODY_BYTES_PER_SEC", default_value_t = 1_024)]
    pub min_body_bytes_per_sec: u64,
    /// Seconds a keep-alive connection may wait for its next request; the
    /// time to send that request's head counts too.
    #[arg(long, env = "TRAWL_IDLE_TIMEOUT_SECS", default_value_t = 75)]
    pub idle_timeout_secs: u64,
    /// A body over `--max-body-bytes` is answered 413 at once, then read and
    /// discarded (at `--min-body-bytes-per-sec`) up to this many bytes before
    /// the connection is closed, so that clients that send the whole body
    /// before reading (Python's urllib and requests) can read the 413. A
    /// longer body, or one sent with `Expect: 100-continue`, is not read.
    #[arg(long, env = "TRAWL_MAX_DRAIN_BYTES", default_value_t = 128 * 1024 * 1024)]
    pub max_drain_bytes: u64,
}

/// Storage settings.
#[derive(Debug, Clone, Args)]
pub struct StorageConfig {
    /// Directory for collections, write-ahead logs and snapshots (created if missing).
    #[arg(long, env = "TRAWL_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Fsync the write-ahead log before acknowledging writes (turning it off loses acknowledged writes on a crash).
    #[arg(long, env = "TRAWL_WAL_SYNC", default_value_t = true, action = clap::ArgAction::Set)]
    pub wal_sync: bool,
    /// Points a collection's appendable segment takes before it is frozen and
    /// sealed into an immutable segment with its own HNSW graph (points not
    /// sealed yet are searched by exact scan).
    #[arg(long, env = "TRAWL_SEGMENT_POINTS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub segment_points: u64,
}

/// The default encoder's settings.
#[derive(Debug, Clone, Args)]
pub struct ModelConfig {
    /// Model directory with `trawl-model.json`, the ONNX graph(s) and `tokenizer.json`.
    #[arg(
        long,
        env = "TRAWL_MODEL_DIR",
        default_value = "models/all-minilm-l6-v2"
    )]
    pub model_dir: PathBuf,
    /// Path of the ONNX Runtime shared library (`libonnxruntime.so`).
    #[arg(
        long,
        env = "TRAWL_ORT_LIB",
        default_value = "vendor/onnxruntime/libonnxruntime.so.1.31.1"
    )]
    pub ort_lib: PathBuf,
    /// Weights to run: `fp32` or `int8`.
    #[arg(long, env = "TRAWL_PRECISION", default_value = "fp32")]
    pub precision: Precision,
    /// ONNX sessions, each on its own thread; 0: one per core, at most 4.
    /// Several single-threaded sessions give the most texts per second under
    /// concurrent load; one session with a thread per core (`--encoder-workers
    /// 1`) gives the lowest latency for a lone request.
    #[arg(long, env = "TRAWL_ENCODER_WORKERS", default_value_t = 0)]
    pub encoder_workers: usize,
    /// Intra-op threads per session; 0: the cores divided by the sessions.
    #[arg(long, env = "TRAWL_ENCODER_THREADS", default_value_t = 0)]
    pub encoder_threads: usize,
    /// Let idle ONNX Runtime intra-op threads spin (only matters with several threads per session).
    #[arg(long, env = "TRAWL_ENCODER_SPIN", default_value_t = true, action = clap::ArgAction::Set)]
    pub encoder_spin: bool,
    /// Token budget of one batch: real tokens when the graph packs several texts
    /// into a row (`"segment_mask": true`), else padded length × texts.
    #[arg(long, env = "TRAWL_MAX_BATCH_TOKENS", default_value_t = 1_024)]
    pub max_batch_tokens: usize,
    /// Texts in one batch at most.
    #[arg(long, env = "TRAWL_MAX_BATCH_SIZE", default_value_t = 64)]
    pub max_batch_size: usize,
    /// For graphs that take one text per padded row: the fixed cost of one batch
    /// in padded tokens' worth of model time; a text joins a batch only if that
    /// does not raise the batch's cost per real token, so lengths are grouped
    /// and little padding is computed. Packed graphs need no grouping.
    #[arg(long, env = "TRAWL_BATCH_OVERHEAD_TOKENS", default_value_t = trawl_encoders::DEFAULT_BATCH_OVERHEAD_TOKENS)]
    pub batch_overhead_tokens: usize,
    /// Texts that may wait for the encoder at once; past that, embed requests get 429.
    #[arg(long, env = "TRAWL_QUEUE_CAPACITY", default_value_t = 2_048)]
    pub queue_capacity: usize,
}

/// Request limits.
#[derive(Debug, Clone, Args)]
pub struct LimitsConfig {
    /// Largest request body in bytes; larger ones get 413.
    #[arg(long, env = "TRAWL_MAX_BODY_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Most texts in one embed request; more get 413.
    #[arg(long, env = "TRAWL_MAX_INPUTS", default_value_t = 256)]
    pub max_inputs: usize,
    /// Most inputs in one `POST /v1/embeddings` (OpenAI allows 2,048; they
    /// are embedded --max-inputs at a time); more get 413.
    #[arg(long, env = "TRAWL_MAX_OPENAI_INPUTS", default_value_t = 2_048)]
    pub max_openai_inputs: usize,
    /// Most points in one upsert; more get 413.
    #[arg(long, env = "TRAWL_MAX_UPSERT_POINTS", default_value_t = 10_000)]
    pub max_upsert_points: usize,
    /// Writes accepted with `wait=false` that may wait at once (each up to
    /// --max-upsert-points, kept on disk until written); past that, 429.
    #[arg(long, env = "TRAWL_MAX_QUEUED_OPERATIONS", default_value_t = 64)]
    pub max_queued_operations: usize,
    /// Largest `limit` of a search.
    #[arg(long, env = "TRAWL_MAX_LIMIT", default_value_t = 1_000)]
    pub max_limit: usize,
    /// Most token vectors in one multi-vector (per point or query); more get 413.
    #[arg(long, env = "TRAWL_MAX_MULTIVECTOR_TOKENS", default_value_t = 1_024)]
    pub max_multivector_tokens: usize,
    /// Most searches in one batch request.
    #[arg(long, env = "TRAWL_MAX_BATCH_SEARCHES", default_value_t = 256)]
    pub max_batch_searches: usize,
    /// Deepest nesting of a filter.
    #[arg(long, env = "TRAWL_MAX_FILTER_DEPTH", default_value_t = 8)]
    pub max_filter_depth: usize,
    /// Most conditions in one filter.
    #[arg(long, env = "TRAWL_MAX_FILTER_CONDITIONS", default_value_t = 256)]
    pub max_filter_conditions: usize,
    /// Most dimensions of a collection's vectors (at most 65,536).
    #[arg(long, env = "TRAWL_MAX_DIMS", default_value_t = 65_536)]
    pub max_dims: usize,
    /// Largest `params.ef` of a search (at most 16,384).
    #[arg(long, env = "TRAWL_MAX_EF", default_value_t = 4_096)]
    pub max_ef: usize,
    /// Largest `params.oversample` of a search (at most 1,000): the rerank reads
    /// `limit × oversample` full vectors from disk.
    #[arg(long, env = "TRAWL_MAX_OVERSAMPLE", default_value_t = 100)]
    pub max_oversample: usize,
    /// Largest payload of one point, in bytes of compact JSON.
    #[arg(long, env = "TRAWL_MAX_PAYLOAD_BYTES", default_value_t = 256 * 1024)]
    pub max_payload_bytes: usize,
    /// Largest snapshot archive `PUT /collections/{c}/snapshots/restore`
    /// reads (streamed to disk, never held in memory); larger ones get 413.
    #[arg(long, env = "TRAWL_MAX_SNAPSHOT_UPLOAD_BYTES", default_value_t = 64 << 30)]
    pub max_snapshot_upload_bytes: u64,
    /// Deepest nesting of objects and arrays in a payload (`{"a": 1}` is 1).
    #[arg(long, env = "TRAWL_MAX_PAYLOAD_DEPTH", default_value_t = 16)]
    pub max_payload_depth: usize,
}

impl Config {
    /// Checks what clap cannot: files exist, numbers are in range.
    pub fn validate(&self) -> Result<(), String> {
        self.cluster.members()?;
        if self.auth.read_only_api_key.is_some() && self.auth.api_key.is_none() {
            return Err(
                "--read-only-api-key needs --api-key as well, or nothing could write".into(),
            );
        }
        if self.auth.read_only_api_key.is_some() && self.auth.read_only_api_key == self.auth.api_key
        {
            return Err("--read-only-api-key must differ from --api-key".into());
        }
        let spec = self.model.model_dir.join(trawl_encoders::SPEC_FILE);
        if !spec.is_file() {
            return Err(format!(
                "--model-dir {}: no {} there (run `make setup` to export the default model)",
                self.model.model_dir.display(),
                trawl_encoders::SPEC_FILE
            ));
        }
        if !self.model.ort_lib.is_file() {
            return Err(format!(
                "--ort-lib {}: no such file (run `make setup` to unpack ONNX Runtime)",
                self.model.ort_lib.display()
            ));
        }
        let positive = [
            (
                "--request-timeout-secs",
                self.http.request_timeout_secs as usize,
            ),
            (
                "--header-read-timeout-secs",
                self.clients.header_read_timeout_secs as usize,
            ),
            (
                "--body-read-timeout-secs",
                self.clients.body_read_timeout_secs as usize,
            ),
            (
                "--min-body-bytes-per-sec",
                self.clients.min_body_bytes_per_sec as usize,
            ),
            (
                "--idle-timeout-secs",
                self.clients.idle_timeout_secs as usize,
            ),
            ("--max-batch-tokens", self.model.max_batch_tokens),
            ("--max-batch-size", self.model.max_batch_size),
            ("--queue-capacity", self.model.queue_capacity),
            ("--max-body-bytes", self.limits.max_body_bytes),
            ("--max-inputs", self.limits.max_inputs),
            ("--max-openai-inputs", self.limits.max_openai_inputs),
            ("--max-upsert-points", self.limits.max_upsert_points),
            ("--max-queued-operations", self.limits.max_queued_operations),
            ("--max-limit", self.limits.max_limit),
            (
                "--max-multivector-tokens",
                self.limits.max_multivector_tokens,
            ),
            ("--max-batch-searches", self.limits.max_batch_searches),
            ("--max-filter-depth", self.limits.max_filter_depth),
            ("--max-filter-conditions", self.limits.max_filter_conditions),
            ("--max-dims", self.limits.max_dims),
            ("--max-ef", self.limits.max_ef),
            ("--max-oversample", self.limits.max_oversample),
            ("--max-payload-bytes", self.limits.max_payload_bytes),
            ("--max-payload-depth", self.limits.max_payload_depth),
            (
                "--max-snapshot-upload-bytes",
                usize::from(self.limits.max_snapshot_upload_bytes > 0),
            ),
        ];
        if let Some((flag, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{flag} must be positive"));
        }
        let ceilings = [
            ("--max-dims", self.limits.max_dims, trawl_index::MAX_DIMS),
            ("--max-ef", self.limits.max_ef, *trawl_index::EF_RANGE.end()),
            (
                "--max-oversample",
                self.limits.max_oversample,
                trawl_index::MAX_OVERSAMPLE as usize,
            ),
        ];
        if let Some((flag, value, ceiling)) = ceilings.iter().find(|(_, v, c)| v > c) {
            return Err(format!("{flag} ({value}) may be at most {ceiling}"));
        }
        if self.model.queue_capacity < self.limits.max_inputs {
            return Err(format!(
                "--queue-capacity ({}) must be at least --max-inputs ({}), or a full request could never be admitted",
                self.model.queue_capacity, self.limits.max_inputs
            ));
        }
        Ok(())
    }

    /// Requests admitted at once (`--max-concurrent-requests`, 0 resolved).
    pub fn max_concurrent_requests(&self) -> usize {
        match self.http.max_concurrent_requests {
            0 => 64 * std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.http.request_timeout_secs)
    }

    /// The encoder's configuration.
    pub fn embedder(&self) -> EmbedderConfig {
        let mut config = EmbedderConfig::new(&self.model.model_dir);
        config.precision = self.model.precision;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        config.workers = match self.model.encoder_workers {
            0 => trawl_encoders::default_sessions(cores).0,
            workers => workers,
        };
        config.spin = self.model.encoder_spin;
        config.intra_threads = match self.model.encoder_threads {
            0 => (cores / config.workers).max(1),
            threads => threads,
        };
        config.limits = BatchLimits {
            max_batch_tokens: self.model.max_batch_tokens,
            max_batch_size: self.model.max_batch_size,
            batch_overhead_tokens: self.model.batch_overhead_tokens,
        };
        config.queue_capacity = self.model.queue_capacity;
        config
    }
}

impl Config {
    /// Filter limits for the index.
    pub fn filter_limits(&self) -> trawl_index::filter::FilterLimits {
        trawl_index::filter::FilterLimits {
            max_depth: self.limits.max_filter_depth,
            max_conditions: self.limits.max_filter_conditions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ClusterConfig;

    fn cluster(id: Option<u64>, addr: Option<&str>, peers: Option<&str>) -> ClusterConfig {
        ClusterConfig {
            node_id: id,
            cluster_addr: addr.map(String::from),
            peers: peers.map(String::from),
        }
    }

    #[test]
    fn cluster_flags_are_all_or_nothing_and_name_this_node() {
        assert_eq!(cluster(None, None, None).members(), Ok(None));
        let peers = "1=a:7001, 2=b:7002,3=c:7003";
        let members = cluster(Some(2), Some("b:7002"), Some(peers))
            .members()
            .unwrap()
            .unwrap();
        assert_eq!(members.len(), 3);
        assert_eq!(members[&3], "c:7003");
        for (config, says) in [
            (cluster(Some(1), None, None), "go together"),
            (cluster(None, Some("a:7001"), Some(peers)), "go together"),
            (
                cluster(Some(4), Some("d:7004"), Some(peers)),
                "does not name this node",
            ),
            (
                cluster(Some(1), Some("a:7999"), Some(peers)),
                "--cluster-addr says",
            ),
            (
                cluster(Some(1), Some("a:7001"), Some("1=a:7001,1=b:7002")),
                "twice",
            ),
            (
                cluster(Some(1), Some("a:7001"), Some("1=a:7001,x=b:7002")),
                "positive node id",
            ),
            (
                cluster(Some(1), Some("a:7001"), Some("1=a:7001,2=b")),
                "host:port",
            ),
            (
                cluster(Some(1), Some("a:7001"), Some("1=a:7001,2:b:7002")),
                "id=host:port",
            ),
        ] {
            let error = config.members().unwrap_err();
            assert!(error.contains(says), "{config:?}: {error}");
        }
    }
}
