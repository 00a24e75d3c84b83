//! Trawl's client side: benchmarks, the load generator and the BEIR
//! evaluation runner; the typed HTTP client as it arrives.
//!
//! [`bench`] holds the subcommands of the `trawl-bench` binary; [`eval`] the
//! BEIR evaluation runner `trawl-eval`; [`import`] `trawl import` (files of
//! documents into a collection); [`load`] the load generator `trawl-load`.

pub mod bench;
pub mod eval;
pub mod import;
pub mod load;

use std::fmt;

/// An API key for a server started with `TRAWL_API_KEY` (or the read-only
/// key): sent as `Authorization: Bearer …`, never printed.
#[derive(Clone)]
pub struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl std::str::FromStr for ApiKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// A client builder that sends `key` (if any) with every request.
pub fn http_client(key: Option<&ApiKey>) -> anyhow::Result<reqwest::ClientBuilder> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(ApiKey(key)) = key {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))
            .map_err(|_| anyhow::anyhow!("the API key holds characters a header cannot carry"))?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    Ok(reqwest::Client::builder().default_headers(headers))
}
