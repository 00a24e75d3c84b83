//! The in-process path: an [`Embedder`] in this process, the whole workload submitted at once.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use trawl_encoders::{BatchObserver, BatchStats, Embedder, Encoded, Precision};

use crate::bench::model::ModelArgs;

/// How long to wait for the last batch's statistics after its texts are answered
/// (a worker reports a batch just after replying).
const TALLY_GRACE: Duration = Duration::from_secs(1);

/// One timed pass over a workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pass {
    /// Wall time of `embed_blocking`, tokenisation included.
    pub seconds: f64,
    /// Real tokens embedded, special tokens included.
    pub tokens: u64,
    /// Batches the queue formed.
    pub batches: u64,
    /// Tokens after padding each batch to its longest text.
    pub padded_tokens: u64,
    /// Time the workers spent in the model (pooling included), summed over batches.
    pub inference_seconds: f64,
}

/// A loaded encoder and the tally of what its batches did.
pub struct InProcess {
    embedder: Embedder,
    tally: Arc<BatchTally>,
    /// Texts submitted so far, warm-up included.
    submitted: Cell<u64>,
}

impl InProcess {
    /// Loads the model at `precision` with room to submit `max_texts` at once.
    pub fn load(model: &ModelArgs, precision: Precision, max_texts: usize) -> Result<Self> {
        trawl_encoders::init_runtime(&model.ort_lib)?;
        let tally = Arc::new(BatchTally::default());
        let config = model.embedder_config(precision, max_texts);
        let observer = Arc::clone(&tally) as Arc<dyn BatchObserver>;
        let embedder = Embedder::load(&config, observer).with_context(|| {
            format!(
                "cannot load the {} model in {}",
                precision.key(),
                model.model_dir.display()
            )
        })?;
        Ok(Self {
            embedder,
            tally,
            submitted: Cell::new(0),
        })
    }

    /// Embeds `texts` untimed.
    pub fn warm_up(&self, texts: &[String]) -> Result<()> {
        if !texts.is_empty() {
            self.submit(texts)?;
            self.settle();
        }
        Ok(())
    }

    /// Times one pass that submits all of `texts` at once.
    pub fn pass(&self, texts: &[String]) -> Result<Pass> {
        let before = self.tally.totals();
        let started = Instant::now();
        let encoded = self.submit(texts)?;
        let seconds = started.elapsed().as_secs_f64();
        self.settle();
        let dims = self.embedder.spec().dims;
        ensure!(
            encoded.len() == texts.len() && encoded.iter().all(|e| e.pooled.len() == dims),
            "the encoder answered {} embeddings for {} texts, or a dimension other than {dims}",
            encoded.len(),
            texts.len()
        );
        let after = self.tally.totals();
        Ok(Pass {
            seconds,
            tokens: encoded.iter().map(|e| e.n_tokens as u64).sum(),
            batches: after.batches - before.batches,
            padded_tokens: after.padded_tokens - before.padded_tokens,
            inference_seconds: (after.inference_micros - before.inference_micros) as f64 / 1e6,
        })
    }

    /// Embeds `texts` in one submission.
    fn submit(&self, texts: &[String]) -> Result<Vec<Encoded>> {
        let encoded = self.embedder.embed_blocking(texts, false)?;
        self.submitted
            .set(self.submitted.get() + texts.len() as u64);
        Ok(encoded)
    }

    /// Waits until every submitted text's batch is in the tally.
    fn settle(&self) {
        self.tally.settle(self.submitted.get(), TALLY_GRACE);
    }
}

/// Running totals of [`BatchStats`], for the in-process rows.
#[derive(Debug, Default)]
struct BatchTally {
    batches: AtomicU64,
    texts: AtomicU64,
    padded_tokens: AtomicU64,
    inference_micros: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
struct Totals {
    batches: u64,
    padded_tokens: u64,
    inference_micros: u64,
}

impl BatchTally {
    fn texts(&self) -> u64 {
        self.texts.load(Ordering::Acquire)
    }

    fn totals(&self) -> Totals {
        Totals {
            batches: self.batches.load(Ordering::Acquire),
            padded_tokens: self.padded_tokens.load(Ordering::Acquire),
            inference_micros: self.inference_micros.load(Ordering::Acquire),
        }
    }

    /// Waits (at most `grace`) until the reported texts reach `texts`.
    fn settle(&self, texts: u64, grace: Duration) {
        let started = Instant::now();
        while self.texts() < texts && started.elapsed() < grace {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl BatchObserver for BatchTally {
    fn batch_done(&self, stats: &BatchStats) {
        self.batches.fetch_add(1, Ordering::AcqRel);
        self.padded_tokens
            .fetch_add(stats.padded_tokens as u64, Ordering::AcqRel);
        self.inference_micros
            .fetch_add(stats.inference.as_micros() as u64, Ordering::AcqRel);
        // Last, so that `settle` sees the other counters of this batch.
        self.texts.fetch_add(stats.texts as u64, Ordering::AcqRel);
    }
}
