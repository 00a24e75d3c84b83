//! `trawl-load`: a load generator for Trawl's HTTP API. Closed loop (N
//! workers) or open loop (a fixed rate, timed from each request's intended
//! start); prints throughput, latency percentiles and errors by status,
//! writes the JSON report, and exits 1 when the error rate passes
//! `--max-error-rate`.
//!
//! ```text
//! trawl-load [--url http://127.0.0.1:6390] [--setup] [--workload search|upsert|embed|mix]
//!            [--concurrency 16 | --rate 200] [--duration 60s | --requests N] [--json bench-out/load.json]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use trawl_client::load::{self, LoadArgs};

/// Load generator for Trawl's HTTP API.
#[derive(Debug, Parser)]
#[command(name = "trawl-load", version, about)]
struct Cli {
    #[command(flatten)]
    args: LoadArgs,
    /// Where the JSON report goes.
    #[arg(long, default_value = "bench-out/load.json")]
    json: PathBuf,
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let report = load::run(&cli.args)?;
    print!("{}", report.table());
    if let Some(dir) = cli.json.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut text = serde_json::to_string_pretty(&report)?;
    text.push('\n');
    std::fs::write(&cli.json, text)
        .with_context(|| format!("cannot write {}", cli.json.display()))?;
    eprintln!("load: wrote {}", cli.json.display());
    match report.failure(cli.args.max_error_rate) {
        Some(why) => {
            eprintln!("load: FAILED: {why}");
            Ok(ExitCode::FAILURE)
        }
        None => Ok(ExitCode::SUCCESS),
    }
}
