//! Exactly-once POSTs for tower services: `Idempotency-Key` done properly.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod body;
mod capture;
mod config;
mod execute;
pub mod fingerprint;
mod flow;
mod future;
pub mod key;
mod layer;
mod metrics;
pub mod record;
mod response;
mod service;
pub mod store;

use std::time::Duration;

pub use crate::body::{IdempotencyBody, RequestBody};
pub use crate::capture::{IDEMPOTENCY_STATUS, IDEMPOTENT_REPLAYED};
pub use crate::config::Unscoped;
pub use crate::future::ResponseFuture;
pub use crate::key::IdempotencyKey;
pub use crate::layer::IdempotencyLayer;
pub use crate::response::{DefaultResponse, Rejection, ResponseForRejection};
pub use crate::service::Idempotency;
pub use crate::store::{Claim, IdempotencyStore};

/// The default lease of an in-flight marker.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// The default longest a handler may hold a key by renewing its lease.
pub const DEFAULT_MAX_HOLD: Duration = Duration::from_secs(600);
/// The default retention of completed responses (the original system's 24 hours).
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);
/// The default request and response body limits (1 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
