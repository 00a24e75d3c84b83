//! `GET /cluster`: what this node knows of the cluster.

use axum::Json;
use axum::extract::State;
use trawl_proto::{ClusterCollection, ClusterNode, ClusterReplica, ClusterShard, ClusterStatus};

use crate::state::AppState;

/// The nodes (up or down, as they answer this node now), the metadata
/// group's leader, and each collection's shards with their replicas.
#[utoipa::path(get, path = "/cluster", tag = "ops",
    responses((status = 200, description = "The cluster as this node sees it; `mode: single` without cluster flags", body = ClusterStatus)))]
pub async fn cluster_status(State(state): State<AppState>) -> Json<ClusterStatus> {
    let Some(node) = state.cluster() else {
        return Json(ClusterStatus {
            mode: "single".into(),
            node_id: None,
            metadata_leader: None,
            nodes: Vec::new(),
            collections: Vec::new(),
        });
    };
    let metadata = node.metadata();
    let (leader, members): (Option<u64>, Vec<(u64, String)>) = {
        let metrics = node.meta().metrics();
        let metrics = metrics.borrow();
        (
            metrics.current_leader,
            metrics
                .membership_config
                .membership()
                .nodes()
                .map(|(&id, n)| (id, n.addr.clone()))
                .collect(),
        )
    };
    let up: std::collections::BTreeMap<u64, bool> = futures::future::join_all(
        members
            .iter()
            .map(|&(id, _)| async move { (id, node.is_up(id).await) }),
    )
    .await
    .into_iter()
    .collect();
    let nodes = members
        .into_iter()
        .map(|(id, cluster_addr)| ClusterNode {
            id,
            api_addr: metadata.nodes.get(&id).and_then(|n| n.api.clone()),
            up: up.get(&id).copied().unwrap_or(false),
            cluster_addr,
        })
        .collect();
    let collections = metadata
        .collections
        .iter()
        .map(|(name, placement)| ClusterCollection {
            name: name.clone(),
            shards: placement
                .shards
                .iter()
                .enumerate()
                .map(|(s, replicas)| {
                    let local = node.shard(&trawl_cluster::node::group_of(name, s));
                    let leader = local
                        .as_ref()
                        .and_then(|r| r.raft().metrics().borrow().current_leader);
                    ClusterShard {
                        shard: s,
                        leader,
                        replicas: replicas
                            .iter()
                            .map(|&r| {
                                let own = local.as_ref().filter(|_| r == node.id());
                                ClusterReplica {
                                    node: r,
                                    up: up.get(&r).copied().unwrap_or(false),
                                    points: own.map(|l| l.collection().len()),
                                    applied: own.and_then(|l| {
                                        l.raft().metrics().borrow().last_applied.map(|a| a.index)
                                    }),
                                }
                            })
                            .collect(),
                    }
                })
                .collect(),
        })
        .collect();
    Json(ClusterStatus {
        mode: "cluster".into(),
        node_id: Some(node.id()),
        metadata_leader: leader,
        nodes,
        collections,
    })
}
