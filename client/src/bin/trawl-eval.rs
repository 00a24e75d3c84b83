//! `trawl-eval`: the BEIR evaluation runner (not written yet).

fn main() {}
