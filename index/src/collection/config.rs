//! A collection's schema: its vectors' layout, dimension and metric, HNSW
//! parameters and indexed payload fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::codes::{CodeKind, CodeSpec};
use crate::distance::Metric;
use crate::error::{IndexError, Result};
use crate::graph::{HnswParams, Space};
use crate::muvera::FdeParams;
use crate::sparse::SparseConfig;
use crate::text::TextConfig;
use crate::types::PayloadType;

/// How vectors are stored and searched.
///
/// `Float` keeps the full vectors in memory and links them in the graph. The
/// compact layouts keep a code per point in memory, link the codes in the
/// graph, and keep the full vectors in a memory-mapped file for the rerank
/// (see [`crate::codes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Full `f32` vectors in memory and in the graph.
    Float,
    /// Sign bits (`bits` = 1), or residual bit planes (2 or 4).
    Binary {
        /// Bit planes per dimension.
        bits: u8,
    },
    /// The first `k` dimensions, renormalised for cosine.
    Matryoshka {
        /// Prefix length.
        k: usize,
    },
    /// Token sets (late interaction): their MUVERA encodings in memory and in
    /// the graph, the token vectors in a memory-mapped file for the exact
    /// Chamfer rerank (see [`crate::muvera`]).
    Multivector,
}

impl Layout {
    /// Parses the API's layout string.
    pub fn parse(s: &str) -> Result<Self> {
        let invalid = |reason: String| IndexError::InvalidParameter {
            field: "vector.layout".into(),
            reason,
        };
        match s {
            "float" => Ok(Self::Float),
            "binary" => Ok(Self::Binary { bits: 1 }),
            "binary:2" => Ok(Self::Binary { bits: 2 }),
            "binary:4" => Ok(Self::Binary { bits: 4 }),
            "multivector" => Ok(Self::Multivector),
            other => {
                if let Some(k) = other.strip_prefix("matryoshka:") {
                    return match k.parse::<usize>() {
                        Ok(k) if k > 0 => Ok(Self::Matryoshka { k }),
                        _ => Err(invalid(format!(
                            "{other:?}: the prefix length must be a positive integer, as in \"matryoshka:128\""
                        ))),
                    };
                }
                if other.starts_with("binary:") {
                    return Err(invalid(format!(
                        "{other:?}: binary codes have 1, 2 or 4 bits per dimension (\"binary\", \"binary:2\", \"binary:4\")"
                    )));
                }
                Err(invalid(format!(
                    "unknown layout {other:?}: expected float, binary, binary:2, binary:4, matryoshka:K or multivector"
                )))
            }
        }
    }

    /// The API's name of the layout.
    pub fn as_str(self) -> String {
        match self {
            Self::Float => "float".into(),
            Self::Binary { bits: 1 } => "binary".into(),
            Self::Binary { bits } => format!("binary:{bits}"),
            Self::Matryoshka { k } => format!("matryoshka:{k}"),
            Self::Multivector => "multivector".into(),
        }
    }

    /// The shape of the compact codes, `None` for `Float`.
    pub fn code_spec(self, dims: usize, metric: Metric) -> Option<CodeSpec> {
        let kind = match self {
            Self::Float | Self::Multivector => return None,
            Self::Binary { bits } => CodeKind::Binary { bits },
            Self::Matryoshka { k } => CodeKind::Prefix { k },
        };
        Some(CodeSpec { kind, dims, metric })
    }

    /// What the graph links for vectors of `dims` under `metric`; for
    /// `Multivector`, `dims` is the encoding's and the metric the dot product.
    pub fn graph_space(self, dims: usize, metric: Metric) -> Space {
        match self {
            Self::Float => Space::Floats { dims, metric },
            Self::Multivector => Space::Floats {
                dims,
                metric: Metric::Dot,
            },
            Self::Matryoshka { k } => Space::Floats { dims: k, metric },
            Self::Binary { .. } => match self.code_spec(dims, metric) {
                Some(spec) => Space::Codes(spec),
                None => Space::Floats { dims, metric },
            },
        }
    }

    /// Candidates per result reranked when a search does not say, for vectors
    /// of `dims`: enough for recall@10 ≥ 0.95 on the 100k-vector benchmark of
    /// all-MiniLM-L6-v2 sentence embeddings (see the README). Sign bits need a
    /// walk of `ef` 64 and its results reranked; residual codes rank well enough
    /// for 2–3×; a prefix of a model not trained for it loses more the shorter
    /// it is (12 × dims / k, 36× for 128 of 384 dimensions).
    pub fn default_oversample(self, dims: usize) -> f32 {
        match self {
            Self::Float => 1.0,
            Self::Binary { bits: 1 } => 8.0,
            Self::Binary { bits: 2 } => 3.0,
            Self::Binary { .. } => 2.0,
            Self::Matryoshka { k } => (12.0 * dims as f32 / k.max(1) as f32).clamp(2.0, 40.0),
            Self::Multivector => MULTIVECTOR_OVERSAMPLE,
        }
    }
}

impl Serialize for Layout {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

impl<'de> Deserialize<'de> for Layout {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Multi-vector collections: FDE candidates per result reranked by Chamfer
/// when a search does not say (see docs/benchmarks.md, MUVERA).
pub const MULTIVECTOR_OVERSAMPLE: f32 = 20.0;

/// Largest vector dimension a collection accepts.
pub const MAX_DIMS: usize = 65_536;

/// Most vectors (dense and sparse) a collection holds.
pub const MAX_VECTORS: usize = 256;

/// Longest name of a named vector.
pub const MAX_VECTOR_NAME: usize = 64;

/// One vector of a collection: its dimension, metric, layout and graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorConfig {
    /// Vector dimension.
    pub dims: usize,
    /// Similarity metric.
    pub metric: Metric,
    /// Storage layout.
    pub layout: Layout,
    /// HNSW parameters.
    pub hnsw: HnswParams,
    /// The MUVERA encoding of a `multivector` layout (its defaults when the
    /// creator gave none; stored, seed included, so encodings never change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muvera: Option<FdeParams>,
    /// What fills it from a point's or query's text (the server's concern:
    /// `float` or `multivector`); kept with the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
}

impl VectorConfig {
    /// A vector of `dims` under `metric` in `layout`, with the default graph.
    pub fn new(dims: usize, metric: Metric, layout: Layout) -> Self {
        Self {
            dims,
            metric,
            layout,
            hnsw: HnswParams::default(),
            muvera: (layout == Layout::Multivector).then(FdeParams::default),
            encoder: None,
        }
    }

    /// Dimensions of what the heap holds per point and the graph links: the
    /// vectors (float layout), the FDE (multivector); compact layouts keep
    /// codes beside the vector file.
    pub fn point_dims(&self) -> usize {
        match (self.layout, &self.muvera) {
            (Layout::Multivector, Some(params)) => params.dims(),
            _ => self.dims,
        }
    }

    /// What the graph links.
    pub fn graph_space(&self) -> Space {
        self.layout.graph_space(self.point_dims(), self.metric)
    }

    /// The compact codes' shape, `None` for layouts without codes.
    pub fn code_spec(&self) -> Option<CodeSpec> {
        self.layout.code_spec(self.dims, self.metric)
    }

    /// Checks dimensions, layout and HNSW parameters; errors name fields
    /// under `field` (`vector` for the v1 vector, `vectors.<name>` otherwise).
    pub fn validate(&self, field: &str) -> Result<()> {
        if self.dims == 0 || self.dims > MAX_DIMS {
            return Err(IndexError::InvalidParameter {
                field: format!("{field}.dims"),
                reason: format!("must be between 1 and {MAX_DIMS}, got {}", self.dims),
            });
        }
        let layout_error = |reason: String| IndexError::InvalidParameter {
            field: format!("{field}.layout"),
            reason,
        };
        match self.layout {
            Layout::Matryoshka { k } if k >= self.dims => {
                return Err(layout_error(format!(
                    "the Matryoshka prefix ({k}) must be shorter than the vectors ({} dimensions)",
                    self.dims
                )));
            }
            Layout::Binary { .. } if self.metric == Metric::L2 => {
                return Err(layout_error(
                    "binary codes keep signs, which approximate angles: use metric cosine or dot with them, or a float or matryoshka layout for l2".into(),
                ));
            }
            Layout::Multivector if self.metric == Metric::L2 => {
                return Err(layout_error(
                    "multi-vectors are scored by Chamfer similarity, a sum of dot products: use metric cosine or dot".into(),
                ));
            }
            _ => {}
        }
        let muvera_error = |reason: String| IndexError::InvalidParameter {
            field: format!("{field}.muvera"),
            reason,
        };
        match (self.layout, &self.muvera) {
            (Layout::Multivector, None) => {
                return Err(muvera_error(
                    "a multivector layout needs its encoding's parameters".into(),
                ));
            }
            (Layout::Multivector, Some(params)) => {
                params.validate_for(self.dims).map_err(muvera_error)?;
            }
            (_, Some(_)) => {
                return Err(muvera_error(
                    "MUVERA parameters apply to the multivector layout only".into(),
                ));
            }
            (_, None) => {}
        }
        self.hnsw
            .validate()
            .map_err(|(name, reason)| IndexError::InvalidParameter {
                field: format!("{field}.hnsw.{name}"),
                reason,
            })
    }
}

/// A collection's schema, fixed at creation but for payload indexes added
/// later: its named vectors (the v1 single vector is the one named `""`) and
/// indexed payload fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredConfig")]
pub struct CollectionConfig {
    /// The vectors, by name. Their order here is their order everywhere
    /// inside the collection (a vector's index is its place in this map).
    pub vectors: BTreeMap<String, VectorConfig>,
    /// Indexed payload fields.
    pub payload_schema: BTreeMap<String, PayloadType>,
    /// The full-text (BM25) index over a payload text field, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextConfig>,
    /// The sparse vectors, by name (their names differ from the dense
    /// ones'); a sparse vector's index is its place in this map.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sparse: BTreeMap<String, SparseConfig>,
}

/// `config.json` as written: the named form, or the single vector's fields
/// at the top (collections created before named vectors).
#[derive(Deserialize)]
struct StoredConfig {
    #[serde(default)]
    vectors: BTreeMap<String, VectorConfig>,
    #[serde(default)]
    payload_schema: BTreeMap<String, PayloadType>,
    #[serde(default)]
    text: Option<TextConfig>,
    #[serde(default)]
    sparse: BTreeMap<String, SparseConfig>,
    #[serde(flatten)]
    single: Option<VectorConfig>,
}

impl From<StoredConfig> for CollectionConfig {
    fn from(stored: StoredConfig) -> Self {
        let mut vectors = stored.vectors;
        if let Some(single) = stored.single {
            vectors.insert(String::new(), single);
        }
        Self {
            vectors,
            payload_schema: stored.payload_schema,
            text: stored.text,
            sparse: stored.sparse,
        }
    }
}

impl CollectionConfig {
    /// A collection of one unnamed vector (the v1 shape).
    pub fn single(vector: VectorConfig) -> Self {
        Self {
            vectors: BTreeMap::from([(String::new(), vector)]),
            payload_schema: BTreeMap::new(),
            text: None,
            sparse: BTreeMap::new(),
        }
    }

    /// The unnamed vector (`""`), the v1 `vector`.
    pub fn default_vector(&self) -> Option<&VectorConfig> {
        self.vectors.get("")
    }

    /// The index of the vector named `name`.
    pub fn vector_index(&self, name: &str) -> Option<usize> {
        self.vectors.keys().position(|n| n == name)
    }

    /// The vector named `name`, or an error naming `field` and the vectors
    /// there are.
    pub fn vector(&self, name: &str, field: &str) -> Result<(usize, &VectorConfig)> {
        self.vectors
            .iter()
            .enumerate()
            .find(|(_, (n, _))| n.as_str() == name)
            .map(|(i, (_, v))| (i, v))
            .ok_or_else(|| IndexError::InvalidParameter {
                field: field.into(),
                reason: if self.sparse.contains_key(name) {
                    format!(
                        "{name:?} is a sparse vector: query it with a `sparse` ({{indices, values}}) stage of POST /collections/{{c}}/query"
                    )
                } else {
                    format!(
                        "the collection has no vector named {name:?}; it has {}",
                        self.vector_names()
                    )
                },
            })
    }

    /// The sparse vector named `name` and its index, or an error naming
    /// `field` and the sparse vectors there are.
    pub fn sparse_vector(&self, name: &str, field: &str) -> Result<(usize, SparseConfig)> {
        self.sparse
            .iter()
            .enumerate()
            .find(|(_, (n, _))| n.as_str() == name)
            .map(|(i, (_, c))| (i, *c))
            .ok_or_else(|| IndexError::InvalidParameter {
                field: field.into(),
                reason: if self.vectors.contains_key(name) {
                    format!("{name:?} is a dense vector, not a sparse one")
                } else if self.sparse.is_empty() {
                    "the collection has no sparse vector (declare one with `vectors: {\"<name>\": {\"kind\": \"sparse\"}}`)".into()
                } else {
                    let names: Vec<String> =
                        self.sparse.keys().map(|n| format!("{n:?}")).collect();
                    format!(
                        "the collection has no sparse vector named {name:?}; it has {}",
                        names.join(", ")
                    )
                },
            })
    }

    /// Every vector's name: the dense ones in order, then the sparse ones
    /// (the order in which reads name them).
    pub fn names(&self) -> Vec<String> {
        self.vectors
            .keys()
            .chain(self.sparse.keys())
            .cloned()
            .collect()
    }

    /// Every vector's name, quoted, for messages.
    pub fn vector_names(&self) -> String {
        let names: Vec<String> = self
            .vectors
            .keys()
            .chain(self.sparse.keys())
            .map(|n| format!("{n:?}"))
            .collect();
        names.join(", ")
    }

    /// The API's field for the vector named `name`.
    pub fn field_of(name: &str) -> String {
        if name.is_empty() {
            "vector".into()
        } else {
            format!("vectors.{name}")
        }
    }

    /// Checks every vector and the indexed fields.
    pub fn validate(&self) -> Result<()> {
        if self.vectors.is_empty() && self.sparse.is_empty() {
            return Err(IndexError::InvalidParameter {
                field: "vectors".into(),
                reason: "a collection needs at least one vector".into(),
            });
        }
        if self.vectors.len() + self.sparse.len() > MAX_VECTORS {
            return Err(IndexError::InvalidParameter {
                field: "vectors".into(),
                reason: format!("a collection holds at most {MAX_VECTORS} vectors"),
            });
        }
        for name in self.vectors.keys().chain(self.sparse.keys()) {
            if name.len() > MAX_VECTOR_NAME
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(IndexError::InvalidParameter {
                    field: "vectors".into(),
                    reason: format!(
                        "vector name {name:?}: use at most {MAX_VECTOR_NAME} ASCII letters, digits, '_' and '-'"
                    ),
                });
            }
        }
        for name in self.sparse.keys() {
            if name.is_empty() || self.vectors.contains_key(name) {
                return Err(IndexError::InvalidParameter {
                    field: "vectors".into(),
                    reason: format!(
                        "sparse vector {name:?}: a sparse vector needs a name of its own"
                    ),
                });
            }
        }
        for (name, vector) in &self.vectors {
            vector.validate(&Self::field_of(name))?;
        }
        for key in self.payload_schema.keys() {
            if key.is_empty() {
                return Err(IndexError::InvalidParameter {
                    field: "payload_indexes".into(),
                    reason: "field names must not be empty".into(),
                });
            }
        }
        if let Some(text) = &self.text
            && (text.field.is_empty() || text.field.len() > MAX_TEXT_FIELD)
        {
            return Err(IndexError::InvalidParameter {
                field: "text.field".into(),
                reason: format!(
                    "name the payload field holding the text (1 to {MAX_TEXT_FIELD} bytes)"
                ),
            });
        }
        Ok(())
    }
}

/// Longest name of a text field.
pub const MAX_TEXT_FIELD: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_written_before_named_vectors_read_as_the_unnamed_vector() {
        let old = r#"{"dims":8,"metric":"cosine","layout":"binary:2","hnsw":{"m":12,"ef_construction":100},"payload_schema":{"kind":"keyword"}}"#;
        let config: CollectionConfig = serde_json::from_str(old).unwrap();
        let vector = config.default_vector().unwrap();
        assert_eq!(config.vectors.len(), 1);
        assert_eq!(vector.dims, 8);
        assert_eq!(vector.layout, Layout::Binary { bits: 2 });
        assert_eq!(vector.hnsw.m, 12);
        assert_eq!(config.payload_schema["kind"], PayloadType::Keyword);
        // Written again, it takes the named form and reads back the same.
        let json = serde_json::to_string(&config).unwrap();
        assert!(json.starts_with(r#"{"vectors":{"":{"dims":8"#), "{json}");
        assert_eq!(
            serde_json::from_str::<CollectionConfig>(&json).unwrap(),
            config
        );
    }

    #[test]
    fn named_vectors_are_found_by_name_and_checked() {
        let mut config =
            CollectionConfig::single(VectorConfig::new(4, Metric::Cosine, Layout::Float));
        config.vectors.insert(
            "tokens".into(),
            VectorConfig::new(4, Metric::Dot, Layout::Multivector),
        );
        config.validate().unwrap();
        assert_eq!(config.vector_index(""), Some(0));
        assert_eq!(config.vector("tokens", "using").unwrap().0, 1);
        let err = config.vector("dense", "using").unwrap_err().to_string();
        assert!(
            err.contains("using") && err.contains(r#""dense""#) && err.contains(r#""tokens""#),
            "{err}"
        );
        for bad in ["a b", "x/y", "é", &"n".repeat(MAX_VECTOR_NAME + 1)] {
            let mut c = config.clone();
            c.vectors
                .insert(bad.into(), VectorConfig::new(4, Metric::Dot, Layout::Float));
            assert!(c.validate().is_err(), "{bad:?}");
        }
        let mut l2 = config.clone();
        l2.vectors.get_mut("tokens").unwrap().metric = Metric::L2;
        let err = l2.validate().unwrap_err().to_string();
        assert!(err.contains("vectors.tokens.layout"), "{err}");
        let empty = CollectionConfig {
            text: None,
            sparse: BTreeMap::new(),
            vectors: BTreeMap::new(),
            payload_schema: BTreeMap::new(),
        };
        assert!(empty.validate().is_err());
    }
}
