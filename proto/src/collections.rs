//! Collections: create, list, describe.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Similarity metric. Scores are "higher is better" for each (l2 answers the negated distance).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Cosine similarity (vectors are normalised on the way in).
    #[default]
    Cosine,
    /// Dot product.
    Dot,
    /// Euclidean distance.
    L2,
}

/// Type of a payload index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PayloadIndexType {
    /// Exact strings.
    Keyword,
    /// Signed integers.
    Integer,
    /// Floats.
    Float,
    /// Booleans.
    Bool,
    /// Texts, by word, for `match: {text}` filters (the words of the
    /// filter in one of the field's strings; split on non-alphanumerics,
    /// lowercased).
    Text,
}

/// HNSW construction parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HnswConfig {
    /// `M`, links per node (default 16).
    #[serde(default = "default_m")]
    pub m: usize,
    /// `ef_construction` (default 200).
    #[serde(default = "default_ef_construction")]
    pub ef_construction: usize,
}

fn default_m() -> usize {
    16
}

fn default_ef_construction() -> usize {
    200
}

impl Default for HnswConfig {
    fn default() -> Self {
        Self {
            m: default_m(),
            ef_construction: default_ef_construction(),
        }
    }
}

/// The vector schema of a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorConfig {
    /// Dimension; the default encoder's when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dims: Option<usize>,
    /// Metric (default cosine).
    #[serde(default)]
    pub metric: Metric,
    /// Storage layout: `float` (default), `binary`, `binary:2`, `binary:4`, `matryoshka:K`, `multivector`.
    #[serde(default = "default_layout")]
    pub layout: String,
    /// HNSW parameters.
    #[serde(default)]
    pub hnsw: HnswConfig,
    /// The MUVERA encoding of a `multivector` layout (each omitted parameter
    /// takes its default; answers give them all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muvera: Option<MuveraConfig>,
    /// Named vectors: `float` (the model's sentence embedding) or
    /// `multivector` (its token embeddings, for a `multivector` layout) lets
    /// a point's or a query's `text` fill this vector with the server's
    /// model; `dims` must then be the model's. The unnamed `vector` always
    /// takes `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
}

/// A named vector's schema: a dense vector, or `{"kind": "sparse"}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum VectorSpec {
    /// A sparse vector.
    Sparse(SparseVectorConfig),
    /// A dense vector (`kind` omitted or `"dense"`).
    Dense(VectorConfig),
}

impl<'de> Deserialize<'de> for VectorSpec {
    /// By `kind`, so that a mistake in either form is reported as that
    /// form's (an untagged enum would only say that no form matched).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut value = serde_json::Value::deserialize(d)?;
        match value.get("kind").map(|k| k.as_str()) {
            Some(Some("sparse")) => serde_json::from_value(value)
                .map(Self::Sparse)
                .map_err(D::Error::custom),
            None | Some(Some("dense")) => {
                if let Some(object) = value.as_object_mut() {
                    object.remove("kind");
                }
                serde_json::from_value(value)
                    .map(Self::Dense)
                    .map_err(D::Error::custom)
            }
            Some(other) => Err(D::Error::custom(format!(
                "unknown kind {other:?}: expected \"dense\" (the default) or \"sparse\""
            ))),
        }
    }
}

impl VectorSpec {
    /// The dense vector's schema, if it is one.
    pub fn dense(&self) -> Option<&VectorConfig> {
        match self {
            Self::Dense(v) => Some(v),
            Self::Sparse(_) => None,
        }
    }
}

/// The kind of a sparse vector's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SparseKind {
    /// Sparse: points give `{indices, values}`.
    Sparse,
}

/// A sparse vector's schema: points and queries give `{"indices": [...],
/// "values": [...]}` (SPLADE's term weights, or any of your own), scored by
/// dot product over an inverted index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SparseVectorConfig {
    /// `sparse`.
    pub kind: SparseKind,
    /// Multiply each query weight by its index's inverse document frequency
    /// over the collection (for weights without rarity of their own, such
    /// as term counts); default false.
    #[serde(default)]
    pub idf: bool,
}

/// Parameters of MUVERA fixed-dimensional encodings (Dhulipala et al., 2024),
/// named as in the paper. The encoding has `r_reps · 2^k_sim · d_proj`
/// dimensions (or `final_dims`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuveraConfig {
    /// SimHash hyperplanes per repetition: `2^k_sim` buckets (0 to 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k_sim: Option<u32>,
    /// Dimensions each bucket is projected to (1 to 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d_proj: Option<u32>,
    /// Independent repetitions, concatenated (1 to 256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r_reps: Option<u32>,
    /// Fill empty document buckets from the nearest token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill_empty_partitions: Option<bool>,
    /// Shrink the concatenation to this many dimensions (a count sketch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_dims: Option<u32>,
    /// Seed of every random matrix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// In answers: dimensions of the encoding (derived; refused in requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fde_dims: Option<usize>,
}

fn default_layout() -> String {
    "float".into()
}

/// Body of `PUT /collections/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCollection {
    /// The unnamed vector (the v1 schema).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<VectorConfig>,
    /// Named vectors (letters, digits, `_` and `-`, at most 64 bytes),
    /// dense or `{"kind": "sparse"}`; a point holds any of them. At least
    /// one of `vector` and `vectors`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vectors: BTreeMap<String, VectorSpec>,
    /// Payload fields to index, with their types.
    #[serde(default)]
    pub payload_indexes: BTreeMap<String, PayloadIndexType>,
    /// A full-text (BM25) index over a payload text field: lexical and
    /// hybrid queries. An upsert's `text` is stored in that field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextIndex>,
}

fn default_text_field() -> String {
    "text".into()
}

fn default_language() -> String {
    "en".into()
}

/// A collection's full-text index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextIndex {
    /// The payload field holding each point's text (a string, or a list of
    /// strings); default `text`.
    #[serde(default = "default_text_field")]
    pub field: String,
    /// The analyser's language, an ISO 639-1 code (default `en`): `ar`, `da`,
    /// `de`, `el`, `en`, `es`, `fi`, `fr`, `hu`, `it`, `nl`, `no`, `pt`,
    /// `ro`, `ru`, `sv`, `ta`, `tr`. Words are split on non-alphanumerics,
    /// lowercased, stripped of the language's stop words and stemmed.
    #[serde(default = "default_language")]
    pub language: String,
}

impl Default for TextIndex {
    fn default() -> Self {
        Self {
            field: default_text_field(),
            language: default_language(),
        }
    }
}

/// Answer of `PUT /collections/{name}` and `DELETE /collections/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CollectionAck {
    /// The collection's name.
    pub name: String,
    /// `created`, `deleted`, or `recovered`.
    pub status: String,
}

/// Answer of `GET /collections/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CollectionInfo {
    /// The collection's name.
    pub name: String,
    /// The unnamed vector's schema (with `dims` filled in), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<VectorConfig>,
    /// The named vectors' schemas.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vectors: BTreeMap<String, VectorSpec>,
    /// Indexed payload fields.
    pub payload_indexes: BTreeMap<String, PayloadIndexType>,
    /// The full-text index, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextIndex>,
    /// Live points.
    pub points: u64,
    /// Deleted or replaced points whose data is still held (in sealed
    /// segments until the optimiser rewrites them).
    pub tombstones: u64,
    /// Live points in sealed segments, searched through their HNSW graphs;
    /// the rest (recent writes, at most a segment's size once writes pause)
    /// are searched exactly until they are sealed.
    pub indexed_points: u64,
    /// Sealed segments, each searched through its own graph.
    pub graph_segments: u64,
    /// `optimizing` while points wait to be sealed or segments to be merged
    /// (now, or once writes pause for 5 s: fewer, larger segments search
    /// faster), else `ok`.
    #[serde(default = "optimizer_ok")]
    pub optimizer_status: String,
    /// Bytes held in memory: vectors or codes, graph, payloads not yet sealed, payload index, ids.
    pub ram_bytes: u64,
    /// Bytes on disk: write-ahead log and the sealed segments' files.
    pub disk_bytes: u64,
    /// The same bytes by part.
    #[serde(default)]
    pub memory: MemoryInfo,
}

fn optimizer_ok() -> String {
    "ok".into()
}

/// Where a collection's bytes are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemoryInfo {
    /// In memory, by part: `vectors` (full vectors, float layout), `codes`
    /// (compact layouts), `graph` (links), `payload_index`, `payloads`, `ids`,
    /// `text` (the full-text index of points not sealed yet), `sparse`
    /// (sparse vectors and postings of points not sealed yet).
    pub ram: BTreeMap<String, u64>,
    /// On disk, by part: `vectors_file` (full vectors of compact layouts and
    /// token vectors, memory-mapped and read only to rerank), `payloads_file`
    /// (payloads of sealed segments, read for hits and unindexed filters),
    /// `wal`, `segments_file` (the other files of the sealed segments),
    /// `text_file` (the sealed segments' full-text indexes, memory-mapped),
    /// `sparse_file` (the sealed segments' sparse vectors and postings,
    /// memory-mapped).
    pub disk: BTreeMap<String, u64>,
}

/// One entry of `GET /collections`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CollectionSummary {
    /// The collection's name.
    pub name: String,
    /// Live points (0 for a damaged collection: it is not open).
    pub points: u64,
    /// `damaged` when its files failed their checks at open, so it is not
    /// served (every other collection is; see `error`); absent for a
    /// collection that serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// For a damaged collection: what was found, and what an operator can do
    /// (restore a snapshot, accept the intact prefix of the log through
    /// `POST /collections/{name}/recover`, or delete it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Body of `POST /collections/{name}/recover`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverCollection {
    /// Cut the write-ahead log at its first damaged record before opening,
    /// dropping that record and every record after it (intact or not). Without
    /// it the collection is only opened again, e.g. after its files were
    /// restored.
    #[serde(default)]
    pub accept_intact_log_prefix: bool,
}

/// Answer of `GET /collections`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CollectionList {
    /// Every collection, by name.
    pub collections: Vec<CollectionSummary>,
}
