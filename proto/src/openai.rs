//! `POST /v1/embeddings`: the OpenAI-compatible embeddings endpoint.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `input`: one string or an array of strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum OpenAiInput {
    /// A single text.
    One(String),
    /// Several texts.
    Many(Vec<String>),
}

impl OpenAiInput {
    /// The texts, in order.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(text) => vec![text],
            Self::Many(texts) => texts,
        }
    }
}

/// `encoding_format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EncodingFormat {
    /// An array of numbers.
    #[default]
    Float,
    /// Base64 of the little-endian `f32` bytes.
    Base64,
}

/// Body of `POST /v1/embeddings`. Unknown fields (such as `user`) are accepted and ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OpenAiEmbeddingsRequest {
    /// The text or texts to embed.
    pub input: OpenAiInput,
    /// The model name. Accepted and ignored: the answer names the model that served it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Matryoshka prefix length; the full dimension when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<usize>,
    /// `float` (default) or `base64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<EncodingFormat>,
}

/// An embedding as numbers or as base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum OpenAiEmbedding {
    /// `encoding_format: float`.
    Float(Vec<f32>),
    /// `encoding_format: base64`.
    Base64(String),
}

/// One entry of `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OpenAiEmbeddingData {
    /// Always `"embedding"`.
    pub object: String,
    /// Position of the input.
    pub index: usize,
    /// The embedding.
    pub embedding: OpenAiEmbedding,
    /// Whether the input was cut at the model's maximum token count (a Trawl extension).
    pub truncated: bool,
}

/// Token accounting in OpenAI's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OpenAiUsage {
    /// Tokens fed to the model.
    pub prompt_tokens: u64,
    /// Same as `prompt_tokens` for embeddings.
    pub total_tokens: u64,
}

/// Answer of `POST /v1/embeddings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OpenAiEmbeddingsResponse {
    /// Always `"list"`.
    pub object: String,
    /// One entry per input, in input order.
    pub data: Vec<OpenAiEmbeddingData>,
    /// The model that produced the embeddings.
    pub model: String,
    /// Token accounting.
    pub usage: OpenAiUsage,
}
