//! # tower-vigil-ratelimit
//!
//! Keyed rate limiting (work in progress).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod algorithm;
pub mod decision;
pub mod key;
pub mod layer;
pub mod quota;
pub mod store;

pub use crate::algorithm::Mode;
pub use crate::decision::{Decision, PolicyDecision};
pub use crate::layer::{
    Clock, DefaultRateLimitedResponse, MissingKey, RateLimit, RateLimitBuilder, RateLimitLayer,
    RateLimited, ResponseForRateLimited, ResponseFuture,
};
pub use crate::quota::{Algorithm, MAX_LOG_LIMIT, Policy, Quota};
pub use crate::store::{Acquire, RateLimitStore};
pub use tower_vigil_core::{FailurePolicy, MemoryBackend, RedisBackend};
