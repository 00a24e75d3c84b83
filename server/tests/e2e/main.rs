//! End-to-end tests: each starts the real `trawl` binary on a loopback port and
//! talks HTTP to it.

mod embed;
mod foundation;
mod support;
