//! What every thread shares: the scenario, each id's history of writes on a
//! global clock, the points as functions of (id, version), the failures.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread;

use serde_json::json;
use trawl_index::filter::{Condition, Filter, Range};
use trawl_index::{Metric, Payload};

use crate::common::Rng;
use crate::{BUCKETS, Scenario, TAGS, TOLERANCE, WRITES_PER_SEARCH, mix};

/// A write of one id as its writer issued it.
struct Op {
    /// What the write leaves: a version, or `None` for a delete.
    state: Option<u64>,
    /// The clock's tick before the call.
    start: u64,
    /// The clock's tick after it returned (`u64::MAX` while in flight).
    ack: u64,
}

pub struct World {
    pub sc: Scenario,
    pub seed: u64,
    clock: AtomicU64,
    /// The writes of each id, in order (one writer per id: never overlapping).
    history: Vec<Mutex<Vec<Op>>>,
    /// The searchers' filters, by name.
    pub filters: Vec<(&'static str, Filter)>,
    failures: Mutex<Vec<String>>,
    stop: AtomicBool,
    /// Searcher operations done, which writers wait for (see [`World::pace`]).
    searched: Mutex<u64>,
    progress: Condvar,
}

impl World {
    pub fn new(sc: Scenario, seed: u64) -> Self {
        let filter = |key: &str, range: Range| Filter {
            must: vec![Condition::Range {
                key: key.into(),
                range,
            }],
            ..Filter::default()
        };
        let below = |x: f64| Range {
            lt: Some(x),
            ..Range::default()
        };
        let filters = vec![
            // Indexed, a quarter of the points.
            ("bucket < 4", filter("bucket", below(4.0))),
            // Unindexed, and changes with the version.
            (
                "v >= 2",
                filter(
                    "v",
                    Range {
                        gte: Some(2.0),
                        ..Range::default()
                    },
                ),
            ),
            // Indexed and selective (~3%).
            ("tag < 4", filter("tag", below(4.0))),
        ];
        Self {
            sc,
            seed,
            clock: AtomicU64::new(0),
            history: (0..sc.ids()).map(|_| Mutex::new(Vec::new())).collect(),
            filters,
            failures: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            searched: Mutex::new(0),
            progress: Condvar::new(),
        }
    }

    pub fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Records that a write of `id` leaving `state` is about to be issued.
    pub fn begin(&self, id: u64, state: Option<u64>) {
        let mut ops = self.history[id as usize].lock().unwrap();
        let start = self.tick();
        ops.push(Op {
            state,
            start,
            ack: u64::MAX,
        });
    }

    /// Records that the last write of `id` returned.
    pub fn acknowledge(&self, id: u64) {
        let mut ops = self.history[id as usize].lock().unwrap();
        let ack = self.tick();
        ops.last_mut().expect("a write was begun").ack = ack;
    }

    /// Whether a read between ticks `start` and `end` may see `id` in
    /// `state`: some write left that state, was issued before `end`, and the
    /// write after it had not returned by `start` (an id starts absent).
    pub fn admits(&self, id: u64, state: Option<u64>, start: u64, end: u64) -> bool {
        let ops = self.history[id as usize].lock().unwrap();
        let (mut prev_state, mut prev_start) = (None, 0);
        for op in ops.iter() {
            if prev_state == state && prev_start < end && op.ack > start {
                return true;
            }
            (prev_state, prev_start) = (op.state, op.start);
        }
        prev_state == state && prev_start < end
    }

    /// The state `id` held throughout ticks `start..end`, if no write of it was
    /// in flight then.
    pub fn settled(&self, id: u64, start: u64, end: u64) -> Option<Option<u64>> {
        let ops = self.history[id as usize].lock().unwrap();
        match ops.iter().rev().find(|op| op.start < end) {
            None => Some(None),
            Some(op) if op.ack < start => Some(op.state),
            Some(_) => None,
        }
    }

    /// The last writes of `id`, for failure messages.
    pub fn describe(&self, id: u64) -> String {
        let ops = self.history[id as usize].lock().unwrap();
        let from = ops.len().saturating_sub(6);
        let shown: Vec<String> = ops[from..]
            .iter()
            .map(|op| {
                let state = op.state.map_or("delete".into(), |v| format!("v{v}"));
                let ack = if op.ack == u64::MAX {
                    "in flight".into()
                } else {
                    op.ack.to_string()
                };
                format!("{state} [{}..{ack}]", op.start)
            })
            .collect();
        format!(
            "id {id}'s writes ([issued..returned], {from} earlier not shown): {}",
            shown.join(", ")
        )
    }

    /// Records a failure and stops every thread.
    pub fn fail(&self, message: String) {
        let thread = thread::current().name().unwrap_or("main").to_string();
        self.failures.lock().unwrap().push(format!(
            "[{} seed {:#x}, {thread}] {message}",
            self.sc.name, self.seed
        ));
        self.stop.store(true, Ordering::SeqCst);
        // Under the lock, so that a writer about to wait sees the flag.
        let _searched = self.searched.lock().unwrap();
        self.progress.notify_all();
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Panics with the failures recorded, if any.
    pub fn assert_no_failures(&self) {
        let failures = self.failures.lock().unwrap();
        if !failures.is_empty() {
            let shown: Vec<&str> = failures.iter().take(20).map(String::as_str).collect();
            panic!(
                "{} failure(s); rerun with TRAWL_SEED={:#x}:\n{}",
                failures.len(),
                self.seed,
                shown.join("\n")
            );
        }
    }

    /// A searcher finished an operation.
    pub fn searched(&self) {
        *self.searched.lock().unwrap() += 1;
        self.progress.notify_all();
    }

    /// Holds a writer at its operation `op` until the searchers have done
    /// `op / WRITES_PER_SEARCH` operations, so that searches and writes
    /// interleave throughout the run however fast either side is.
    pub fn pace(&self, op: usize) {
        let needed = (op / WRITES_PER_SEARCH) as u64;
        let searched = self.searched.lock().unwrap();
        drop(
            self.progress
                .wait_while(searched, |n| *n < needed && !self.stopped())
                .unwrap(),
        );
    }

    /// The vector of `id` at `version`.
    pub fn vector(&self, id: u64, version: u64) -> Vec<f32> {
        let mut rng = Rng(mix(mix(self.seed ^ id) ^ version) | 1);
        (0..self.sc.dims).map(|_| rng.unit()).collect()
    }

    /// The vector as the collection keeps it (normalised for cosine).
    pub fn stored(&self, id: u64, version: u64) -> Vec<f64> {
        let v: Vec<f64> = self
            .vector(id, version)
            .into_iter()
            .map(f64::from)
            .collect();
        match self.sc.metric {
            Metric::Cosine => {
                let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                v.into_iter().map(|x| x / norm).collect()
            }
            Metric::Dot | Metric::L2 => v,
        }
    }

    /// The `tag` of `id` at `version` (what writers delete by).
    pub fn tag(&self, id: u64, version: u64) -> u64 {
        mix(mix(self.seed ^ id ^ 0x7a6) ^ version) % TAGS
    }

    /// The payload of `id` at `version`.
    pub fn payload(&self, id: u64, version: u64) -> Payload {
        let mut p = Payload::new();
        p.insert("v".into(), json!(version));
        p.insert("w".into(), json!(self.sc.owner(id)));
        p.insert("bucket".into(), json!(id % BUCKETS));
        p.insert("tag".into(), json!(self.tag(id, version)));
        p
    }

    /// The score the collection answers for `query` against a stored vector.
    pub fn score(&self, query: &[f32], stored: &[f64]) -> f64 {
        let q = query.iter().map(|&x| f64::from(x));
        match self.sc.metric {
            Metric::Cosine => {
                let norm = q.clone().map(|x| x * x).sum::<f64>().sqrt();
                q.zip(stored).map(|(a, b)| a * b).sum::<f64>() / norm
            }
            Metric::Dot => q.zip(stored).map(|(a, b)| a * b).sum(),
            Metric::L2 => -q
                .zip(stored)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt(),
        }
    }

    pub fn random_query(&self, rng: &mut Rng) -> Vec<f32> {
        (0..self.sc.dims).map(|_| rng.unit()).collect()
    }
}

/// Equal within [`TOLERANCE`] (the collection computes in f32).
pub fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= TOLERANCE * (1.0 + want.abs())
}

pub fn same_vector(got: &[f32], want: &[f64]) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(&g, &w)| close(f64::from(g), w))
}

/// The version a payload carries.
pub fn version_of(payload: Option<&Payload>) -> Option<u64> {
    payload?.get("v")?.as_u64()
}
