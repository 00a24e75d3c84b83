//! The public entry point: a loaded model behind a batching queue.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{EncodeError, Result};
use crate::queue::{BatchLimits, BatchObserver, Queue};
use crate::session::{Encoded, OnnxEncoder, SessionOptions};
use crate::spec::{ModelSpec, Precision};
use crate::tokenize::{Tokenizer, Tokens};

/// How to load and run a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedderConfig {
    /// The model directory (with `trawl-model.json`).
    pub model_dir: PathBuf,
    /// fp32 or int8 weights.
    pub precision: Precision,
    /// ONNX sessions, each on its own thread.
    pub workers: usize,
    /// Intra-op threads per session.
    pub intra_threads: usize,
    /// Whether idle intra-op threads spin (see [`SessionOptions::spin`]).
    pub spin: bool,
    /// Batch bounds.
    pub limits: BatchLimits,
    /// Texts that may wait or run at once; more are refused with [`EncodeError::QueueFull`].
    pub queue_capacity: usize,
}

/// Most sessions the defaults start: each holds its own copy of the weights.
pub const MAX_DEFAULT_SESSIONS: usize = 4;

/// How the defaults split `cores` into `(sessions, intra-op threads each)`:
/// one single-threaded session per core up to [`MAX_DEFAULT_SESSIONS`], the
/// threads shared out beyond that. Independent sessions keep every core busy
/// under concurrent load (no intra-op barriers between batches; measured on 2
/// cores: 10–20 % more texts/s than one two-thread session, in-process and over
/// HTTP); one session with every core gives the lowest latency for a lone text.
pub fn default_sessions(cores: usize) -> (usize, usize) {
    let sessions = cores.clamp(1, MAX_DEFAULT_SESSIONS);
    (sessions, (cores / sessions).max(1))
}

impl EmbedderConfig {
    /// Defaults for `model_dir`: fp32, the cores split between sessions as
    /// [`default_sessions`] says, batches of at most 64 texts and 1,024 padded
    /// tokens (measured best on 2 CPU cores: larger batches cost more per
    /// token, long texts most), room for 1,024 texts.
    pub fn new(model_dir: impl Into<PathBuf>) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let (workers, intra_threads) = default_sessions(cores);
        Self {
            model_dir: model_dir.into(),
            precision: Precision::Fp32,
            workers,
            intra_threads,
            spin: true,
            limits: BatchLimits {
                max_batch_tokens: 1_024,
                max_batch_size: 64,
                batch_overhead_tokens: crate::queue::DEFAULT_BATCH_OVERHEAD_TOKENS,
            },
            queue_capacity: 1_024,
        }
    }
}

struct Inner {
    spec: ModelSpec,
    tokenizer: Tokenizer,
    queue: Queue,
}

/// A model ready to embed text; cheap to clone and shareable across threads.
#[derive(Clone)]
pub struct Embedder {
    inner: Arc<Inner>,
}

impl Embedder {
    /// Loads the model directory and starts the queue and worker threads.
    ///
    /// Blocking (it reads files and builds ONNX sessions). The ONNX Runtime
    /// library must have been loaded with [`crate::init_runtime`] first.
    pub fn load(config: &EmbedderConfig, observer: Arc<dyn BatchObserver>) -> Result<Self> {
        if config.workers == 0 || config.queue_capacity == 0 {
            return Err(EncodeError::InvalidArgument {
                field: "workers",
                reason: "workers and queue capacity must be positive".into(),
            });
        }
        let spec = ModelSpec::load(&config.model_dir)?;
        let tokenizer = Tokenizer::load(&spec.tokenizer, spec.max_tokens)?;
        let options = SessionOptions {
            precision: config.precision,
            intra_threads: config.intra_threads,
            spin: config.spin,
        };
        let encoders = (0..config.workers)
            .map(|_| OnnxEncoder::new(&spec, options))
            .collect::<Result<Vec<_>>>()?;
        let queue = Queue::start(encoders, config.limits, config.queue_capacity, observer)?;
        Ok(Self {
            inner: Arc::new(Inner {
                spec,
                tokenizer,
                queue,
            }),
        })
    }

    /// The model's description.
    pub fn spec(&self) -> &ModelSpec {
        &self.inner.spec
    }

    /// Texts admitted and not yet answered.
    pub fn queue_depth(&self) -> usize {
        self.inner.queue.depth()
    }

    /// The queue's capacity in texts.
    pub fn queue_capacity(&self) -> usize {
        self.inner.queue.capacity()
    }

    /// Tokenises texts (CPU work: call it off the async workers).
    pub fn tokenize(&self, texts: &[String]) -> Result<Vec<Tokens>> {
        texts
            .iter()
            .map(|text| self.inner.tokenizer.encode(text))
            .collect()
    }

    /// The tokenizer's vocabulary size (token ids are below it).
    pub fn vocab_size(&self) -> usize {
        self.inner.tokenizer.vocab_size()
    }

    /// Embeds tokenised texts through the batching queue.
    ///
    /// With `want_tokens`, each result also carries its per-token vectors.
    /// Dropping the future withdraws the texts that have not run yet.
    pub async fn embed_tokens(
        &self,
        tokens: Vec<Tokens>,
        want_tokens: bool,
    ) -> Result<Vec<Encoded>> {
        let receivers = self.inner.queue.submit(tokens, want_tokens)?;
        let mut out = Vec::with_capacity(receivers.len());
        for rx in receivers {
            out.push(rx.await.map_err(|_| EncodeError::Stopped)??);
        }
        Ok(out)
    }

    /// Tokenises and embeds from a plain thread (never from inside an async runtime).
    ///
    /// Any number of texts: they enter the queue in chunks of half its capacity,
    /// two chunks in flight, so the queue stays fed without refusing them.
    pub fn embed_blocking(&self, texts: &[String], want_tokens: bool) -> Result<Vec<Encoded>> {
        type Pending = Vec<tokio::sync::oneshot::Receiver<Result<Encoded>>>;
        let collect = |chunk: Pending, out: &mut Vec<Encoded>| -> Result<()> {
            for rx in chunk {
                out.push(rx.blocking_recv().map_err(|_| EncodeError::Stopped)??);
            }
            Ok(())
        };
        let chunk_size = (self.inner.queue.capacity() / 2).max(1);
        let mut out = Vec::with_capacity(texts.len());
        let mut in_flight: std::collections::VecDeque<Pending> = std::collections::VecDeque::new();
        for chunk in texts.chunks(chunk_size) {
            if in_flight.len() == 2
                && let Some(oldest) = in_flight.pop_front()
            {
                collect(oldest, &mut out)?;
            }
            let tokens = self.tokenize(chunk)?;
            in_flight.push_back(self.inner.queue.submit(tokens, want_tokens)?);
        }
        for chunk in in_flight {
            collect(chunk, &mut out)?;
        }
        Ok(out)
    }
}
