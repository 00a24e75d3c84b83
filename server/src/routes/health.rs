//! Liveness, readiness and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use trawl_proto::{Health, Readiness};

use crate::state::AppState;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// The model is loaded and storage is open.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "Still starting", body = Readiness),
    ))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let embedder = state.try_embedder();
    let readiness = Readiness {
        ready: embedder.is_some() && state.storage_open(),
        model_loaded: embedder.is_some(),
        storage_open: state.storage_open(),
        model: embedder.map(|e| e.spec().name.clone()),
    };
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness))
}

/// Prometheus metrics in the OpenMetrics text format.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let depth = state.try_embedder().map_or(0, |e| e.queue_depth());
    let collections = tokio::task::spawn_blocking({
        let state = state.clone();
        move || {
            state.store().map_or_else(
                |_| (Vec::new(), 0),
                |store| {
                    let open = store
                        .list()
                        .into_iter()
                        .map(|c| (c.name().to_string(), c.stats()))
                        .collect();
                    (open, store.damaged().len())
                },
            )
        }
    })
    .await
    .unwrap_or_default();
    let (collections, damaged) = collections;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics().render(
            depth,
            &collections,
            damaged,
            state.operations().map_or(0, |o| o.pending()),
        ),
    )
}
