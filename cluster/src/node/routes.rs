//! What nodes send each other beside Raft's messages: writes forwarded to
//! a shard's leader, reads of one shard, metadata changes forwarded to the
//! metadata group's leader; the routes that answer them.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use trawl_index::filter::FilterLimits;
use trawl_index::{Payload, PointId, PointWrite, SearchQuery};

use super::{Node, NodeError};
use crate::meta::MetaCommand;
use crate::shard::{Shard, ShardError};
use crate::types::NodeId;

/// A search sent to one shard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardQuery {
    /// The query vector.
    pub vector: Vec<f32>,
    /// The named vector searched ("" for the unnamed one).
    #[serde(default)]
    pub using: String,
    /// How many hits.
    pub limit: usize,
    /// Exact search instead of the graph.
    #[serde(default)]
    pub exact: bool,
    /// The graph's search breadth.
    #[serde(default)]
    pub ef: Option<usize>,
    /// Return payloads.
    #[serde(default)]
    pub with_payload: bool,
    /// Read through the shard's leader, after every acknowledged write.
    #[serde(default)]
    pub linearizable: bool,
}

/// A hit of a shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The point.
    pub id: PointId,
    /// Its score (higher is better).
    pub score: f32,
    /// Its payload, when asked for.
    pub payload: Option<Payload>,
}

/// A write to one shard.
pub(super) enum Write {
    Upsert(Vec<PointWrite>),
    Delete(Vec<PointId>),
}

impl Write {
    pub(super) fn verb(&self) -> &'static str {
        match self {
            Write::Upsert(_) => "upsert",
            Write::Delete(_) => "delete",
        }
    }

    pub(super) async fn apply(&self, shard: &Shard) -> Result<u64, ShardError> {
        match self {
            Write::Upsert(points) => shard.upsert(points.clone()).await,
            Write::Delete(ids) => shard.delete(ids).await,
        }
    }
}

/// A read of one shard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Read {
    /// A search.
    Search(ShardQuery),
    /// A count of the points.
    Count {
        /// Through the leader, after every acknowledged write.
        linearizable: bool,
    },
}

impl Read {
    pub(super) fn linearizable(&self) -> bool {
        match self {
            Read::Search(q) => q.linearizable,
            Read::Count { linearizable } => *linearizable,
        }
    }
}

/// What a shard answered to a [`Read`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ReadAnswer {
    /// A search's hits.
    Hits(Vec<Hit>),
    /// A count.
    Count(usize),
}

pub(super) async fn read_local(shard: &Shard, read: &Read) -> Result<ReadAnswer, ShardError> {
    let collection = if read.linearizable() {
        shard.linearizable().await?
    } else {
        shard.collection()
    };
    let query = match read {
        Read::Count { .. } => return Ok(ReadAnswer::Count(collection.len())),
        Read::Search(query) => query.clone(),
    };
    let hits = tokio::task::spawn_blocking(move || {
        collection.search(&SearchQuery {
            using: &query.using,
            vector: &query.vector,
            filter: None,
            filter_limits: FilterLimits::default(),
            limit: query.limit,
            ef: query.ef,
            exact: query.exact,
            oversample: None,
            rerank: true,
            with_payload: query.with_payload,
            with_vector: false,
        })
    })
    .await
    .map_err(|e| ShardError::Raft(e.to_string()))??;
    Ok(ReadAnswer::Hits(
        hits.into_iter()
            .map(|h| Hit {
                id: h.id,
                score: h.score,
                payload: h.payload,
            })
            .collect(),
    ))
}

/// How a request sent to another node (or tried here) failed.
#[derive(Debug, thiserror::Error)]
pub(super) enum Forwarded {
    #[error("not the leader{}", .0.map(|l| format!(" (node {l} is)")).unwrap_or_default())]
    NotLeader(Option<NodeId>),
    #[error("unreachable: {0}")]
    Unreachable(String),
    #[error(transparent)]
    Refused(NodeError),
}

impl From<ShardError> for Forwarded {
    fn from(e: ShardError) -> Self {
        match e {
            ShardError::NotLeader { leader } => Forwarded::NotLeader(leader),
            ShardError::NoQuorum { .. } => Forwarded::Unreachable(e.to_string()),
            e => Forwarded::Refused(e.into()),
        }
    }
}

/// The body of an internal route's error.
#[derive(Debug, Serialize, Deserialize)]
struct Refusal {
    error: String,
    message: String,
    #[serde(default)]
    leader: Option<NodeId>,
}

/// Posts `body` to another node's internal route.
pub(super) async fn forward<B: Serialize + ?Sized, T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    addr: &str,
    path: &str,
    body: &B,
) -> Result<T, Forwarded> {
    let response = client
        .post(format!("http://{addr}/{path}"))
        .json(body)
        .send()
        .await
        .map_err(|e| Forwarded::Unreachable(e.to_string()))?;
    let status = response.status();
    if status.is_success() {
        return response
            .json()
            .await
            .map_err(|e| Forwarded::Unreachable(e.to_string()));
    }
    let refusal: Refusal = response
        .json()
        .await
        .map_err(|e| Forwarded::Unreachable(format!("{status}: {e}")))?;
    Err(match status.as_u16() {
        409 => Forwarded::NotLeader(refusal.leader),
        400 => Forwarded::Refused(NodeError::BadRequest(refusal.message)),
        404 if refusal.error == "no_collection" => {
            Forwarded::Refused(NodeError::NoCollection(refusal.message))
        }
        _ => Forwarded::Unreachable(format!("{status}: {}", refusal.message)),
    })
}

fn refusal(status: StatusCode, error: &str, message: String, leader: Option<NodeId>) -> Response {
    (
        status,
        Json(Refusal {
            error: error.to_string(),
            message,
            leader,
        }),
    )
        .into_response()
}

fn answer<T: Serialize>(result: Result<T, Forwarded>) -> Response {
    match result {
        Ok(v) => Json(v).into_response(),
        Err(Forwarded::NotLeader(leader)) => refusal(
            StatusCode::CONFLICT,
            "not_leader",
            "not the leader".into(),
            leader,
        ),
        Err(Forwarded::Unreachable(m)) => {
            refusal(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m, None)
        }
        Err(Forwarded::Refused(NodeError::BadRequest(m))) => {
            refusal(StatusCode::BAD_REQUEST, "bad_request", m, None)
        }
        Err(Forwarded::Refused(NodeError::NoCollection(m))) => {
            refusal(StatusCode::NOT_FOUND, "no_collection", m, None)
        }
        Err(Forwarded::Refused(e)) => refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            e.to_string(),
            None,
        ),
    }
}

pub(super) fn internal_routes(node: Arc<Node>) -> Router {
    Router::new()
        .route(
            "/node",
            get(|State(node): State<Arc<Node>>| async move { Json(node.id()) }),
        )
        .route(
            "/meta/propose",
            post(
                |State(node): State<Arc<Node>>, Json(command): Json<MetaCommand>| async move {
                    answer(node.propose_here(command).await)
                },
            ),
        )
        .route(
            "/shard/{group}/upsert",
            post(
                |State(node): State<Arc<Node>>,
                 Path(group): Path<String>,
                 Json(points): Json<Vec<PointWrite>>| async move {
                    answer(on_shard(&node, &group, Write::Upsert(points)).await)
                },
            ),
        )
        .route(
            "/shard/{group}/delete",
            post(
                |State(node): State<Arc<Node>>,
                 Path(group): Path<String>,
                 Json(ids): Json<Vec<PointId>>| async move {
                    answer(on_shard(&node, &group, Write::Delete(ids)).await)
                },
            ),
        )
        .route(
            "/shard/{group}/read",
            post(
                |State(node): State<Arc<Node>>,
                 Path(group): Path<String>,
                 Json(read): Json<Read>| async move {
                    let result = match node.shard(&group) {
                        Some(shard) => read_local(&shard, &read).await.map_err(Forwarded::from),
                        None => Err(Forwarded::Unreachable(format!(
                            "no replica of {group} here"
                        ))),
                    };
                    answer(result)
                },
            ),
        )
        .with_state(node)
}

async fn on_shard(node: &Node, group: &str, write: Write) -> Result<(), Forwarded> {
    let Some(shard) = node.shard(group) else {
        return Err(Forwarded::Unreachable(format!(
            "no replica of {group} here"
        )));
    };
    write.apply(&shard).await.map(drop).map_err(Forwarded::from)
}
