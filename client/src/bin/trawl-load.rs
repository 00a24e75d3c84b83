//! `trawl-load`: the HTTP load generator (not written yet).

fn main() {}
