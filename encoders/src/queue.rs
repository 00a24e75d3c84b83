//! Dynamic batching: texts from many callers merged into padded batches.
//!
//! The shape follows text-embeddings-inference's queue: a cloneable handle
//! ([`Queue`]) sends jobs to **one thread that owns the queue**; every worker
//! thread owns one ONNX session and asks for work when idle. The batch is formed
//! only when a worker is idle, so everything that arrived meanwhile is a
//! candidate. A batch is bounded by a **token budget** (`padded length ×
//! texts ≤ max_batch_tokens`) and a text count, and is grown around the oldest
//! waiting text with the texts whose lengths are closest to it: similar lengths
//! waste little padding, and the oldest text always goes next, so nothing starves.
//!
//! Admission is a semaphore over the queue's capacity in texts: a caller who
//! cannot get permits at once gets [`EncodeError::QueueFull`] (HTTP 429), never
//! a blocked thread or a panic. Each job answers through its own `oneshot`;
//! jobs whose caller went away (receiver dropped) are skipped before a batch
//! is formed.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::error::{EncodeError, Result};
use crate::session::{BatchOutput, Encoded, OnnxEncoder};
use crate::tokenize::Tokens;

/// Default [`BatchLimits::batch_overhead_tokens`], measured on all-MiniLM-L6-v2
/// with one single-thread session per core: SciFact queries (22 tokens on
/// average) run at 228 texts/s one per batch and 357 texts/s eight or more
/// per batch, so one run costs about as much as 12 more padded tokens.
pub const DEFAULT_BATCH_OVERHEAD_TOKENS: usize = 12;

/// Bounds of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Padded length × number of texts may not exceed this (a single longer text still runs alone).
    pub max_batch_tokens: usize,
    /// At most this many texts per batch.
    pub max_batch_size: usize,
    /// The fixed cost of running one batch, in padded tokens' worth of model
    /// time; a text joins a batch only when that does not raise the batch's
    /// cost per real token (see `choose_batch` in this module). 0 groups only equal lengths.
    pub batch_overhead_tokens: usize,
}

/// What one batch did, reported to the [`BatchObserver`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchStats {
    /// Texts in the batch.
    pub texts: usize,
    /// Real tokens in the batch.
    pub tokens: usize,
    /// Tokens after padding (`texts × longest`).
    pub padded_tokens: usize,
    /// How long the oldest text waited before its batch ran.
    pub queue_wait: Duration,
    /// Time spent in the model, pooling included.
    pub inference: Duration,
}

/// Receives per-batch statistics (for metrics). `()` ignores them.
pub trait BatchObserver: Send + Sync + 'static {
    /// Called by a worker after each batch.
    fn batch_done(&self, stats: &BatchStats);
}

impl BatchObserver for () {
    fn batch_done(&self, _stats: &BatchStats) {}
}

struct Job {
    tokens: Tokens,
    want_tokens: bool,
    reply: oneshot::Sender<Result<Encoded>>,
    enqueued: Instant,
    permit: OwnedSemaphorePermit,
}

impl Job {
    /// Frees the job's queue slot, then answers: a caller that reads the queue
    /// depth right after its answer no longer counts its own text.
    fn answer(self, result: Result<Encoded>) {
        let Self { reply, permit, .. } = self;
        drop(permit);
        // A closed receiver means the caller went away: nothing to do.
        let _ = reply.send(result);
    }
}

/// Handle to the batching queue; cheap to clone.
#[derive(Clone)]
pub struct Queue {
    jobs: Sender<Job>,
    permits: Arc<Semaphore>,
    capacity: usize,
}

impl Queue {
    /// Starts the queue thread and one thread per encoder.
    pub fn start(
        encoders: Vec<OnnxEncoder>,
        limits: BatchLimits,
        capacity: usize,
        observer: Arc<dyn BatchObserver>,
    ) -> Result<Self> {
        let (jobs_tx, jobs_rx) = crossbeam_channel::unbounded::<Job>();
        let (idle_tx, idle_rx) = crossbeam_channel::unbounded::<usize>();
        // Every session runs the same graph: packing is all or none.
        let packed = encoders.iter().all(OnnxEncoder::packs_rows);
        let mut batch_txs = Vec::with_capacity(encoders.len());
        for (id, encoder) in encoders.into_iter().enumerate() {
            let (batch_tx, batch_rx) = crossbeam_channel::bounded::<Vec<Job>>(1);
            batch_txs.push(batch_tx);
            let idle_tx = idle_tx.clone();
            let observer = Arc::clone(&observer);
            thread::Builder::new()
                .name(format!("trawl-encoder-{id}"))
                .spawn(move || worker_loop(id, encoder, &idle_tx, &batch_rx, observer.as_ref()))
                .map_err(|e| EncodeError::Onnx(format!("cannot start an encoder thread: {e}")))?;
        }
        drop(idle_tx);
        thread::Builder::new()
            .name("trawl-batcher".into())
            .spawn(move || batcher_loop(&jobs_rx, &idle_rx, &batch_txs, limits, packed))
            .map_err(|e| EncodeError::Onnx(format!("cannot start the batcher thread: {e}")))?;
        Ok(Self {
            jobs: jobs_tx,
            permits: Arc::new(Semaphore::new(capacity)),
            capacity,
        })
    }

    /// The queue's capacity in texts.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Texts admitted and not yet answered (waiting or running).
    pub fn depth(&self) -> usize {
        self.capacity - self.permits.available_permits()
    }

    /// Admits all of `texts` or none, and returns one receiver per text.
    ///
    /// Fails at once with [`EncodeError::QueueFull`] when the queue lacks room.
    pub(crate) fn submit(
        &self,
        texts: Vec<Tokens>,
        want_tokens: bool,
    ) -> Result<Vec<oneshot::Receiver<Result<Encoded>>>> {
        let full = || EncodeError::QueueFull {
            capacity: self.capacity,
        };
        let n = u32::try_from(texts.len()).map_err(|_| full())?;
        let mut permits = Arc::clone(&self.permits)
            .try_acquire_many_owned(n)
            .map_err(|_| full())?;
        let now = Instant::now();
        let mut receivers = Vec::with_capacity(texts.len());
        for tokens in texts {
            let permit = permits.split(1).ok_or(EncodeError::Stopped)?;
            let (reply, rx) = oneshot::channel();
            let job = Job {
                tokens,
                want_tokens,
                reply,
                enqueued: now,
                permit,
            };
            self.jobs.send(job).map_err(|_| EncodeError::Stopped)?;
            receivers.push(rx);
        }
        Ok(receivers)
    }
}

fn batcher_loop(
    jobs: &Receiver<Job>,
    idle: &Receiver<usize>,
    workers: &[Sender<Vec<Job>>],
    limits: BatchLimits,
    packed: bool,
) {
    let mut pending: Vec<Job> = Vec::new();
    while let Ok(worker) = idle.recv() {
        loop {
            if pending.is_empty() {
                match jobs.recv() {
                    Ok(job) => pending.push(job),
                    Err(_) => return,
                }
            }
            pending.extend(jobs.try_iter());
            pending.retain(|job| !job.reply.is_closed());
            if !pending.is_empty() {
                break;
            }
        }
        let batch = take_batch(&mut pending, limits, packed);
        if workers[worker].send(batch).is_err() {
            return;
        }
    }
}

fn worker_loop(
    id: usize,
    mut encoder: OnnxEncoder,
    idle: &Sender<usize>,
    batches: &Receiver<Vec<Job>>,
    observer: &dyn BatchObserver,
) {
    while idle.send(id).is_ok() {
        let Ok(batch) = batches.recv() else { return };
        let started = Instant::now();
        let queue_wait = batch
            .iter()
            .map(|job| started.duration_since(job.enqueued))
            .max()
            .unwrap_or_default();
        let tokens: Vec<&Tokens> = batch.iter().map(|job| &job.tokens).collect();
        let want: Vec<bool> = batch.iter().map(|job| job.want_tokens).collect();
        let result = encoder.run(&tokens, &want);
        let stats = BatchStats {
            texts: batch.len(),
            tokens: tokens.iter().map(|t| t.len()).sum(),
            padded_tokens: result.as_ref().map_or(0, |out| out.padded_tokens),
            queue_wait,
            inference: started.elapsed(),
        };
        // Count the batch before answering, so a caller that reads metrics right after its
        // answer sees its batch.
        observer.batch_done(&stats);
        match result {
            Ok(BatchOutput { encoded, .. }) => {
                for (job, out) in batch.into_iter().zip(encoded) {
                    job.answer(Ok(out));
                }
            }
            Err(error) => {
                tracing::error!(%error, texts = stats.texts, "encoder batch failed");
                let message = error.to_string();
                for job in batch {
                    job.answer(Err(EncodeError::Onnx(message.clone())));
                }
            }
        }
    }
}

/// Removes and returns the next batch from `pending` (arrival order, non-empty).
///
/// With packed rows ([`choose_packed`]) the oldest texts go, as many as the
/// limits allow; otherwise ([`choose_batch`]) the batch holds the oldest job
/// and grows, in order of length, towards the neighbours whose lengths are
/// closest to it.
fn take_batch(pending: &mut Vec<Job>, limits: BatchLimits, packed: bool) -> Vec<Job> {
    let lengths: Vec<usize> = pending.iter().map(|job| job.tokens.len()).collect();
    let chosen = if packed {
        choose_packed(&lengths, limits)
    } else {
        choose_batch(&lengths, limits)
    };
    let mut take = vec![false; pending.len()];
    for &i in &chosen {
        take[i] = true;
    }
    let mut batch = Vec::with_capacity(chosen.len());
    let mut rest = Vec::with_capacity(pending.len() - chosen.len());
    for (job, take) in pending.drain(..).zip(take) {
        if take {
            batch.push(job);
        } else {
            rest.push(job);
        }
    }
    *pending = rest;
    batch
}

/// Indices of the next batch when texts share rows: the oldest texts, in
/// arrival order, while their tokens fit `max_batch_tokens` and their count
/// `max_batch_size`. Packing leaves almost no padding whatever the lengths, so
/// nothing is gained by leaving a text behind. Always contains 0.
fn choose_packed(lengths: &[usize], limits: BatchLimits) -> Vec<usize> {
    let mut tokens = 0;
    let mut chosen = Vec::new();
    for (i, &len) in lengths.iter().enumerate() {
        if chosen.len() == limits.max_batch_size.max(1)
            || (!chosen.is_empty() && tokens + len > limits.max_batch_tokens)
        {
            break;
        }
        tokens += len;
        chosen.push(i);
    }
    chosen
}

/// Indices (into `lengths`, arrival order) of the next batch for padded rows; always contains 0.
///
/// The batch is a window of the waiting texts sorted by length, grown from the
/// oldest text. A batch costs about `overhead + texts × longest` token-steps
/// (a fixed cost per run, then time proportional to the padded size), so the
/// window takes a neighbour only when that does not raise the cost per real
/// token: a text that would pad many others waits for a batch of its own
/// length instead (it runs at the latest when it is the oldest).
fn choose_batch(lengths: &[usize], limits: BatchLimits) -> Vec<usize> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| (lengths[i], i));
    let anchor = order.iter().position(|&i| i == 0).unwrap_or(0);
    let (mut lo, mut hi) = (anchor, anchor);
    let mut real = lengths[0];
    let overhead = limits.batch_overhead_tokens as f64;
    // Cost per real token of a batch of `count` texts padded to `longest`.
    let cost = |count: usize, longest: usize, real: usize| {
        (overhead + (count * longest) as f64) / real.max(1) as f64
    };
    let fits = |count: usize, longest: usize| {
        count <= limits.max_batch_size && count * longest <= limits.max_batch_tokens
    };
    loop {
        let count = hi - lo + 1;
        let longest = lengths[order[hi]];
        let now = cost(count, longest, real);
        let left = (lo > 0).then(|| lengths[order[lo - 1]]).and_then(|len| {
            let after = cost(count + 1, longest, real + len);
            (fits(count + 1, longest) && after <= now).then_some(after)
        });
        let right = (hi + 1 < order.len())
            .then(|| lengths[order[hi + 1]])
            .and_then(|len| {
                let after = cost(count + 1, len.max(longest), real + len);
                (fits(count + 1, len.max(longest)) && after <= now).then_some(after)
            });
        match (left, right) {
            (Some(l), Some(r)) if l <= r => {
                lo -= 1;
                real += lengths[order[lo]];
            }
            (Some(_), None) => {
                lo -= 1;
                real += lengths[order[lo]];
            }
            (_, Some(_)) => {
                hi += 1;
                real += lengths[order[hi]];
            }
            (None, None) => break,
        }
    }
    order[lo..=hi].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: BatchLimits = BatchLimits {
        max_batch_tokens: 100,
        max_batch_size: 4,
        batch_overhead_tokens: 16,
    };

    #[test]
    fn batch_always_holds_the_oldest_and_groups_similar_lengths() {
        let lengths = [20, 5, 21, 90, 19, 6, 22];
        let mut chosen = choose_batch(&lengths, LIMITS);
        chosen.sort_unstable();
        // Oldest (20) plus its closest neighbours 19, 21, 22: 4 × 22 = 88 ≤ 100.
        assert_eq!(chosen, vec![0, 2, 4, 6]);
    }

    #[test]
    fn token_budget_bounds_the_padded_size() {
        let lengths = [30, 30, 30, 30];
        assert_eq!(choose_batch(&lengths, LIMITS).len(), 3);
        // A text longer than the budget still runs, alone.
        assert_eq!(choose_batch(&[300, 10], LIMITS), vec![0]);
    }

    #[test]
    fn a_text_that_would_pad_the_others_waits_for_its_own_batch() {
        let limits = BatchLimits {
            max_batch_tokens: 10_000,
            max_batch_size: 64,
            batch_overhead_tokens: 32,
        };
        // Twenty texts of 20 tokens and two of 60: padding the twenty to 60
        // would triple their cost, so the long ones are left for later.
        let mut lengths = vec![20; 20];
        lengths.extend([60, 60]);
        let mut chosen = choose_batch(&lengths, limits);
        chosen.sort_unstable();
        assert_eq!(chosen, (0..20).collect::<Vec<_>>());
        // When the long text is the oldest, it goes first, with its own kind.
        lengths.swap(0, 20);
        let mut chosen = choose_batch(&lengths, limits);
        chosen.sort_unstable();
        assert_eq!(chosen, vec![0, 21]);
        // A small neighbour still joins while the fixed cost dominates.
        assert_eq!(choose_batch(&[20, 24], limits).len(), 2);
        // Without a fixed cost only equal lengths are grouped.
        let exact = BatchLimits {
            batch_overhead_tokens: 0,
            ..limits
        };
        let mut chosen = choose_batch(&[20, 24, 20, 19], exact);
        chosen.sort_unstable();
        assert_eq!(chosen, vec![0, 2]);
    }

    #[test]
    fn a_single_job_forms_a_batch() {
        assert_eq!(choose_batch(&[7], LIMITS), vec![0]);
        assert_eq!(choose_packed(&[7], LIMITS), vec![0]);
    }

    #[test]
    fn packed_batches_take_the_oldest_texts_whatever_their_lengths() {
        // Mixed lengths go together, in arrival order, up to the token budget.
        assert_eq!(choose_packed(&[20, 5, 60, 90, 1], LIMITS), vec![0, 1, 2]);
        // The size limit holds too.
        assert_eq!(choose_packed(&[1; 10], LIMITS), vec![0, 1, 2, 3]);
        // A text over the budget still runs, alone.
        assert_eq!(choose_packed(&[300, 10], LIMITS), vec![0]);
    }
}
