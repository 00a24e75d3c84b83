//! HTTP handlers, one file per concern.

pub mod embed;
pub mod health;
pub mod openai;
