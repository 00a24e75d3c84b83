//! API keys: who may call what.
//!
//! Two optional keys, as Qdrant has them: the full key (`TRAWL_API_KEY`)
//! opens every route; the read-only key (`TRAWL_READ_ONLY_API_KEY`) opens
//! reads (`GET`, embedding, search) and gets 403 on writes. A key travels as
//! `Authorization: Bearer <key>` or `api-key: <key>`. With no key configured
//! the API is open. `/healthz`, `/readyz` and `/openapi.json` are always open
//! (probes and documentation carry no data); `/metrics` needs a key unless
//! `--public-metrics` is set.
//!
//! Keys are compared in constant time (for a given length), and never logged:
//! [`Secret`]'s `Debug` prints a placeholder and the request span records only
//! method, path and request id.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::ApiError;

/// A configured key: its text never reaches `Debug` output or the logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    fn matches(&self, offered: &[u8]) -> bool {
        bool::from(self.0.as_bytes().ct_eq(offered))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl FromStr for Secret {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() < MIN_KEY_LEN {
            return Err(format!(
                "an API key needs at least {MIN_KEY_LEN} characters"
            ));
        }
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("an API key may hold only printable ASCII without spaces".into());
        }
        Ok(Self(s.to_owned()))
    }
}

/// Shortest accepted key: short keys are guessable.
pub const MIN_KEY_LEN: usize = 16;

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// The keys and the metrics switch, shared by the middleware.
#[derive(Debug, Clone)]
pub struct Auth {
    full: Option<Secret>,
    read_only: Option<Secret>,
    public_metrics: bool,
}

impl Auth {
    /// Keys from the configuration; `None` for both leaves the API open.
    pub fn new(full: Option<Secret>, read_only: Option<Secret>, public_metrics: bool) -> Self {
        Self {
            full,
            read_only,
            public_metrics,
        }
    }

    /// Whether any key is configured.
    pub fn enabled(&self) -> bool {
        self.full.is_some() || self.read_only.is_some()
    }

    /// What the request's key grants, or the error to answer.
    fn check(&self, method: &Method, path: &str, headers: &HeaderMap) -> Result<(), ApiError> {
        if !self.enabled() || is_open(path, self.public_metrics) {
            return Ok(());
        }
        let offered = offered_key(headers).ok_or(ApiError::Unauthorized(
            "this server requires an API key: send `Authorization: Bearer <key>` or `api-key: <key>`",
        ))?;
        // Check both keys, whatever the first gives, so timing tells nothing.
        let full = self.full.as_ref().is_some_and(|k| k.matches(offered));
        let read = self.read_only.as_ref().is_some_and(|k| k.matches(offered));
        match (full, read, access(method, path)) {
            (true, _, _) | (false, true, Access::Read) => Ok(()),
            (false, true, Access::Write) => Err(ApiError::Forbidden(
                "the read-only API key cannot change data; use the full key",
            )),
            (false, false, _) => Err(ApiError::Unauthorized("the API key is not valid")),
        }
    }
}

/// Routes that never need a key (the console's files hold no data: the
/// console asks for the key and sends it with each API call).
fn is_open(path: &str, public_metrics: bool) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/openapi.json" | "/console")
        || path.starts_with("/console/")
        || (public_metrics && path == "/metrics")
}

/// Reads change nothing: every `GET`, embedding, and the `POST`s that only
/// read a collection (search, batch search, query, scroll, count, facet).
fn access(method: &Method, path: &str) -> Access {
    let reads_collection = || {
        let mut parts = path.strip_prefix("/collections/").unwrap_or("").split('/');
        let _name = parts.next();
        matches!(
            parts.collect::<Vec<_>>().as_slice(),
            ["search"]
                | ["search", "batch"]
                | ["query"]
                | ["points", "scroll" | "count"]
                | ["facet"]
        )
    };
    let read = *method == Method::GET
        || *method == Method::HEAD
        || (*method == Method::POST
            && (path == "/embed" || path == "/v1/embeddings" || reads_collection()));
    if read { Access::Read } else { Access::Write }
}

/// The key from `Authorization: Bearer …` or `api-key: …`, if either is present.
fn offered_key(headers: &HeaderMap) -> Option<&[u8]> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.as_bytes();
        let scheme = b"bearer ";
        if value.len() > scheme.len() && value[..scheme.len()].eq_ignore_ascii_case(scheme) {
            return Some(value[scheme.len()..].trim_ascii());
        }
    }
    headers.get("api-key").map(|v| v.as_bytes().trim_ascii())
}

/// The middleware: answers 401/403 before the request reaches a handler.
pub async fn require_key(State(auth): State<Arc<Auth>>, request: Request, next: Next) -> Response {
    match auth.check(request.method(), request.uri().path(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn key(s: &str) -> Secret {
        s.parse().unwrap()
    }

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn debug_output_hides_the_key() {
        let auth = Auth::new(Some(key("full-key-0123456789")), None, false);
        assert!(!format!("{auth:?}").contains("0123456789"));
    }

    #[test]
    fn short_or_odd_keys_are_refused_at_start() {
        assert!("short".parse::<Secret>().is_err());
        assert!("with a space in it....".parse::<Secret>().is_err());
    }

    #[test]
    fn reads_and_writes_are_told_apart() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(access(&get, "/collections/a"), Access::Read);
        assert_eq!(access(&post, "/collections/a/search"), Access::Read);
        assert_eq!(access(&post, "/collections/a/search/batch"), Access::Read);
        assert_eq!(access(&post, "/embed"), Access::Read);
        assert_eq!(access(&post, "/v1/embeddings"), Access::Read);
        assert_eq!(access(&Method::PUT, "/collections/a/points"), Access::Write);
        assert_eq!(access(&post, "/collections/a/points/delete"), Access::Write);
        assert_eq!(access(&post, "/collections/a/snapshots"), Access::Write);
        assert_eq!(access(&Method::DELETE, "/collections/a"), Access::Write);
    }

    #[test]
    fn both_header_forms_are_read() {
        let full = "full-key-0123456789";
        let auth = Auth::new(Some(key(full)), None, false);
        let put = Method::PUT;
        let path = "/collections/a";
        assert!(
            auth.check(
                &put,
                path,
                &headers("authorization", &format!("Bearer {full}"))
            )
            .is_ok()
        );
        assert!(
            auth.check(
                &put,
                path,
                &headers("authorization", &format!("bearer {full}"))
            )
            .is_ok()
        );
        assert!(auth.check(&put, path, &headers("api-key", full)).is_ok());
        assert!(
            auth.check(&put, path, &headers("authorization", full))
                .is_err()
        );
        assert!(auth.check(&put, path, &HeaderMap::new()).is_err());
    }
}
