//! The router: routes, OpenAPI document, and the tower layers around them.

use std::sync::Arc;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{BoxError, Extension, Json, Router};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth;
use crate::body::{self, BodyRules};
use crate::error::{ApiError, BodyLimit};
use crate::metrics;
use crate::routes::{
    aliases, browse, cluster, collections, console, embed, health, openai, operations, points,
    query, search, snapshots, upsert,
};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Trawl", description = "Embed text, index it, and answer filtered similarity queries."),
    components(schemas(trawl_proto::ErrorBody)),
    modifiers(&ApiKeys),
    tags(
        (name = "ops", description = "Health, readiness, metrics"),
        (name = "embed", description = "Text to embeddings"),
        (name = "collections", description = "Create, list, describe, delete, snapshot"),
        (name = "points", description = "Upsert, get, delete"),
        (name = "search", description = "Filtered similarity search"),
        (name = "snapshots", description = "Take, list, download, delete and restore snapshots"),
    )
)]
struct ApiDoc;

/// Declares the two ways to send an API key (needed only when the server has keys).
struct ApiKeys;

impl utoipa::Modify for ApiKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("api-key"))),
        );
    }
}

/// The API routes (limited by concurrency and time) and their OpenAPI document.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(embed::embed))
        .routes(routes!(openai::embeddings))
        .routes(routes!(openai::models))
        .routes(routes!(openai::model))
        .routes(routes!(collections::list))
        .routes(routes!(aliases::get, aliases::update))
        .routes(routes!(
            collections::create,
            collections::info,
            collections::delete
        ))
        .routes(routes!(snapshots::create, snapshots::list))
        .routes(routes!(snapshots::download, snapshots::delete))
        .routes(routes!(collections::recover))
        .routes(routes!(points::delete))
        .routes(routes!(points::get))
        .routes(routes!(points::set_payload, points::replace_payload))
        .routes(routes!(points::delete_payload_keys))
        .routes(routes!(browse::scroll))
        .routes(routes!(browse::count))
        .routes(routes!(browse::facet))
        .routes(routes!(search::search))
        .routes(routes!(search::batch))
        .routes(routes!(query::query))
        .routes(routes!(operations::get))
}

/// Routes that keep the request timeout themselves: an upsert stops after
/// the chunk it is writing when the time is up and says how many points it
/// wrote (see [`routes::upsert`]).
fn self_timed_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upsert::upsert))
}

/// Routes that stream their bodies (a snapshot upload can be many
/// gigabytes): they read the body themselves, within the minimum rate and
/// their own size limit, and are held to neither the request timeout nor
/// the concurrency limit of the API routes.
fn stream_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(snapshots::restore))
}

/// Health, readiness and metrics: never limited, so that probes answer under load.
fn ops_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(cluster::cluster_status))
}

/// The OpenAPI document of every route, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, doc) = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .merge(api_routes())
        .merge(self_timed_routes())
        .merge(stream_routes())
        .merge(ops_routes())
        .split_for_parts();
    doc
}

/// Builds the whole application for `state`.
pub fn router(state: AppState) -> Router {
    let config = state.config().clone();
    let timeout = config.request_timeout();
    let timeout_secs = config.http.request_timeout_secs;
    let gate = Arc::new(Gate {
        permits: Arc::new(tokio::sync::Semaphore::new(
            config.max_concurrent_requests(),
        )),
        max_wait: Duration::from_millis(config.http.max_queue_wait_ms),
    });
    let (api, _) = api_routes().split_for_parts();
    let api = api.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(move |error: BoxError| async move {
                overload_error(&error, timeout_secs)
            }))
            .timeout(timeout),
    );
    let (self_timed, _) = self_timed_routes().split_for_parts();
    let body_rules = Arc::new(BodyRules::new(&config));
    let admitted = |router: Router<AppState>| {
        router
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&gate),
                admit,
            ))
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&body_rules),
                body::read_first,
            ))
    };
    let (api, self_timed) = (admitted(api), admitted(self_timed));
    let (ops, _) = ops_routes().split_for_parts();
    let (streams, _) = stream_routes().split_for_parts();
    let auth = Arc::new(config.auth.auth());
    if auth.enabled() {
        tracing::info!(
            read_only_key = config.auth.read_only_api_key.is_some(),
            public_metrics = config.auth.public_metrics,
            "API keys required"
        );
    }
    let document = Arc::new(openapi());
    let body_limit = config.limits.max_body_bytes;
    Router::new()
        .merge(api)
        .merge(self_timed)
        .merge(streams)
        .merge(ops)
        .route("/console", get(console::index))
        .route("/console/", get(console::index))
        .route("/console/{name}", get(console::asset))
        .route(
            "/openapi.json",
            get(move || {
                let document = Arc::clone(&document);
                async move { Json(document.as_ref().clone()) }
            }),
        )
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            auth,
            auth::require_key,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(state.metrics()),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(Extension(BodyLimit(body_limit)))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    // Failures are logged by `metrics::track`, which knows
                    // the route (a `/readyz` 503 while starting is no error).
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
}

/// Admission to the API routes (after their bodies have been read, see
/// [`body`]): at most `permits` requests run at once; a
/// request that finds none free waits up to `max_wait` for one (in arrival
/// order), then gets 503 `overloaded` with `Retry-After`. Accepted requests
/// therefore wait at most `max_wait` before they run, however many clients
/// there are, and refused ones cost the server almost nothing for that time
/// (a client that retries at once is held, not spun).
struct Gate {
    permits: Arc<tokio::sync::Semaphore>,
    max_wait: Duration,
}

async fn admit(
    axum::extract::State(gate): axum::extract::State<Arc<Gate>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let permit = match Arc::clone(&gate.permits).try_acquire_owned() {
        Ok(permit) => permit,
        Err(_) => {
            let wait = Arc::clone(&gate.permits).acquire_owned();
            match tokio::time::timeout(gate.max_wait, wait).await {
                Ok(Ok(permit)) => permit,
                _ => return ApiError::Overloaded.into_response(),
            }
        }
    };
    let response = next.run(request).await;
    drop(permit);
    response
}

fn overload_error(error: &BoxError, timeout_secs: u64) -> ApiError {
    if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::Timeout(timeout_secs)
    } else {
        ApiError::Internal(error.to_string())
    }
}

fn request_span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "unknown panic".into());
    ApiError::Internal(format!("handler panicked: {detail}")).into_response()
}

async fn route_not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::RouteNotFound {
        method: method.to_string(),
        path: uri.path().to_string(),
    }
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_string(),
    }
}

/// How long to wait for in-flight requests after a shutdown signal.
pub fn shutdown_grace(state: &AppState) -> Duration {
    Duration::from_secs(state.config().http.shutdown_grace_secs)
}
