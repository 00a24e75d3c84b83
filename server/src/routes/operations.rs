//! `GET /operations/{id}`: how far a queued write (`?wait=false`) has come.

use axum::Json;
use axum::extract::{Path, State};
use trawl_proto::{ErrorBody, Operation};

use crate::error::ApiError;
use crate::routes::{KeyRequired, Unavailable};
use crate::state::AppState;

/// The `{id}` path parameter.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OperationPath {
    /// The id a `wait=false` upsert answered.
    #[param(max_length = 64)]
    pub id: String,
}

/// A queued write: queued, running (with the points written so far), done,
/// or failed with the error. The last 1,000 finished operations are kept.
#[utoipa::path(get, path = "/operations/{id}", tag = "points", operation_id = "get_operation",
    params(OperationPath),
    responses(
        (status = 200, description = "The operation", body = Operation),
        (status = 404, description = "No such operation", body = ErrorBody),
        Unavailable, KeyRequired,
    ))]
pub async fn get(
    State(state): State<AppState>,
    Path(OperationPath { id }): Path<OperationPath>,
) -> Result<Json<Operation>, ApiError> {
    Ok(Json(state.operations()?.get(&id)?))
}
