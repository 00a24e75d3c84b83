//! Background work that must not delay requests: segment builds (sealing,
//! merging) run on every core at a lower scheduling priority than the
//! threads that answer requests; and the allocator's housekeeping.
//!
//! Segment builds use all cores when nothing else runs, but a search or a
//! write that wants a core gets it first: the build threads and each
//! collection's sealer thread run at nice [`NICE`] (Linux nice values are per
//! thread; with CFS a nice-10 thread weighs about a tenth of a nice-0 one).

use std::sync::OnceLock;

/// Nice value of build threads (0 is the default, 19 the lowest).
pub const NICE: i32 = 10;

/// The pool segment graphs are built in.
pub(crate) fn pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("trawl-build-{i}"))
            .start_handler(|_| lower_priority(NICE))
            .build()
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "cannot start the build pool; building on one thread at normal priority");
                rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .build()
                    .expect("a one-thread pool")
            })
    })
}

/// Lowers the calling thread's scheduling priority to `nice`; a failure is
/// logged and otherwise ignored (the work just competes at normal priority).
pub fn lower_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    {
        // SAFETY: plain system calls on the calling thread's own id.
        let done = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice)
        };
        if done != 0 {
            tracing::debug!(error = %std::io::Error::last_os_error(), "cannot lower a background thread's priority");
        }
    }
}

/// Hands memory freed by a seal or merge back to the system. glibc's
/// allocator keeps freed pages inside its per-thread arenas (a build
/// allocates from every pool thread, an upsert parses megabytes of JSON), so
/// without this the resident set stays at the high-water mark of the last
/// bulk load rather than at what the segments hold.
pub fn release_freed_memory() {
    if let Some(hook) = RELEASE_HOOK.get() {
        hook();
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim only returns free pages of the allocator's own
    // arenas to the kernel; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What the program's own allocator needs to hand freed memory back, if it
/// is not glibc's (see [`set_release_hook`]).
static RELEASE_HOOK: OnceLock<fn()> = OnceLock::new();

/// Registers `hook` to run in [`release_freed_memory`] (once; later calls are
/// ignored): a binary with its own global allocator purges it there.
pub fn set_release_hook(hook: fn()) {
    let _ = RELEASE_HOOK.set(hook);
}

/// Caps glibc's malloc arenas at one per core, unless `MALLOC_ARENA_MAX` says
/// otherwise. glibc's default (eight per core) gives every thread that
/// allocates (async workers, blocking threads, build threads) an arena of
/// its own, and each keeps its high-water mark of freed memory: with
/// `trawl-bench storage` at 200,000 binary points the server held 330 MB once
/// indexed with the default, 294 MB with this cap and a trim after the model
/// loads. Call once, early, before threads start.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only changes the allocator's tuning.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    #[allow(unsafe_code)]
    fn build_threads_run_at_the_lower_priority() {
        // SAFETY: reads the calling thread's nice value.
        let own = || unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        let before = own();
        let nice = pool().install(|| {
            // SAFETY: reads the calling thread's nice value.
            unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
        });
        assert_eq!(nice, NICE.max(before));
        assert_eq!(own(), before, "the caller's priority must not change");
    }
}
