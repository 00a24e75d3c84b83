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

/// Lowers the calling thread's scheduling priority to `nice`, with the
/// kernel's default slice (a thread started by a request thread inherits
/// its short one: see [`prefer_short_slices`]); a failure is logged and
/// otherwise ignored (the work just competes at normal priority).
pub fn lower_priority(nice: i32) {
    if let Err(error) = set_fair_scheduling(Some(nice), 0) {
        tracing::debug!(%error, "cannot lower a background thread's priority");
    }
}

/// The scheduler slice asked for threads that answer requests
/// ([`prefer_short_slices`]): shorter than the kernel's default (0.7 ms
/// times 1 + log2 of the cores), so that such a thread, woken while a build
/// or write thread runs, preempts it at once instead of waiting for the
/// end of its slice or the next tick.
pub const REQUEST_SLICE_NS: u64 = 300_000;

/// Asks the scheduler for short slices ([`REQUEST_SLICE_NS`]) on the
/// calling thread, keeping its policy (normal) and nice value. Linux 6.12
/// and later let a fair thread choose its slice (`sched_setattr`'s
/// `sched_runtime`), and a woken thread with a shorter slice than the
/// running one preempts it; earlier kernels ignore the request. A failure
/// is logged at debug level and otherwise ignored.
pub fn prefer_short_slices() {
    if let Err(error) = set_fair_scheduling(None, REQUEST_SLICE_NS) {
        tracing::debug!(%error, "cannot set a request thread's scheduler slice");
    }
}

/// Sets the calling thread's normal (fair) scheduling: `nice` (`None`:
/// keep the current value) and a slice of `slice_ns` (0: the kernel's
/// default). Where `sched_setattr` fails (Linux before 3.14, or refused by
/// a seccomp profile) only the nice value is set, by `setpriority`.
fn set_fair_scheduling(nice: Option<i32>, slice_ns: u64) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    {
        /// `struct sched_attr` (linux/sched/types.h), first version.
        #[repr(C)]
        struct SchedAttr {
            size: u32,
            policy: u32,
            flags: u64,
            nice: i32,
            priority: u32,
            runtime: u64,
            deadline: u64,
            period: u64,
        }
        // SAFETY: plain system calls on the calling thread's own id.
        let tid = unsafe { libc::gettid() } as libc::id_t;
        // SAFETY: reads the calling thread's nice value.
        let nice = nice.unwrap_or_else(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, tid) });
        let attr = SchedAttr {
            size: std::mem::size_of::<SchedAttr>() as u32,
            policy: libc::SCHED_OTHER as u32,
            flags: 0,
            nice,
            priority: 0,
            runtime: slice_ns,
            deadline: 0,
            period: 0,
        };
        // SAFETY: `attr` is a valid, fully initialised `sched_attr` of the
        // size it states; pid 0 is the calling thread.
        let done =
            unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0u32) };
        if done == 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        // Without the call (an old kernel, or a seccomp profile that
        // refuses it) the nice value can still be set the older way.
        // SAFETY: plain system call on the calling thread's own id.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, nice) } != 0 {
            return Err(error);
        }
    }
    Ok(())
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

    #[cfg(target_os = "linux")]
    #[test]
    #[allow(unsafe_code)]
    fn request_threads_ask_for_short_slices_and_background_ones_drop_them() {
        /// The calling thread's nice value and slice (`None` before Linux
        /// 6.12, which neither honours nor shows a thread's slice).
        fn now() -> (i32, Option<u64>) {
            // SAFETY: reads the calling thread's nice value.
            let nice =
                unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
            let sched = std::fs::read_to_string("/proc/thread-self/sched").unwrap_or_default();
            let slice = sched
                .lines()
                .find(|l| l.starts_with("se.slice"))
                .and_then(|l| l.rsplit(':').next()?.trim().parse::<u64>().ok());
            (nice, slice)
        }
        let (request, background) = std::thread::spawn(|| {
            lower_priority(3);
            prefer_short_slices();
            let request = now();
            // A background thread started from a request thread.
            let background = std::thread::spawn(|| {
                lower_priority(7);
                now()
            })
            .join()
            .unwrap();
            (request, background)
        })
        .join()
        .unwrap();
        println!("request thread {request:?}, background thread {background:?}");
        assert_eq!(request.0, 3, "the nice value is kept");
        assert_eq!(background.0, 7);
        if let (Some(short), Some(default)) = (request.1, background.1) {
            assert_eq!(short, REQUEST_SLICE_NS);
            assert!(default > REQUEST_SLICE_NS, "{default}");
        }
    }
}
