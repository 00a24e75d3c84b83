//! The Raft transport between nodes: HTTP on each node's cluster address
//! (`--cluster-addr`), apart from the API's.
//!
//! ```text
//! POST /raft/{group}/append     AppendEntriesRequest (JSON)  -> Result<AppendEntriesResponse, RaftError>
//! POST /raft/{group}/vote       VoteRequest (JSON)           -> Result<VoteResponse, RaftError>
//! POST /raft/{group}/snapshot   a chunk's bytes as the body,  -> Result<InstallSnapshotResponse, RaftError>
//!                               the rest in `x-trawl-snapshot`
//!                               (base64 of JSON)
//! ```
//!
//! A node runs several groups (one per shard replica it holds, and the
//! metadata group), each named by a path-safe id. A group the node does
//! not run (yet, or any more) answers 404, which the sender takes as
//! unreachable and retries later. Snapshot chunks travel as raw bytes:
//! a snapshot is streamed chunk by chunk from its file, never encoded whole.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::RPCOption;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{BasicNode, Raft, RaftNetwork, RaftNetworkFactory, SnapshotMeta, Vote};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::types::{NodeId, TypeConfig};

const SNAPSHOT_HEADER: &str = "x-trawl-snapshot";

/// The largest request the transport takes (an append of large entries).
const MAX_BODY_BYTES: usize = 512 << 20;

/// The Raft groups a node runs, by id (cheap to clone: clones share them).
#[derive(Clone, Default)]
pub struct Groups {
    groups: Arc<RwLock<BTreeMap<String, Raft<TypeConfig>>>>,
}

impl Groups {
    /// Routes messages for `group` to `raft`.
    pub fn insert(&self, group: &str, raft: Raft<TypeConfig>) {
        self.groups
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(group.to_string(), raft);
    }

    /// Stops routing messages for `group` (its member stopped).
    pub fn remove(&self, group: &str) {
        self.groups
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(group);
    }

    fn get(&self, group: &str) -> Option<Raft<TypeConfig>> {
        self.groups
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(group)
            .cloned()
    }
}

/// True when `group` can name a group in a URL path as it is.
pub fn valid_group(group: &str) -> bool {
    !group.is_empty()
        && group
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The transport's routes, to serve on the node's cluster address.
pub fn router(groups: Groups) -> Router {
    Router::new()
        .route("/raft/{group}/append", post(append))
        .route("/raft/{group}/vote", post(vote))
        .route("/raft/{group}/snapshot", post(snapshot))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(groups)
}

fn unknown_group(group: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({
            "error": "not_found",
            "message": format!("this node runs no Raft group {group:?}"),
        })),
    )
        .into_response()
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(serde_json::json!({"error": "bad_request", "message": message})),
    )
        .into_response()
}

async fn append(
    State(groups): State<Groups>,
    Path(group): Path<String>,
    axum::Json(request): axum::Json<AppendEntriesRequest<TypeConfig>>,
) -> Response {
    let Some(raft) = groups.get(&group) else {
        return unknown_group(&group);
    };
    axum::Json(raft.append_entries(request).await).into_response()
}

async fn vote(
    State(groups): State<Groups>,
    Path(group): Path<String>,
    axum::Json(request): axum::Json<VoteRequest<NodeId>>,
) -> Response {
    let Some(raft) = groups.get(&group) else {
        return unknown_group(&group);
    };
    axum::Json(raft.vote(request).await).into_response()
}

/// What a snapshot chunk carries beside its bytes.
#[derive(Serialize, Deserialize)]
struct ChunkHeader {
    vote: Vote<NodeId>,
    meta: SnapshotMeta<NodeId, BasicNode>,
    offset: u64,
    done: bool,
}

async fn snapshot(
    State(groups): State<Groups>,
    Path(group): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(raft) = groups.get(&group) else {
        return unknown_group(&group);
    };
    let header = headers
        .get(SNAPSHOT_HEADER)
        .ok_or_else(|| format!("no {SNAPSHOT_HEADER} header"))
        .and_then(|v| {
            URL_SAFE_NO_PAD
                .decode(v.as_bytes())
                .map_err(|e| e.to_string())
        })
        .and_then(|json| serde_json::from_slice::<ChunkHeader>(&json).map_err(|e| e.to_string()));
    let header = match header {
        Ok(header) => header,
        Err(e) => return bad_request(format!("a snapshot chunk's {SNAPSHOT_HEADER} header: {e}")),
    };
    let request = InstallSnapshotRequest {
        vote: header.vote,
        meta: header.meta,
        offset: header.offset,
        // No copy when the body is the only holder of its bytes.
        data: Vec::from(body),
        done: header.done,
    };
    axum::Json(raft.install_snapshot(request).await).into_response()
}

/// The HTTP side of one group on one node (openraft's network factory).
#[derive(Clone)]
pub struct HttpNetwork {
    group: String,
    client: reqwest::Client,
}

impl HttpNetwork {
    /// The transport of `group`, through `client` (shared by a node's
    /// groups: one connection pool).
    pub fn new(group: &str, client: reqwest::Client) -> Self {
        assert!(valid_group(group), "{group:?} is not a path-safe group id");
        Self {
            group: group.to_string(),
            client,
        }
    }
}

/// A connection to one member of a group.
pub struct HttpConnection {
    target: NodeId,
    base: String,
    client: reqwest::Client,
}

impl RaftNetworkFactory<TypeConfig> for HttpNetwork {
    type Network = HttpConnection;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> HttpConnection {
        HttpConnection {
            target,
            base: format!("http://{}/raft/{}", node.addr, self.group),
            client: self.client.clone(),
        }
    }
}

type RpcResult<T, E> = Result<T, RPCError<NodeId, BasicNode, RaftError<NodeId, E>>>;

impl HttpConnection {
    /// Sends a request and decodes the member's answer.
    async fn send<T, E>(
        &self,
        request: reqwest::RequestBuilder,
        option: &RPCOption,
    ) -> RpcResult<T, E>
    where
        T: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let response = request
            .timeout(option.hard_ttl())
            .send()
            .await
            .map_err(|e| {
                if e.is_connect() {
                    RPCError::Unreachable(Unreachable::new(&e))
                } else {
                    RPCError::Network(NetworkError::new(&e))
                }
            })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            // The member does not run this group (yet): as unreachable.
            let text = response.text().await.unwrap_or_default();
            return Err(RPCError::Unreachable(Unreachable::new(
                &std::io::Error::other(text),
            )));
        }
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(RPCError::Network(NetworkError::new(
                &std::io::Error::other(format!("{status}: {text}")),
            )));
        }
        let answer: Result<T, RaftError<NodeId, E>> = response
            .json()
            .await
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        answer.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(format!("{}/{path}", self.base))
    }
}

impl RaftNetwork<TypeConfig> for HttpConnection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<AppendEntriesResponse<NodeId>, openraft::error::Infallible> {
        self.send(self.post("append").json(&rpc), &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<InstallSnapshotResponse<NodeId>, InstallSnapshotError> {
        let header = ChunkHeader {
            vote: rpc.vote,
            meta: rpc.meta,
            offset: rpc.offset,
            done: rpc.done,
        };
        let json =
            serde_json::to_vec(&header).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let request = self
            .post("snapshot")
            .header(SNAPSHOT_HEADER, URL_SAFE_NO_PAD.encode(json))
            .body(rpc.data);
        self.send(request, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> RpcResult<VoteResponse<NodeId>, openraft::error::Infallible> {
        self.send(self.post("vote").json(&rpc), &option).await
    }
}
