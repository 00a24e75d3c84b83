//! Sending: the closed loop (a fixed number of workers, each with one request
//! in flight) and the open loop (requests at fixed intended times, latency
//! measured from the intended time), with a progress line every second.
//!
//! The open loop follows wrk2's answer to coordinated omission: when the
//! server stalls, the requests that should have been sent meanwhile are still
//! timed from when they should have been sent, so the stall shows in every
//! one of them rather than in a single slow sample.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::report::{LatencySummary, OpenLoopReport, Outcome, Recorder, histogram, record_latency};
use super::workload::{Op, Workload};

/// A request that starts this long after its intended time is counted late.
pub const LATE_AFTER: Duration = Duration::from_millis(10);

/// When a run stops: after a time, after a number of requests, or at the first of both.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Stop starting requests after this long.
    pub duration: Option<Duration>,
    /// Stop after this many requests.
    pub requests: Option<u64>,
}

/// Counters shared by the senders, the progress line and the report.
#[derive(Debug, Default)]
pub struct Shared {
    recorder: Mutex<Recorder>,
    done: AtomicU64,
    errors: AtomicU64,
    in_flight: AtomicU64,
}

impl Shared {
    fn record(&self, op: Op, outcome: Outcome, latency: Duration) {
        self.recorder
            .lock()
            .expect("recorder lock")
            .record(op, outcome, latency);
        self.done.fetch_add(1, Ordering::Relaxed);
        if !outcome.is_ok() {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What was recorded.
    pub fn into_recorder(self: Arc<Self>) -> Recorder {
        match Arc::try_unwrap(self) {
            Ok(shared) => shared.recorder.into_inner().expect("recorder lock"),
            // A sender still holds a reference (it cannot still record: every
            // sender has finished when this is called); copy what is there.
            Err(shared) => shared.recorder.lock().expect("recorder lock").clone(),
        }
    }
}

/// Sends request `seq` and waits for the whole answer.
async fn send(
    client: &reqwest::Client,
    workload: &Workload,
    shared: &Shared,
    seq: u64,
) -> (Op, Outcome) {
    let request = workload.request(seq);
    shared.in_flight.fetch_add(1, Ordering::Relaxed);
    let result = client
        .request(request.op.method(), request.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(request.body)
        .send()
        .await;
    let outcome = match result {
        Ok(response) => {
            let status = response.status().as_u16();
            // Read the body: the latency includes it, and the connection is reused.
            match response.bytes().await {
                Ok(_) => Outcome::Status(status),
                Err(e) => Outcome::of_error(&e),
            }
        }
        Err(e) => Outcome::of_error(&e),
    };
    shared.in_flight.fetch_sub(1, Ordering::Relaxed);
    (request.op, outcome)
}

/// Runs `workers` tasks, each sending its next request as soon as the
/// previous one is answered, until `limit`. Returns the wall time from the
/// start to the last answer.
pub async fn closed_loop(
    client: &reqwest::Client,
    workload: &Arc<Workload>,
    workers: usize,
    limit: Limit,
    shared: &Arc<Shared>,
) -> Duration {
    let started = Instant::now();
    let deadline = limit.duration.map(|d| started + d);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..workers {
        let (client, workload, shared, next) = (
            client.clone(),
            Arc::clone(workload),
            Arc::clone(shared),
            Arc::clone(&next),
        );
        tasks.spawn(async move {
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if limit.requests.is_some_and(|n| seq >= n) {
                    break;
                }
                let sent = Instant::now();
                let (op, outcome) = send(&client, &workload, &shared, seq).await;
                shared.record(op, outcome, sent.elapsed());
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined
            && e.is_panic()
        {
            std::panic::resume_unwind(e.into_panic());
        }
    }
    started.elapsed()
}

/// When request `seq` of an open loop at `rate` requests per second should
/// start, counted from the run's start.
pub fn intended_offset(seq: u64, rate: f64) -> Duration {
    Duration::from_secs_f64(seq as f64 / rate)
}

/// How many requests an open loop at `rate` holds within `limit`: the `seq`
/// whose intended offset falls before the duration, at most `limit.requests`.
pub fn schedule_len(rate: f64, limit: Limit) -> u64 {
    let by_time = limit.duration.map_or(u64::MAX, |d| {
        // ceil(d · rate), forgiving the last bit of floating-point error:
        // 0.3 s at 10/s is 3 requests (0, 0.1 s, 0.2 s), not 4.
        let exact = d.as_secs_f64() * rate;
        (exact - exact * 1e-12).ceil().max(0.0) as u64
    });
    by_time.min(limit.requests.unwrap_or(u64::MAX))
}

/// Sends requests at `rate` per second at fixed intended times, each timed
/// from its intended time, with at most `max_in_flight` waiting for answers.
///
/// When the cap is reached the schedule waits for an answer (and the wait
/// counts in the waiting requests' latency); a request that still cannot
/// start when the run's time is up is dropped, and so are the rest.
pub async fn open_loop(
    client: &reqwest::Client,
    workload: &Arc<Workload>,
    rate: f64,
    max_in_flight: usize,
    limit: Limit,
    shared: &Arc<Shared>,
) -> (Duration, OpenLoopReport) {
    let scheduled = schedule_len(rate, limit);
    let permits = Arc::new(Semaphore::new(max_in_flight));
    let mut lag = histogram();
    let mut late = 0u64;
    let mut sent = 0u64;
    let started = Instant::now();
    let window_end = limit.duration.map(|d| started + d);
    for seq in 0..scheduled {
        let intended = started + intended_offset(seq, rate);
        tokio::time::sleep_until(intended).await;
        let permit = match Arc::clone(&permits).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                let wait = Arc::clone(&permits).acquire_owned();
                let acquired = match window_end {
                    Some(end) => tokio::time::timeout_at(end, wait).await.ok(),
                    None => Some(wait.await),
                };
                match acquired {
                    Some(Ok(p)) => p,
                    _ => break,
                }
            }
        };
        let now = Instant::now();
        let behind = now.saturating_duration_since(intended);
        record_latency(&mut lag, behind);
        if behind > LATE_AFTER {
            late += 1;
        }
        sent += 1;
        let (client, workload, shared) = (client.clone(), Arc::clone(workload), Arc::clone(shared));
        tokio::spawn(async move {
            let _permit = permit;
            let (op, outcome) = send(&client, &workload, &shared, seq).await;
            shared.record(op, outcome, intended.elapsed());
        });
    }
    // Every answer is in when every permit is back.
    let all = u32::try_from(max_in_flight).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
    let elapsed = started.elapsed();
    let done = shared.done.load(Ordering::Relaxed);
    let report = OpenLoopReport {
        target_rate: rate,
        scheduled,
        sent,
        dropped: scheduled - sent,
        late,
        late_after_ms: LATE_AFTER.as_secs_f64() * 1e3,
        achieved_rps: (done as f64 / elapsed.as_secs_f64().max(1e-9) * 100.0).round() / 100.0,
        start_lag_ms: LatencySummary::of(&lag),
    };
    (elapsed, report)
}

/// Prints one line on stderr every second until aborted: elapsed time,
/// requests done, the rate over the last second, errors, requests in flight.
pub async fn progress(shared: Arc<Shared>, label: &'static str) {
    let started = Instant::now();
    let mut ticks =
        tokio::time::interval_at(started + Duration::from_secs(1), Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = (started, 0u64);
    loop {
        ticks.tick().await;
        let now = Instant::now();
        let done = shared.done.load(Ordering::Relaxed);
        let rate = (done - last.1) as f64 / now.duration_since(last.0).as_secs_f64().max(1e-9);
        last = (now, done);
        eprintln!(
            "{label}: {:>6.1} s  {done:>9} requests  {rate:>8.1} req/s  errors {}  in flight {}",
            started.elapsed().as_secs_f64(),
            shared.errors.load(Ordering::Relaxed),
            shared.in_flight.load(Ordering::Relaxed),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(duration_ms: Option<u64>, requests: Option<u64>) -> Limit {
        Limit {
            duration: duration_ms.map(Duration::from_millis),
            requests,
        }
    }

    #[test]
    fn the_schedule_spaces_requests_evenly() {
        assert_eq!(intended_offset(0, 200.0), Duration::ZERO);
        assert_eq!(intended_offset(1, 200.0), Duration::from_millis(5));
        assert_eq!(intended_offset(6_000, 200.0), Duration::from_secs(30));
        assert_eq!(intended_offset(3, 0.5), Duration::from_secs(6));
    }

    #[test]
    fn the_schedule_holds_every_slot_inside_the_window() {
        assert_eq!(schedule_len(200.0, limit(Some(30_000), None)), 6_000);
        assert_eq!(schedule_len(50.0, limit(Some(2_000), None)), 100);
        assert_eq!(schedule_len(10.0, limit(Some(300), None)), 3);
        // 0, 0.4 s, 0.8 s.
        assert_eq!(schedule_len(2.5, limit(Some(1_000), None)), 3);
        assert_eq!(schedule_len(200.0, limit(Some(30_000), Some(10))), 10);
        assert_eq!(schedule_len(200.0, limit(None, Some(10))), 10);
        assert_eq!(schedule_len(200.0, limit(Some(0), None)), 0);
        // Every counted slot's offset is inside the window, and the next is not.
        for (rate, ms) in [(7.0, 1_000), (333.0, 2_500), (0.5, 9_000), (1_000.0, 1)] {
            let n = schedule_len(rate, limit(Some(ms), None));
            let window = Duration::from_millis(ms);
            assert!(
                n == 0 || intended_offset(n - 1, rate) < window,
                "{rate} {ms}"
            );
            assert!(intended_offset(n, rate) >= window, "{rate} {ms}");
        }
    }
}
