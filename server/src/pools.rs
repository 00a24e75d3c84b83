//! Where a request's CPU and disk work runs.
//!
//! Reads (searches, gets) run on tokio's blocking pool at normal priority.
//! Writes (parsing an upsert's body, applying it) run on a pool of their own
//! whose threads have nice [`WRITE_NICE`]: when a bulk load and searches
//! want the same cores, the searches get them first and the load slows
//! down, rather than every search waiting behind milliseconds of JSON
//! parsing. With cores to spare a write runs as fast as before. Segment
//! builds run lower still (`trawl_index::background::NICE`).

use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinError;

/// Nice value of the write pool's threads (0 is the default, 19 the lowest;
/// under CFS a nice-5 thread weighs about a third of a nice-0 one).
pub const WRITE_NICE: i32 = 5;

/// Which pool a piece of work runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// Reads: normal priority.
    Read,
    /// Writes: [`WRITE_NICE`].
    Write,
}

/// Runs `work` on `pool`'s blocking threads.
pub async fn run<T: Send + 'static>(
    pool: Pool,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, JoinError> {
    match pool {
        Pool::Read => tokio::task::spawn_blocking(work).await,
        Pool::Write => writes().spawn_blocking(work).await,
    }
}

/// The write pool: a runtime used only for its blocking threads, each
/// started at [`WRITE_NICE`] (Linux nice values are per thread).
fn writes() -> &'static Runtime {
    static WRITES: OnceLock<Runtime> = OnceLock::new();
    WRITES.get_or_init(|| {
        let lower = || trawl_index::background::lower_priority(WRITE_NICE);
        Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("trawl-write")
            .on_thread_start(lower)
            .enable_all()
            .build()
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "cannot start the write pool; writes run at normal priority");
                Builder::new_current_thread()
                    .build()
                    .expect("a current-thread runtime")
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nice() -> i32 {
        #[allow(unsafe_code)]
        // SAFETY: reads the calling thread's nice value.
        unsafe {
            libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t)
        }
    }

    #[tokio::test]
    async fn writes_run_at_a_lower_priority_than_reads() {
        let read = run(Pool::Read, nice).await.unwrap();
        let write = run(Pool::Write, nice).await.unwrap();
        assert_eq!(
            write,
            WRITE_NICE.max(read),
            "read at {read}, write at {write}"
        );
    }
}
