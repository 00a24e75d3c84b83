//! What the cluster tests share: a small collection's configuration.

use std::collections::BTreeMap;

use trawl_index::{CollectionConfig, HnswParams, Layout, Metric, VectorConfig};

/// The test vectors' dimension.
pub const DIMS: usize = 16;

/// One unnamed float vector of [`DIMS`] dimensions, cosine.
pub fn config() -> CollectionConfig {
    CollectionConfig {
        text: None,
        sparse: Default::default(),
        vectors: BTreeMap::from([(
            String::new(),
            VectorConfig {
                dims: DIMS,
                metric: Metric::Cosine,
                layout: Layout::Float,
                hnsw: HnswParams::default(),
                muvera: None,
                encoder: None,
            },
        )]),
        payload_schema: Default::default(),
    }
}
