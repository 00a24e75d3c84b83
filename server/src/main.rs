//! The `trawl` binary.

use clap::Parser;
use tracing_subscriber::EnvFilter;
use trawl_server::{Cli, Command};

/// jemalloc for the server's own allocations: glibc's allocator left a
/// bulk load's freed memory resident in its arenas, spread over pages that
/// still held a few live allocations each (on 200,000 binary points, 16 MB
/// resident in one arena that held 2.7 MB).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options: a background thread returns freed pages to the
/// system a second after they are freed, rather than on a later allocation.
#[allow(non_upper_case_globals, unsafe_code)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &[u8; 60] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

/// Returns jemalloc's freed pages to the system at once (after a segment is
/// sealed or merged), rather than after its decay time.
#[allow(unsafe_code)]
fn purge_allocator() {
    // "arena.<MALLCTL_ARENAS_ALL>.purge": every arena.
    let name = c"arena.4096.purge";
    // SAFETY: a documented mallctl that reads and writes nothing.
    let done = unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    if done != 0 {
        tracing::debug!(code = done, "jemalloc purge failed");
    }
}

fn main() -> std::process::ExitCode {
    // Before any thread starts (see the function).
    trawl_index::background::limit_arenas();
    trawl_index::background::set_release_hook(purge_allocator);
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Its workers and blocking threads answer requests (searches run
        // on the latter): short slices, so builds and writes yield to them.
        .on_thread_start(trawl_index::background::prefer_short_slices)
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(error) => {
            eprintln!("trawl: cannot start the async runtime: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(config) => {
            init_tracing(config.http.log_json);
            match trawl_server::serve(*config).await {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!("{error:#}");
                    eprintln!("trawl: {error:#}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        Command::Import(args) => match trawl_client::import::run(&args).await {
            Ok(_) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("trawl import: {error:#}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::Openapi => match serde_json::to_string_pretty(&trawl_server::app::openapi()) {
            Ok(document) => {
                println!("{document}");
                std::process::ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("trawl openapi: {error}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::Probe(args) => match trawl_server::probe::status(&args) {
            Ok(200) => std::process::ExitCode::SUCCESS,
            Ok(code) => {
                eprintln!("trawl probe: {}{} answered {code}", args.addr, args.path);
                std::process::ExitCode::FAILURE
            }
            Err(error) => {
                eprintln!("trawl probe: {error:#}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}

fn init_tracing(json: bool) {
    let filter = EnvFilter::try_from_env("TRAWL_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        // hnsw_rs reports each graph it makes at INFO: the appendable
        // segment's small graphs would fill the log.
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,hnsw_rs=warn"));
    // Colour codes only when a person reads the log on a terminal.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
