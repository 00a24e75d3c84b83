//! Request and response types of Trawl's REST API (v1).
//!
//! These are the shapes that the server, the client crate, the tests and outside
//! checks agree on. They derive `serde` for the wire format and `utoipa::ToSchema`
//! so that the server's `/openapi.json` is generated from the same definitions.
//!
//! ```
//! use trawl_proto::{EmbedKind, EmbedRequest};
//!
//! let req: EmbedRequest = serde_json::from_str(r#"{"inputs": ["hello"], "kind": "binary"}"#).unwrap();
//! assert_eq!(req.kind, EmbedKind::Binary);
//! assert_eq!(req.inputs, vec!["hello".to_string()]);
//! ```

mod embed;
mod error;
mod health;
mod openai;

pub use embed::{BinaryEncoding, EmbedKind, EmbedRequest, EmbedResponse, Embedding, Usage};
pub use error::{ErrorBody, ErrorDetail};
pub use health::{Health, Readiness};
pub use openai::{
    EncodingFormat, OpenAiEmbedding, OpenAiEmbeddingData, OpenAiEmbeddingsRequest,
    OpenAiEmbeddingsResponse, OpenAiInput, OpenAiUsage,
};
