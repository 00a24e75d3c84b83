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

/// Vectors given directly or as text to embed, for the items of one request.
///
/// Items are numbered in request order; `take` records each item's vector or
/// text, and `resolve` embeds all texts at once and returns every vector.
#[derive(Default)]
pub struct Vectors {
    vectors: Vec<Vec<f32>>,
    texts: Vec<(usize, String)>,
}

impl Vectors {
    /// Records item `i`'s vector or text; exactly one must be given.
    pub fn take(
        &mut self,
        vector: Option<Vec<f32>>,
        text: Option<String>,
        field: impl FnOnce() -> String,
    ) -> Result<(), ApiError> {
        match (vector, text) {
            (Some(v), None) => self.vectors.push(v),
            (None, Some(text)) => {
                self.texts.push((self.vectors.len(), text));
                self.vectors.push(Vec::new());
            }
            _ => {
                return Err(ApiError::invalid(
                    field(),
                    "send exactly one of `vector` or `text`",
                ));
            }
        }
        Ok(())
    }

    /// Embeds the texts with the default encoder (in chunks of the per-request
    /// input limit, so large upserts fit the queue) and returns all vectors in order.
    pub async fn resolve(mut self, state: &AppState) -> Result<Vec<Vec<f32>>, ApiError> {
        let chunk = state.config().limits.max_inputs;
        for part in self.texts.chunks(chunk) {
            let texts = part.iter().map(|(_, t)| t.clone()).collect();
            let encoded = embed::run_encoder(state, texts, false).await?;
            for ((i, _), e) in part.iter().zip(encoded) {
                self.vectors[*i] = e.pooled;
            }
        }
        Ok(self.vectors)
    }
}
