//! End-to-end tests: each starts the real `trawl` binary on a loopback port and
//! talks HTTP to it.

mod aliases;
mod browse;
mod cluster;
mod collections;
mod crash;
mod embed;
mod foundation;
mod hostile;
mod hybrid;
mod ids;
mod import;
mod load;
mod named;
mod operations;
mod recall;
mod security;
mod snapshots;
mod sparse;
mod storage;
mod support;
