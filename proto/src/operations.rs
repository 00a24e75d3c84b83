//! Queued writes: `PUT /collections/{name}/points?wait=false` and
//! `GET /operations/{id}`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ErrorDetail;

/// Where a queued write is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    /// On disk, waiting for the operations before it.
    Queued,
    /// Being embedded and written; `written` grows.
    Running,
    /// Every point written (durably).
    Done,
    /// Stopped by `error`; the first `written` points were written.
    Failed,
}

impl OperationStatus {
    /// Done or failed: nothing more will happen.
    pub fn finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

/// A queued write and how far it has come.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Operation {
    /// The operation's id (for `GET /operations/{id}`).
    pub id: String,
    /// The collection written to (an alias is resolved when the write is accepted).
    pub collection: String,
    /// Where it is.
    pub status: OperationStatus,
    /// Points in the write.
    pub points: usize,
    /// Points written so far (durably), in the order given.
    pub written: usize,
    /// Why it failed (`status` `failed`), in the API's error shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
    /// When it was accepted (RFC 3339).
    pub created: String,
    /// When it finished (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
}
