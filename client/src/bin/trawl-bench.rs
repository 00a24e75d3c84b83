//! `trawl-bench`: Trawl's benchmarks, one subcommand each.
//!
//! ```text
//! trawl-bench encode [--precision fp32,int8] [--workloads short,long] [--concurrency 1,8,64] ...
//! trawl-bench storage [--points 200000] [--layout binary] [--kill] ...
//! ```
//!
//! Run from the workspace root so that the default model, runtime and data
//! paths resolve; every subcommand prints a table and writes JSON under `--out`.

use clap::{Parser, Subcommand};
use trawl_client::bench::ann::{self, AnnArgs};
use trawl_client::bench::encode::{self, EncodeArgs};
use trawl_client::bench::export::{self, ExportArgs};
use trawl_client::bench::graph::{self, GraphArgs};
use trawl_client::bench::hybrid::{self, HybridArgs};
use trawl_client::bench::muvera::{self, MuveraArgs};
use trawl_client::bench::sparse::{self, SparseArgs};
use trawl_client::bench::storage::{self, StorageArgs};

/// Trawl's benchmarks.
#[derive(Debug, Parser)]
#[command(name = "trawl-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Embedding throughput in-process and through HTTP, fp32 and int8, short and long texts.
    Encode(Box<EncodeArgs>),
    /// Embed a text corpus into a vector benchmark directory (base, queries, exact top-100, metadata).
    Export(Box<ExportArgs>),
    /// The index on a vector benchmark directory: build, recall@10 and queries/s over an ef sweep.
    Ann(Box<AnnArgs>),
    /// The HNSW graph builders alone on a vector benchmark directory: build time, RAM, recall@10 and queries/s.
    Graph(Box<GraphArgs>),
    /// Multi-vector retrieval with MUVERA on SciFact: token vectors, exact Chamfer vs FDE + rerank.
    Muvera(Box<MuveraArgs>),
    /// Dense, lexical and hybrid query latency side by side through a started server.
    Hybrid(Box<HybridArgs>),
    /// Sparse vectors in-process: pruned (MaxScore) against brute-force search on SPLADE-shaped vectors.
    Sparse(Box<SparseArgs>),
    /// The storage engine through a started server: RAM per point, snapshot peak, restart, recall, latency under writes.
    Storage(Box<StorageArgs>),
}

fn main() -> anyhow::Result<()> {
    // In-process collections (`ann`) log their sealing and merges; `RUST_LOG`
    // picks what is shown (warnings by default).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Encode(args) => encode::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Ann(args) => ann::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Muvera(args) => muvera::run(&args),
        Command::Storage(args) => storage::run(&args),
        Command::Hybrid(args) => hybrid::run(&args),
        Command::Sparse(args) => sparse::run(&args),
    }
}
