//! Trawl's client side: benchmarks, the load generator and the BEIR
//! evaluation runner; the typed HTTP client as it arrives.
//!
//! [`bench`] holds the subcommands of the `trawl-bench` binary; [`eval`] the
//! BEIR evaluation runner `trawl-eval`; [`load`] the load generator `trawl-load`.

pub mod bench;
pub mod eval;
pub mod load;
