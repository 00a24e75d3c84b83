//! HTTP handlers, one file per concern.

pub mod collections;
pub mod embed;
pub mod health;
pub mod openai;
pub mod points;
pub mod search;

use crate::error::ApiError;
use crate::state::AppState;

/// Runs CPU or disk work on the blocking pool, never on the async workers.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task: {e}")))?
}

/// Embeds texts with the default encoder (float output), in chunks of the
/// per-request input limit so that large upserts fit the queue.
pub async fn embed_texts(state: &AppState, texts: Vec<String>) -> Result<Vec<Vec<f32>>, ApiError> {
    let chunk = state.config().limits.max_inputs;
    let mut out = Vec::with_capacity(texts.len());
    for part in texts.chunks(chunk) {
        let encoded = embed::run_encoder(state, part.to_vec(), false).await?;
        out.extend(encoded.into_iter().map(|e| e.pooled));
    }
    Ok(out)
}
