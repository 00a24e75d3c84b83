//! HTTP handlers, one file per concern.

pub mod aliases;
pub mod browse;
pub mod cluster;
pub mod collections;
pub mod console;
pub mod embed;
pub mod health;
pub mod openai;
pub mod operations;
pub mod points;
pub mod query;
pub mod search;
pub mod snapshots;
pub mod upsert;

use std::collections::BTreeMap;

use trawl_proto::ErrorBody;

use crate::error::ApiError;
use crate::pools::{self, Pool};
use crate::state::AppState;

/// The `{name}` path parameter of the collection routes.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CollectionPath {
    /// Collection name: 1 to 64 of `[A-Za-z0-9_-]`, starting with a letter or
    /// digit (the rule the store checks).
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    pub name: String,
}

/// The `{name}` and `{id}` path parameters of `GET /collections/{name}/points/{id}`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PointPath {
    /// Collection name.
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    pub name: String,
    /// Point id: digits name an unsigned integer id; anything else
    /// (percent-encoded) a UUID (any of its forms) or a string id of 1 to 256
    /// bytes. A string id made of digits is reached through a scroll with a
    /// `has_id` filter.
    #[param(min_length = 1, max_length = 768)]
    pub id: String,
}

/// What a route with a JSON body answers before its handler runs, listed in
/// each such route's `responses(...)` so that the document names them.
#[derive(utoipa::IntoResponses)]
pub enum BodyRejections {
    /// The body is not valid JSON (or not UTF-8), or broke off.
    #[response(
        status = 400,
        description = "Malformed JSON, or a body that broke off (`incomplete_body`)"
    )]
    Malformed(ErrorBody),
    /// The body arrived slower than `--min-body-bytes-per-sec`.
    #[response(
        status = 408,
        description = "The body arrived too slowly (`body_timeout`, see --min-body-bytes-per-sec)"
    )]
    BodyTimeout(ErrorBody),
    /// The request does not declare `Content-Type: application/json`.
    #[response(
        status = 415,
        description = "The body is not declared as application/json"
    )]
    UnsupportedMediaType(ErrorBody),
}

/// What every API route (not the probes) answers when the server cannot take
/// the request: at its concurrency limit, past the request timeout, or before
/// storage is open.
#[derive(utoipa::IntoResponses)]
pub enum Unavailable {
    /// Overloaded, timed out or not ready.
    #[response(
        status = 503,
        description = "Overloaded, timed out, not ready yet, or (collection routes) the collection is damaged"
    )]
    Unavailable(ErrorBody),
}

/// What a route that writes to a collection answers when the disk is full.
#[derive(utoipa::IntoResponses)]
pub enum StorageFull {
    /// No space left: nothing was applied; retry once space is freed.
    #[response(
        status = 507,
        description = "No space left on the device: the write was not applied, and writes succeed again once space is freed"
    )]
    InsufficientStorage(ErrorBody),
}

/// What every API route answers when the server has API keys and the request
/// carries none, or a wrong one (see docs/configuration.md, Security).
#[derive(utoipa::IntoResponses)]
pub enum KeyRequired {
    /// No valid key.
    #[response(
        status = 401,
        description = "The server has API keys and the request carries no valid one"
    )]
    Unauthorized(ErrorBody),
}

/// What a route that changes data answers to the read-only key.
#[derive(utoipa::IntoResponses)]
pub enum ReadOnlyKey {
    /// A write with the read-only key.
    #[response(status = 403, description = "The read-only API key cannot change data")]
    Forbidden(ErrorBody),
}

/// Runs CPU or disk work of a read on the blocking pool, never on the async workers.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    pools::run(Pool::Read, work)
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task: {e}")))?
}

/// Runs the work of a write on the write pool (below searches' priority).
pub async fn blocking_write<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    pools::run(Pool::Write, work)
        .await
        .map_err(|e| ApiError::Internal(format!("write task: {e}")))?
}

/// Vectors given directly or as text to embed, for the items of one request.
///
/// Items are numbered in request order; `take` records each item's vector,
/// token vectors or text, and `resolve` embeds all texts at once and returns
/// every vector (for a multi-vector collection, each item's token vectors
/// one after another).
#[derive(Clone)]
pub struct Vectors {
    vectors: Vec<Vec<f32>>,
    texts: Vec<(usize, String)>,
    /// The collection's vector (or token) dimension.
    dims: usize,
    /// The field of the first text, for errors about all of them.
    text_field: Option<String>,
    /// `Some(dims)` for a multi-vector collection of that token dimension.
    multivector: Option<usize>,
    max_tokens: usize,
}

impl Vectors {
    /// For a collection of `layout` with vectors (or tokens) of `dims`.
    pub fn new(state: &AppState, layout: trawl_index::Layout, dims: usize) -> Self {
        Self {
            vectors: Vec::new(),
            texts: Vec::new(),
            dims,
            text_field: None,
            multivector: (layout == trawl_index::Layout::Multivector).then_some(dims),
            max_tokens: state.config().limits.max_multivector_tokens,
        }
    }

    /// Records an item's vector, token vectors or text; exactly one must be
    /// given, and token vectors only to a multi-vector collection (which
    /// takes no single vector). `field` names an item's field for errors.
    pub fn take(
        &mut self,
        vector: Option<Vec<f32>>,
        text: Option<String>,
        multivector: Option<Vec<Vec<f32>>>,
        field: impl Fn(&str) -> String,
    ) -> Result<(), ApiError> {
        match (self.multivector, vector, text, multivector) {
            (None, Some(v), None, None) => self.vectors.push(v),
            (Some(dims), None, None, Some(rows)) => {
                let name = field("multivector");
                self.vectors.push(self.flatten(rows, dims, &name)?);
            }
            (_, None, Some(text), None) => {
                if self.text_field.is_none() {
                    self.text_field = Some(field("text"));
                }
                self.texts.push((self.vectors.len(), text));
                self.vectors.push(Vec::new());
            }
            (None, None, None, Some(_)) => {
                return Err(ApiError::invalid(
                    field("multivector"),
                    "this collection stores single vectors; send `vector` or `text`",
                ));
            }
            (Some(_), Some(_), None, None) => {
                return Err(ApiError::invalid(
                    field("vector"),
                    "this collection stores multi-vectors; send `multivector` (token vectors) or `text`",
                ));
            }
            (None, ..) => {
                return Err(ApiError::invalid(
                    field("vector"),
                    "send exactly one of `vector` or `text`",
                ));
            }
            (Some(_), ..) => {
                return Err(ApiError::invalid(
                    field("multivector"),
                    "send exactly one of `multivector` or `text`",
                ));
            }
        }
        Ok(())
    }

    /// With texts to embed: refuses a collection whose dimension is not the
    /// model's (once the model is loaded; until then embedding answers 503).
    pub fn check_model(&self, state: &AppState) -> Result<(), ApiError> {
        match state.try_embedder() {
            Some(embedder) if self.has_texts() => self.check_dims(embedder.spec()),
            _ => Ok(()),
        }
    }

    fn check_dims(&self, model: &trawl_encoders::ModelSpec) -> Result<(), ApiError> {
        let field = self.text_field.as_deref().unwrap_or("text");
        if model.dims == self.dims {
            return Ok(());
        }
        Err(ApiError::invalid(
            field,
            format!(
                "the server's model ({}) embeds text into {} dimensions, but this collection's {} have {}: send vectors of {} dimensions, or create the collection with dims {} to use text",
                model.name,
                model.dims,
                if self.multivector.is_some() {
                    "token vectors"
                } else {
                    "vectors"
                },
                self.dims,
                self.dims,
                model.dims
            ),
        ))
    }

    /// Records an item that holds no value (a placeholder, never embedded).
    pub fn skip(&mut self) {
        self.vectors.push(Vec::new());
    }

    /// Whether some items are texts to embed.
    pub fn has_texts(&self) -> bool {
        !self.texts.is_empty()
    }

    /// Removes and returns the first `n` items.
    pub fn take_front(&mut self, n: usize) -> Self {
        let n = n.min(self.vectors.len());
        let split = self.texts.partition_point(|(i, _)| *i < n);
        let texts = self.texts.drain(..split).collect();
        for (i, _) in &mut self.texts {
            *i -= n;
        }
        Self {
            vectors: self.vectors.drain(..n).collect(),
            texts,
            dims: self.dims,
            text_field: self.text_field.clone(),
            multivector: self.multivector,
            max_tokens: self.max_tokens,
        }
    }

    /// The items given as vectors (not text): their number and vector
    /// (token vectors flattened).
    pub fn given(&self) -> impl Iterator<Item = (usize, &[f32])> {
        let mut texts = self.texts.iter().map(|(i, _)| *i).peekable();
        self.vectors.iter().enumerate().filter_map(move |(i, v)| {
            if texts.peek() == Some(&i) {
                texts.next();
                None
            } else {
                Some((i, v.as_slice()))
            }
        })
    }

    /// Token vectors, checked for count and dimension, one after another.
    fn flatten(&self, rows: Vec<Vec<f32>>, dims: usize, field: &str) -> Result<Vec<f32>, ApiError> {
        if rows.len() > self.max_tokens {
            return Err(ApiError::LimitExceeded {
                field: field.to_string(),
                limit: self.max_tokens,
                got: rows.len(),
            });
        }
        if rows.is_empty() {
            return Err(ApiError::invalid(
                field,
                "a multi-vector needs at least one token vector",
            ));
        }
        let mut flat = Vec::with_capacity(rows.len() * dims);
        for (i, row) in rows.into_iter().enumerate() {
            if row.len() != dims {
                return Err(trawl_index::IndexError::DimensionMismatch {
                    field: format!("{field}[{i}]"),
                    expected: dims,
                    got: row.len(),
                }
                .into());
            }
            flat.extend_from_slice(&row);
        }
        Ok(flat)
    }

    /// Embeds the texts with the default encoder (in chunks of the per-request
    /// input limit, so large upserts fit the queue) and returns all vectors in order.
    pub async fn resolve(self, state: &AppState) -> Result<Vec<Vec<f32>>, ApiError> {
        self.check_model(state)?;
        let texts = self.texts.iter().cloned().collect();
        let encoded = embed_texts(state, texts, self.multivector.is_some()).await?;
        self.fill(state, &encoded)
    }

    /// The items given as text, by item.
    pub fn texts(&self) -> &[(usize, String)] {
        &self.texts
    }

    /// Whether its texts become token vectors.
    pub fn wants_tokens(&self) -> bool {
        self.multivector.is_some() && self.has_texts()
    }

    /// Fills the text items from their embeddings (`encoded`, by item, with
    /// token vectors if [`Vectors::wants_tokens`]); all vectors in order.
    pub fn fill(
        mut self,
        state: &AppState,
        encoded: &BTreeMap<usize, trawl_encoders::Encoded>,
    ) -> Result<Vec<Vec<f32>>, ApiError> {
        if self.has_texts() {
            // Loaded by now (embedding needs it).
            self.check_dims(state.embedder()?.spec())?;
        }
        for (i, _) in &self.texts {
            let e = encoded
                .get(i)
                .ok_or_else(|| ApiError::Internal(format!("text item {i} was not embedded")))?;
            self.vectors[*i] = match (self.multivector, &e.tokens) {
                (Some(_), Some(tokens)) => tokens.concat(),
                _ => e.pooled.clone(),
            };
        }
        Ok(self.vectors)
    }
}

/// Embeds `texts` (by item) with the default encoder, in chunks of the
/// per-request input limit (so large upserts fit the queue), with token
/// vectors when `tokens`.
pub async fn embed_texts(
    state: &AppState,
    texts: BTreeMap<usize, String>,
    tokens: bool,
) -> Result<BTreeMap<usize, trawl_encoders::Encoded>, ApiError> {
    let chunk = state.config().limits.max_inputs.max(1);
    let items: Vec<(usize, String)> = texts.into_iter().collect();
    let mut out = BTreeMap::new();
    for part in items.chunks(chunk) {
        let inputs = part.iter().map(|(_, t)| t.clone()).collect();
        let encoded = embed::run_encoder(state, inputs, tokens).await?;
        out.extend(part.iter().map(|(i, _)| *i).zip(encoded));
    }
    Ok(out)
}
