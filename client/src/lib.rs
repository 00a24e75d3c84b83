//! Trawl's client side: benchmarks now; the typed HTTP client, the load
//! generator and the BEIR evaluation runner as they arrive.
//!
//! [`bench`] holds the subcommands of the `trawl-bench` binary; [`eval`] the
//! BEIR evaluation runner `trawl-eval`.

pub mod bench;
pub mod eval;
