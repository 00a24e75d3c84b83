//! Liveness and readiness answers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Answer of `GET /healthz`: the process is up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `"ok"`.
    pub status: String,
    /// The server's version.
    pub version: String,
}

/// Answer of `GET /readyz`: whether the model is loaded and storage is open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// True when every component below is ready.
    pub ready: bool,
    /// The default encoder has loaded its model.
    pub model_loaded: bool,
    /// The data directory is open for reads and writes.
    pub storage_open: bool,
    /// The default model's name, once loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}
