//! The model and encoder flags, shared by the in-process encoder and the spawned server.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use trawl_encoders::{BatchLimits, EmbedderConfig, Precision};

/// Which model to run, and how the encoder batches and threads it.
///
/// The same values configure the in-process [`trawl_encoders::Embedder`] and
/// the `trawl serve` process, so both paths run the same encoder.
#[derive(Debug, Clone, Args, Serialize)]
pub struct ModelArgs {
    /// Model directory with `trawl-model.json`, the ONNX graphs and `tokenizer.json`.
    #[arg(long, default_value = "models/all-minilm-l6-v2")]
    pub model_dir: PathBuf,
    /// The ONNX Runtime shared library.
    #[arg(long, default_value = "vendor/onnxruntime/libonnxruntime.so.1.31.1")]
    pub ort_lib: PathBuf,
    /// Intra-op threads per ONNX session (default: the server's, cores / sessions).
    #[arg(long, default_value_t = trawl_encoders::default_sessions(cores()).1)]
    pub threads: usize,
    /// ONNX sessions, each on its own thread (default: the server's, one per core up to 4).
    #[arg(long, default_value_t = trawl_encoders::default_sessions(cores()).0)]
    pub workers: usize,
    /// Token budget of one batch (real tokens when texts are packed into rows, else padded length × texts).
    #[arg(long, default_value_t = 1_024)]
    pub max_batch_tokens: usize,
    /// Texts in one batch at most.
    #[arg(long, default_value_t = 64)]
    pub max_batch_size: usize,
    /// The fixed cost of one batch in padded tokens (see `trawl serve --help`).
    #[arg(long, default_value_t = trawl_encoders::DEFAULT_BATCH_OVERHEAD_TOKENS)]
    pub batch_overhead_tokens: usize,
    /// Let idle ONNX Runtime intra-op threads spin (`true` or `false`).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub spin: bool,
}

impl ModelArgs {
    /// The in-process encoder's configuration; `queue_capacity` must hold the
    /// largest set of texts submitted at once.
    pub fn embedder_config(&self, precision: Precision, queue_capacity: usize) -> EmbedderConfig {
        let mut config = EmbedderConfig::new(&self.model_dir);
        config.precision = precision;
        config.workers = self.workers;
        config.intra_threads = self.threads;
        config.limits = BatchLimits {
            max_batch_tokens: self.max_batch_tokens,
            max_batch_size: self.max_batch_size,
            batch_overhead_tokens: self.batch_overhead_tokens,
        };
        config.spin = self.spin;
        config.queue_capacity = config.queue_capacity.max(queue_capacity);
        config
    }

    /// The `trawl serve` flags for the same model and encoder settings.
    pub fn server_args(&self, precision: Precision) -> Vec<String> {
        let path = |p: &PathBuf| p.display().to_string();
        vec![
            "--model-dir".into(),
            path(&self.model_dir),
            "--ort-lib".into(),
            path(&self.ort_lib),
            "--precision".into(),
            precision.key().into(),
            "--encoder-workers".into(),
            self.workers.to_string(),
            "--encoder-threads".into(),
            self.threads.to_string(),
            "--max-batch-tokens".into(),
            self.max_batch_tokens.to_string(),
            "--max-batch-size".into(),
            self.max_batch_size.to_string(),
            "--batch-overhead-tokens".into(),
            self.batch_overhead_tokens.to_string(),
            "--encoder-spin".into(),
            self.spin.to_string(),
        ]
    }
}

/// Cores available to this process.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
