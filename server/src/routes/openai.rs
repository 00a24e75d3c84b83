//! `POST /v1/embeddings`: OpenAI-compatible embeddings.

use axum::Json;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use trawl_proto::{
    EncodingFormat, ErrorBody, OpenAiEmbedding, OpenAiEmbeddingData, OpenAiEmbeddingsRequest,
    OpenAiEmbeddingsResponse, OpenAiUsage,
};

use crate::error::{ApiError, ApiJson};
use crate::routes::embed::{Output, run_encoder};
use crate::routes::{BodyRejections, KeyRequired, Unavailable};
use crate::state::AppState;

/// Embed texts in the shape of OpenAI's embeddings API.
#[utoipa::path(post, path = "/v1/embeddings", tag = "embed", request_body = OpenAiEmbeddingsRequest,
    responses(
        (status = 200, description = "One embedding per input", body = OpenAiEmbeddingsResponse),
        (status = 413, description = "Too many inputs or too large a body", body = ErrorBody),
        (status = 422, description = "Invalid field value", body = ErrorBody),
        (status = 429, description = "The embedding queue is full", body = ErrorBody),
        BodyRejections, Unavailable, KeyRequired,
    ))]
pub async fn embeddings(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<OpenAiEmbeddingsRequest>,
) -> Result<Json<OpenAiEmbeddingsResponse>, ApiError> {
    let dims = state.embedder()?.spec().dims;
    let output = match request.dimensions {
        Some(k) => Output::matryoshka(k, dims).map_err(|_| {
            ApiError::invalid(
                "dimensions",
                format!("must be between 1 and {dims} (the model's dimension), got {k}"),
            )
        })?,
        None => Output::Float,
    };
    let format = request.encoding_format.unwrap_or_default();
    let encoded = run_encoder(&state, request.input.into_vec(), false).await?;
    let tokens = encoded.iter().map(|e| e.n_tokens as u64).sum();
    let data = encoded
        .iter()
        .enumerate()
        .map(|(index, e)| {
            let vector = output.dense(e)?;
            let embedding = match format {
                EncodingFormat::Float => OpenAiEmbedding::Float(vector),
                EncodingFormat::Base64 => OpenAiEmbedding::Base64(
                    BASE64.encode(
                        vector
                            .iter()
                            .flat_map(|x| x.to_le_bytes())
                            .collect::<Vec<u8>>(),
                    ),
                ),
            };
            Ok(OpenAiEmbeddingData {
                object: "embedding".into(),
                index,
                embedding,
                truncated: e.truncated,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(OpenAiEmbeddingsResponse {
        object: "list".into(),
        data,
        model: state.embedder()?.spec().name.clone(),
        usage: OpenAiUsage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
    }))
}
