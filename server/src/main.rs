//! The `trawl` binary.

use clap::Parser;
use tracing_subscriber::EnvFilter;
use trawl_server::{Cli, Command};

fn main() -> std::process::ExitCode {
    // Before any thread starts (see the function).
    trawl_index::background::limit_arenas();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
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
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
