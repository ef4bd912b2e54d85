//! # tower-vigil-core
//!
//! The shared foundation of the tower-vigil middleware family: one [`Backend`] trait with an
//! embedded in-memory implementation ([`MemoryBackend`]) and a Redis / Redis Cluster one
//! ([`RedisBackend`]) that pass the same conformance suite, whose primitive is the atomic
//! [`Script`] (Lua for Redis, its Rust twin for memory); one [`Rejection`] contract for every
//! layer; distributed [`Lock`]s with fencing
//! tokens; [`health`] probes; and the types the layers share ([`Principal`], [`FailurePolicy`],
//! key naming, secret hashing, problem+json and gRPC rejections).
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use tower_vigil_core::{Backend, MemoryBackend};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_vigil_core::BackendError> {
//! // The embedded default; swap in `RedisBackend::connect("redis://…")` with no other change.
//! let backend = MemoryBackend::new();
//! backend.set("hello", Bytes::from_static(b"world"), Duration::from_secs(5)).await?;
//! assert_eq!(backend.incr_by("hits", 1, Duration::from_secs(60)).await?, 1);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backend;
pub mod error;
pub mod health;
pub mod http;
pub mod keys;
pub mod lock;
pub mod memory;
pub mod metrics;
pub mod policy;
pub mod principal;
pub mod redis;
pub mod rejection;
pub mod script;
pub mod secret;
mod slot;
mod ttl;

pub use crate::backend::{
    Backend, BackendInfo, BackendKind, BackendResult, Subscription, SubscriptionEvent,
};
pub use crate::error::{BackendError, BackendErrorKind, ConfigError};
pub use crate::lock::{Lock, LockGuard};
pub use crate::memory::MemoryBackend;
pub use crate::policy::FailurePolicy;
pub use crate::principal::{Principal, PrincipalKind};
pub use crate::redis::RedisBackend;
pub use crate::rejection::{DefaultResponse, Rejection, RejectionResponse};
pub use crate::script::{Arg, Reply, Script};
