//! Request and response types of Trawl's REST API (v1, and the v2 additions so far).
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

mod aliases;
mod browse;
mod cluster;
mod collections;
mod embed;
mod error;
mod filter;
mod health;
mod ids;
mod openai;
mod operations;
mod points;
mod query;

pub use aliases::{AliasAction, AliasActions, AliasEntry, AliasList, CreateAlias, DeleteAlias};
pub use browse::{
    CountRequest, CountResponse, FacetRequest, FacetResponse, FacetValue, ScrollRequest,
    ScrollResponse,
};
pub use cluster::{ClusterCollection, ClusterNode, ClusterReplica, ClusterShard, ClusterStatus};
pub use collections::{
    CollectionAck, CollectionInfo, CollectionList, CollectionSummary, CreateCollection, HnswConfig,
    MemoryInfo, Metric, MuveraConfig, PayloadIndexType, RecoverCollection, SparseKind,
    SparseVectorConfig, TextIndex, VectorConfig, VectorSpec,
};
pub use embed::{BinaryEncoding, EmbedKind, EmbedRequest, EmbedResponse, Embedding, Usage};
pub use error::{ErrorBody, ErrorDetail};
pub use filter::{Condition, Filter, Match, MatchValue, Range};
pub use health::{Health, Readiness};
pub use ids::PointId;
pub use openai::{
    EncodingFormat, OpenAiEmbedding, OpenAiEmbeddingData, OpenAiEmbeddingsRequest,
    OpenAiEmbeddingsResponse, OpenAiInput, OpenAiModel, OpenAiModelList, OpenAiUsage,
};
pub use operations::{Operation, OperationStatus};
pub use points::{
    BatchSearchRequest, BatchSearchResponse, DeletePayloadKeys, DeletePoints, DeleteResult, Hit,
    NamedVector, Payload, PointInput, PointRecord, SearchParams, SearchRequest, SearchResponse,
    SetPayload, SparseVector, StageScore, UpdateResult, UpsertPoints, UpsertResult,
};
pub use query::{Fusion, FusionName, QueryMode, QueryRequest, QueryStage, RerankStage, RrfParams};
