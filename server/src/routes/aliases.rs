//! Aliases: second names for collections, switched atomically.

use axum::Json;
use axum::extract::State;
use trawl_index::AliasAction;
use trawl_proto::{AliasActions, AliasEntry, AliasList, ErrorBody};

use crate::error::{ApiError, WriteJson};
use crate::routes::{BodyRejections, KeyRequired, ReadOnlyKey, Unavailable, blocking_write};
use crate::state::AppState;

fn list(state: &AppState) -> Result<AliasList, ApiError> {
    Ok(AliasList {
        aliases: state
            .store()?
            .aliases()
            .into_iter()
            .map(|(alias, collection)| AliasEntry { alias, collection })
            .collect(),
    })
}

/// Every alias and the collection it names.
#[utoipa::path(get, path = "/aliases", tag = "collections",
    responses(
        (status = 200, description = "The aliases", body = AliasList),
        Unavailable, KeyRequired,
    ))]
pub async fn get(State(state): State<AppState>) -> Result<Json<AliasList>, ApiError> {
    list(&state).map(Json)
}

/// Create and delete aliases: the actions apply in order, all or none, and
/// are durable when answered. Switch an alias to another collection with a
/// delete and a create in one request: no request sees it name neither.
/// Every route that takes a collection name takes an alias (except
/// `DELETE /collections/{name}`, which wants the collection's own name).
#[utoipa::path(post, path = "/aliases", tag = "collections", request_body = AliasActions,
    responses(
        (status = 200, description = "Applied; the aliases now", body = AliasList),
        (status = 404, description = "A collection or an alias to delete does not exist (nothing applied)", body = ErrorBody),
        (status = 409, description = "An alias exists already, or the name is a collection's (nothing applied)", body = ErrorBody),
        (status = 422, description = "An invalid alias name (nothing applied)", body = ErrorBody),
        BodyRejections, Unavailable, KeyRequired, ReadOnlyKey,
    ))]
pub async fn update(
    State(state): State<AppState>,
    WriteJson(request): WriteJson<AliasActions>,
) -> Result<Json<AliasList>, ApiError> {
    let store = state.store()?.clone();
    let actions: Vec<AliasAction> = request
        .actions
        .into_iter()
        .map(|action| match action {
            trawl_proto::AliasAction::Create(trawl_proto::CreateAlias { alias, collection }) => {
                AliasAction::Create { alias, collection }
            }
            trawl_proto::AliasAction::Delete(trawl_proto::DeleteAlias { alias }) => {
                AliasAction::Delete { alias }
            }
        })
        .collect();
    blocking_write(move || Ok(store.update_aliases(&actions)?)).await?;
    list(&state).map(Json)
}
