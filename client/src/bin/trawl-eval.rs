//! `trawl-eval`: a BEIR dataset through a running Trawl over HTTP; nDCG@10,
//! recall@100 and MRR@10 per layout.
//!
//! ```text
//! trawl-eval [--data ../shared/data/scifact] [--layout float,binary] [--exact] [--url http://127.0.0.1:6390]
//! ```

use clap::Parser;
use trawl_client::eval::{self, EvalArgs};

/// Retrieval quality on a BEIR dataset, through the HTTP API.
#[derive(Debug, Parser)]
#[command(name = "trawl-eval", version, about)]
struct Cli {
    #[command(flatten)]
    args: EvalArgs,
}

fn main() -> anyhow::Result<()> {
    eval::run(&Cli::parse().args)
}
