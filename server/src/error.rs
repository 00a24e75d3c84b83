//! API errors: one enum, one exhaustive mapping to HTTP status and code, one JSON shape.

use axum::body::HttpBody;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use trawl_encoders::EncodeError;
use trawl_proto::ErrorBody;

use crate::operations::RETAINED_OPERATIONS;

use crate::pools::{self, Pool};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not valid JSON (or not valid UTF-8).
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON of the wrong shape: unknown field, wrong type, unknown enum value.
    #[error("{0}")]
    InvalidBody(String),
    /// A field has a value out of its range.
    #[error("{field}: {reason}")]
    InvalidValue {
        /// The offending field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The body is not declared as `application/json`.
    #[error("expected a request with Content-Type: application/json")]
    UnsupportedMediaType,
    /// The body exceeds the configured size.
    #[error("the request body is larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body arrived too slowly.
    #[error(
        "the request body arrived too slowly: after {grace_secs} s it must average {min_rate} bytes per second"
    )]
    BodyTimeout {
        /// `--body-read-timeout-secs`.
        grace_secs: u64,
        /// `--min-body-bytes-per-sec`.
        min_rate: u64,
    },
    /// The body could not be read: the client broke off, or its framing was refused.
    #[error("the request body could not be read: {0}")]
    IncompleteBody(String),
    /// A count in the request exceeds its configured limit.
    #[error("{field}: {got} exceeds the limit of {limit}")]
    LimitExceeded {
        /// The field (e.g. `inputs`).
        field: String,
        /// The limit.
        limit: usize,
        /// What the request asked for.
        got: usize,
    },
    /// No valid API key was sent.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The key is valid but does not allow this (a write with the read-only key).
    #[error("{0}")]
    Forbidden(&'static str),
    /// No route has this path.
    #[error("no route for {method} {path}")]
    RouteNotFound {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
    /// The route exists but not with this method.
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
    /// The embedding queue is full.
    #[error("{0}")]
    QueueFull(String),
    /// The server is at its concurrency limit.
    #[error("the server is at its limit of concurrent requests; retry shortly")]
    Overloaded,
    /// The request ran past the configured timeout.
    #[error("the request did not finish within {0} s")]
    Timeout(u64),
    /// An upsert ran past the request timeout after writing some points.
    #[error(
        "the upsert did not finish within {seconds} s: the first {written} of its {total} points were written{}, the rest were not (upserting them again is safe); send smaller batches, queue the write with ?wait=false and poll GET /operations/{{id}}, or raise --request-timeout-secs",
        if *in_flight > 0 { format!(" and the {in_flight} after them were being written (they may be stored)") } else { String::new() }
    )]
    UpsertTimeout {
        /// The request timeout.
        seconds: u64,
        /// Points written (the first ones of the request).
        written: usize,
        /// Points after those that were being written.
        in_flight: usize,
        /// Points in the request.
        total: usize,
    },
    /// No operation with that id (or it finished long ago and was forgotten).
    #[error(
        "operation {0:?} does not exist (the last {RETAINED_OPERATIONS} finished operations are kept)"
    )]
    OperationNotFound(String),
    /// The model is still loading (or failed to load).
    #[error("the model is not loaded yet; retry when /readyz answers 200")]
    NotReady,
    /// A vector has the wrong dimension.
    #[error("{field}: expected {expected} dimensions, got {got}")]
    DimensionMismatch {
        /// Where.
        field: String,
        /// The collection's dimension.
        expected: usize,
        /// What was sent.
        got: usize,
    },
    /// A filter is invalid.
    #[error("{0}")]
    InvalidFilter(String),
    /// No such collection.
    #[error("collection {0:?} does not exist")]
    CollectionNotFound(String),
    /// The collection exists already.
    #[error("collection {0:?} already exists")]
    CollectionExists(String),
    /// No such point.
    #[error("point {0} does not exist")]
    PointNotFound(String),
    /// `model` names a model this server does not serve.
    #[error(
        "model {asked:?} is not served here; this server serves {served:?} (see GET /v1/models)"
    )]
    ModelNotFound {
        /// The model asked for.
        asked: String,
        /// The served model's id.
        served: String,
    },
    /// No such alias.
    #[error("alias {0:?} does not exist")]
    AliasNotFound(String),
    /// The name is taken by a collection or an alias.
    #[error("{0}")]
    NameTaken(String),
    /// No stored snapshot of that name.
    #[error("collection {collection:?} has no snapshot {name:?}")]
    SnapshotNotFound {
        /// The collection.
        collection: String,
        /// The snapshot asked for.
        name: String,
    },
    /// An uploaded snapshot is not one, is incomplete, or was altered.
    #[error("invalid snapshot: {0}; nothing was changed")]
    InvalidSnapshot(String),
    /// The collection's files are damaged; it is not served until recovered.
    #[error("collection {name:?} is damaged and not served: {reason}")]
    CollectionDamaged {
        /// The collection.
        name: String,
        /// What was found and what an operator can do.
        reason: String,
    },
    /// The disk is full: the write was not applied; it succeeds again once
    /// space returns.
    #[error(
        "collection {0:?}: no space left on the device; the write was not applied (nothing acknowledged is lost) and writes succeed again once space is freed"
    )]
    InsufficientStorage(String),
    /// A bug or an environment failure; details go to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// HTTP status and stable code, in one exhaustive match.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            Self::InvalidBody(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            Self::InvalidValue { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value"),
            Self::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::LimitExceeded { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "limit_exceeded"),
            Self::BodyTimeout { .. } => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
            Self::IncompleteBody(_) => (StatusCode::BAD_REQUEST, "incomplete_body"),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::RouteNotFound { .. } => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::DimensionMismatch { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "dimension_mismatch")
            }
            Self::InvalidFilter(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_filter"),
            Self::CollectionNotFound(_) => (StatusCode::NOT_FOUND, "collection_not_found"),
            Self::CollectionExists(_) => (StatusCode::CONFLICT, "collection_exists"),
            Self::PointNotFound(_) => (StatusCode::NOT_FOUND, "point_not_found"),
            Self::AliasNotFound(_) => (StatusCode::NOT_FOUND, "alias_not_found"),
            Self::ModelNotFound { .. } => (StatusCode::NOT_FOUND, "model_not_found"),
            Self::NameTaken(_) => (StatusCode::CONFLICT, "name_taken"),
            Self::SnapshotNotFound { .. } => (StatusCode::NOT_FOUND, "snapshot_not_found"),
            Self::InvalidSnapshot(_) => (StatusCode::BAD_REQUEST, "invalid_snapshot"),
            Self::QueueFull(_) => (StatusCode::TOO_MANY_REQUESTS, "queue_full"),
            Self::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            Self::Timeout(_) | Self::UpsertTimeout { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "timeout")
            }
            Self::OperationNotFound(_) => (StatusCode::NOT_FOUND, "operation_not_found"),
            Self::NotReady => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
            Self::CollectionDamaged { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "collection_damaged")
            }
            Self::InsufficientStorage(_) => {
                (StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage")
            }
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    fn details(&self) -> Option<serde_json::Value> {
        match self {
            Self::InvalidValue { field, .. } => Some(serde_json::json!({ "field": field })),
            Self::BodyTooLarge { limit } => Some(serde_json::json!({ "limit": limit })),
            Self::BodyTimeout {
                grace_secs,
                min_rate,
            } => {
                Some(serde_json::json!({ "grace_secs": grace_secs, "min_bytes_per_sec": min_rate }))
            }
            Self::LimitExceeded { field, limit, got } => {
                Some(serde_json::json!({ "field": field, "limit": limit, "got": got }))
            }
            Self::DimensionMismatch {
                field,
                expected,
                got,
            } => Some(serde_json::json!({ "field": field, "expected": expected, "got": got })),
            Self::CollectionDamaged { name, .. } | Self::InsufficientStorage(name) => {
                Some(serde_json::json!({ "collection": name }))
            }
            Self::ModelNotFound { served, .. } => {
                Some(serde_json::json!({ "field": "model", "served": served }))
            }
            Self::SnapshotNotFound { collection, name } => {
                Some(serde_json::json!({ "collection": collection, "snapshot": name }))
            }
            Self::UpsertTimeout {
                seconds,
                written,
                in_flight,
                total,
            } => Some(serde_json::json!({
                "timeout_secs": seconds, "written": written, "in_flight": in_flight, "points": total
            })),
            _ => None,
        }
    }

    /// [`ApiError::LimitExceeded`] when `got` is over `limit`.
    pub fn check_limit(field: &str, got: usize, limit: usize) -> Result<(), Self> {
        if got > limit {
            return Err(Self::LimitExceeded {
                field: field.to_string(),
                limit,
                got,
            });
        }
        Ok(())
    }

    /// Shorthand for [`ApiError::InvalidValue`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidValue {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl ApiError {
    /// The error's body (a 500's message hides internals, which go to the log).
    pub fn body(&self) -> ErrorBody {
        let (_, code) = self.status_and_code();
        let message = if let Self::Internal(detail) = self {
            tracing::error!(error = %detail, "internal error");
            "internal error; see the server log".to_string()
        } else {
            self.to_string()
        };
        let body = ErrorBody::new(code, message);
        match self.details() {
            Some(details) => body.with_details(details),
            None => body,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        let mut response = (status, axum::Json(self.body())).into_response();
        if matches!(self, Self::Unauthorized(_)) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if matches!(
            self,
            Self::Overloaded
                | Self::QueueFull(_)
                | Self::NotReady
                | Self::Timeout(_)
                | Self::UpsertTimeout { .. }
        ) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<EncodeError> for ApiError {
    fn from(error: EncodeError) -> Self {
        match error {
            EncodeError::InvalidArgument { field, reason } => Self::invalid(field, reason),
            EncodeError::QueueFull { .. } => Self::QueueFull(error.to_string()),
            EncodeError::Stopped => Self::NotReady,
            EncodeError::Io { .. }
            | EncodeError::InvalidModel { .. }
            | EncodeError::Runtime { .. }
            | EncodeError::Onnx(_)
            | EncodeError::Tokenizer(_) => Self::Internal(error.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonSyntaxError(e) => {
                let text = e.body_text();
                number_out_of_range(&text).unwrap_or(Self::MalformedJson(text))
            }
            JsonRejection::JsonDataError(e) => Self::InvalidBody(e.body_text()),
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::BodyTooLarge { limit: 0 }
            }
            other => Self::MalformedJson(other.body_text()),
        }
    }
}

/// A well-formed number too large for its field (`1e39` where an `f32` goes).
///
/// With `float_roundtrip` (see proto's Cargo.toml) serde_json reports it as a
/// syntax error, but the JSON is fine and the value is wrong: 422
/// `invalid_value` naming the field, as for any other out-of-range value.
/// axum words the rejection `Failed to parse the request body as JSON: {path}: {error}`.
fn number_out_of_range(text: &str) -> Option<ApiError> {
    let detail = text.split_once("JSON: ").map_or(text, |(_, rest)| rest);
    let (field, reason) = detail.rsplit_once(": ")?;
    reason
        .starts_with("number out of range")
        .then(|| ApiError::invalid(field, reason))
}

/// A JSON body extractor whose rejections use the API's error shape; a large
/// body is parsed on the read pool (see [`crate::pools`]).
pub struct ApiJson<T>(pub T);

/// [`ApiJson`] for a route that changes data: a large body is parsed on the
/// write pool, at a lower priority than searches.
pub struct WriteJson<T>(pub T);

/// The configured body limit, stored as a request extension so that 413 answers can name it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Bodies at least this large are parsed off the async workers: parsing an
/// upsert of a few hundred 384-d vectors takes milliseconds, and on an async
/// worker it would hold up every request queued behind it.
const PARSE_OFF_WORKERS: u64 = 32 * 1024;

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send + 'static,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        parse(req, state, Pool::Read).await.map(Self)
    }
}

impl<S, T> FromRequest<S> for WriteJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send + 'static,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        parse(req, state, Pool::Write).await.map(Self)
    }
}

/// Parses a JSON body (small ones in place, large ones on `pool`).
async fn parse<S, T>(req: Request, state: &S, pool: Pool) -> Result<T, ApiError>
where
    S: Send + Sync,
    T: DeserializeOwned + Send + 'static,
{
    let limit = req.extensions().get::<BodyLimit>().map(|l| l.0);
    let parsed = if req.body().size_hint().lower() >= PARSE_OFF_WORKERS {
        // The body is already in memory (`body::read_first`), so the
        // extractor's future completes without waiting on the network.
        pools::run(pool, move || {
            tokio::runtime::Handle::current().block_on(axum::Json::<T>::from_request(req, &()))
        })
        .await
        .map_err(|e| ApiError::Internal(format!("parsing the body: {e}")))?
    } else {
        axum::Json::<T>::from_request(req, state).await
    };
    match parsed {
        Ok(axum::Json(value)) => Ok(value),
        Err(rejection) => Err(match ApiError::from(rejection) {
            ApiError::BodyTooLarge { .. } => ApiError::BodyTooLarge {
                limit: limit.unwrap_or_default(),
            },
            other => other,
        }),
    }
}

impl From<trawl_index::IndexError> for ApiError {
    fn from(error: trawl_index::IndexError) -> Self {
        use trawl_index::IndexError as E;
        match error {
            E::DimensionMismatch {
                field,
                expected,
                got,
            } => Self::DimensionMismatch {
                field,
                expected,
                got,
            },
            E::InvalidVector { field, reason } | E::InvalidParameter { field, reason } => {
                Self::InvalidValue { field, reason }
            }
            E::Filter(e) => Self::InvalidFilter(e.to_string()),
            E::CollectionNotFound(name) => Self::CollectionNotFound(name),
            E::CollectionExists(name) => Self::CollectionExists(name),
            E::PointNotFound(id) => Self::PointNotFound(id),
            E::AliasNotFound(alias) => Self::AliasNotFound(alias),
            E::NameTaken(message) => Self::NameTaken(message),
            E::LimitExceeded { field, limit, got } => Self::LimitExceeded { field, limit, got },
            E::Storage(e) => Self::Internal(e.to_string()),
            E::InsufficientStorage { collection, source } => {
                tracing::error!(collection, error = %source, "disk full");
                Self::InsufficientStorage(collection)
            }
            E::CollectionDamaged { name, reason } => Self::CollectionDamaged { name, reason },
            E::SnapshotNotFound { collection, name } => Self::SnapshotNotFound { collection, name },
            E::InvalidSnapshot(reason) => Self::InvalidSnapshot(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_out_of_range_is_an_invalid_value() {
        let error = number_out_of_range(
            "Failed to parse the request body as JSON: points[0].vector[3]: number out of range at line 1 column 40",
        )
        .expect("out of range");
        assert_eq!(error.status_and_code().1, "invalid_value");
        assert!(
            error
                .to_string()
                .starts_with("points[0].vector[3]: number out of range")
        );
        assert!(
            number_out_of_range(
                "Failed to parse the request body as JSON: expected value at line 1 column 1"
            )
            .is_none()
        );
    }
}
