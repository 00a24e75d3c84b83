//! The OpenAI-compatible routes: `POST /v1/embeddings`, `GET /v1/models` and
//! `GET /v1/models/{model}`.
//!
//! Clients written for OpenAI (its SDKs, LangChain's `OpenAIEmbeddings`,
//! chat front ends that list models first) work unchanged with
//! `base_url=http://host:6390/v1` and the served model's id.

use std::future::Future;
use std::time::{Duration, Instant, UNIX_EPOCH};

use axum::Json;
use axum::extract::{Path, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use trawl_encoders::{Embedder, Tokens};
use trawl_proto::{
    EncodingFormat, ErrorBody, OpenAiEmbedding, OpenAiEmbeddingData, OpenAiEmbeddingsRequest,
    OpenAiEmbeddingsResponse, OpenAiInput, OpenAiModel, OpenAiModelList, OpenAiUsage,
};

use crate::error::{ApiError, ApiJson};
use crate::routes::embed::{Output, check_count, run_encoder};
use crate::routes::{BodyRejections, KeyRequired, Unavailable};
use crate::state::AppState;

/// Embed texts (or token ids) in the shape of OpenAI's embeddings API.
#[utoipa::path(post, path = "/v1/embeddings", tag = "embed", request_body = OpenAiEmbeddingsRequest,
    responses(
        (status = 200, description = "One embedding per input", body = OpenAiEmbeddingsResponse),
        (status = 404, description = "`model` names a model this server does not serve (`model_not_found`)", body = ErrorBody),
        (status = 413, description = "More inputs than --max-openai-inputs, or too large a body", body = ErrorBody),
        (status = 422, description = "Invalid field value", body = ErrorBody),
        (status = 429, description = "The embedding queue is full", body = ErrorBody),
        BodyRejections, Unavailable, KeyRequired,
    ))]
pub async fn embeddings(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<OpenAiEmbeddingsRequest>,
) -> Result<Json<OpenAiEmbeddingsResponse>, ApiError> {
    let embedder = state.embedder()?;
    if let Some(model) = &request.model {
        served(embedder, model)?;
    }
    let dims = embedder.spec().dims;
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
    check_count(
        "input",
        request.input.len(),
        state.config().limits.max_openai_inputs,
    )?;
    let encoded = match request.input {
        OpenAiInput::One(text) => run_texts(&state, vec![text]).await?,
        OpenAiInput::Many(texts) => run_texts(&state, texts).await?,
        OpenAiInput::Tokens(ids) => run_ids(&state, embedder, vec![ids]).await?,
        OpenAiInput::ManyTokens(ids) => run_ids(&state, embedder, ids).await?,
    };
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
        model: embedder.spec().name.clone(),
        usage: OpenAiUsage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
    }))
}

/// How long a later chunk of a large request waits for room in the embedding
/// queue: the first chunk's admission took the request, and refusing it
/// half-way would throw away what the earlier chunks computed.
const LATER_CHUNK_WAIT: Duration = Duration::from_secs(10);

/// Runs `attempt`; for a later chunk (`first` false), a full queue is waited
/// out for up to [`LATER_CHUNK_WAIT`] (the request timeout still applies).
async fn admitted<T, F, Fut>(first: bool, mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let deadline = Instant::now() + LATER_CHUNK_WAIT;
    loop {
        match attempt().await {
            Err(ApiError::QueueFull(_)) if !first && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            answer => return answer,
        }
    }
}

/// Texts through the tokenizer and the queue, `--max-inputs` at a time (the
/// OpenAI limit is larger than one queue admission is meant to be).
async fn run_texts(
    state: &AppState,
    texts: Vec<String>,
) -> Result<Vec<trawl_encoders::Encoded>, ApiError> {
    let chunk = state.config().limits.max_inputs.max(1);
    let mut out = Vec::with_capacity(texts.len());
    for (n, part) in texts.chunks(chunk).enumerate() {
        out.extend(admitted(n == 0, || run_encoder(state, part.to_vec(), false)).await?);
    }
    Ok(out)
}

/// Token-id inputs: every one checked against the vocabulary and the model's
/// length first, then fed to the model as given, `--max-inputs` at a time.
async fn run_ids(
    state: &AppState,
    embedder: &Embedder,
    inputs: Vec<Vec<u32>>,
) -> Result<Vec<trawl_encoders::Encoded>, ApiError> {
    let vocab = embedder.vocab_size();
    let max = embedder.spec().max_tokens;
    let mut tokens = Vec::with_capacity(inputs.len());
    for (i, ids) in inputs.into_iter().enumerate() {
        if ids.is_empty() {
            return Err(ApiError::invalid(
                format!("input[{i}]"),
                "holds no token ids",
            ));
        }
        if ids.len() > max {
            return Err(ApiError::invalid(
                format!("input[{i}]"),
                format!(
                    "holds {} token ids; the model takes at most {max} (special tokens included)",
                    ids.len()
                ),
            ));
        }
        if let Some((j, id)) = ids
            .iter()
            .enumerate()
            .find(|(_, id)| **id as usize >= vocab)
        {
            return Err(ApiError::invalid(
                format!("input[{i}][{j}]"),
                format!(
                    "token id {id} is not in the model's vocabulary (ids run from 0 to {})",
                    vocab - 1
                ),
            ));
        }
        let n = ids.len();
        tokens.push(Tokens {
            ids: ids.into_iter().map(i64::from).collect(),
            type_ids: vec![0; n],
            truncated: false,
        });
    }
    let chunk = state.config().limits.max_inputs.max(1);
    let mut out = Vec::with_capacity(tokens.len());
    for (n, part) in tokens.chunks(chunk).enumerate() {
        let run = || async {
            Ok::<_, ApiError>(embedder.clone().embed_tokens(part.to_vec(), false).await?)
        };
        out.extend(admitted(n == 0, run).await?);
    }
    Ok(out)
}

/// Whether `model` names the served model: its id, case aside, or the same
/// name with or without an organisation prefix on either side
/// (`sentence-transformers/all-MiniLM-L6-v2` names `all-minilm-l6-v2`).
fn served(embedder: &Embedder, model: &str) -> Result<(), ApiError> {
    let id = &embedder.spec().name;
    let bare = |name: &str| name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    if model.eq_ignore_ascii_case(id) || bare(model) == bare(id) {
        Ok(())
    } else {
        Err(ApiError::ModelNotFound {
            asked: model.to_string(),
            served: id.clone(),
        })
    }
}

/// The served model in OpenAI's shape.
fn describe(embedder: &Embedder) -> OpenAiModel {
    let spec = embedder.spec();
    let created = std::fs::metadata(spec.dir.join(trawl_encoders::SPEC_FILE))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    OpenAiModel {
        id: spec.name.clone(),
        object: "model".into(),
        created,
        owned_by: "trawl".into(),
        dimensions: spec.dims,
        max_tokens: spec.max_tokens,
    }
}

/// The served model, in the shape of OpenAI's model list.
#[utoipa::path(get, path = "/v1/models", tag = "embed",
    responses(
        (status = 200, description = "The served model", body = OpenAiModelList),
        Unavailable, KeyRequired,
    ))]
pub async fn models(State(state): State<AppState>) -> Result<Json<OpenAiModelList>, ApiError> {
    Ok(Json(OpenAiModelList {
        object: "list".into(),
        data: vec![describe(state.embedder()?)],
    }))
}

/// One model by id (as `GET /v1/models` lists it; an organisation prefix
/// such as `sentence-transformers/` and case are ignored).
#[utoipa::path(get, path = "/v1/models/{model}", tag = "embed",
    params(("model" = String, Path, description = "The model's id")),
    responses(
        (status = 200, description = "The model", body = OpenAiModel),
        (status = 404, description = "Not the served model (`model_not_found`)", body = ErrorBody),
        Unavailable, KeyRequired,
    ))]
pub async fn model(
    State(state): State<AppState>,
    Path(model): Path<String>,
) -> Result<Json<OpenAiModel>, ApiError> {
    let embedder = state.embedder()?;
    served(embedder, &model)?;
    Ok(Json(describe(embedder)))
}
