//! Aliases: second names for collections, switched atomically.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One change to the aliases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum AliasAction {
    /// `{"create": {"alias", "collection"}}`: a new alias for a collection.
    Create(CreateAlias),
    /// `{"delete": {"alias"}}`: removes an alias (never a collection).
    Delete(DeleteAlias),
}

/// The body of an alias `create` action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAlias {
    /// The alias (a collection name's rules; not a collection's name).
    pub alias: String,
    /// The collection it names.
    pub collection: String,
}

/// The body of an alias `delete` action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAlias {
    /// The alias.
    pub alias: String,
}

/// Body of `POST /aliases`: applied in order, all or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasActions {
    /// The changes.
    pub actions: Vec<AliasAction>,
}

/// One alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AliasEntry {
    /// The alias.
    pub alias: String,
    /// The collection it names.
    pub collection: String,
}

/// Answer of `GET /aliases` (and of `POST /aliases`: the aliases after it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AliasList {
    /// Every alias, by name.
    pub aliases: Vec<AliasEntry>,
}
