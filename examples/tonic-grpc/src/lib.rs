//! # tonic-grpc: a gRPC service behind tower-vigil
//!
//! `vigil.demo.Analyzer/Analyze` scores a text for prompt-injection patterns. In front of it,
//! stacked with [`tower::ServiceBuilder`] through tonic's `Server::builder().layer(..)`:
//!
//! 1. [`ApiKeyLayer`](tower_vigil_apikey::ApiKeyLayer) reads the `x-api-key` metadata (gRPC
//!    metadata are HTTP/2 headers) or `authorization: Bearer …`: `UNAUTHENTICATED` when it is
//!    missing or unknown;
//! 2. [`require("analyze")`](tower_vigil_apikey::require): `PERMISSION_DENIED` for a key
//!    without that permission;
//! 3. [`RateLimitLayer`](tower_vigil_ratelimit::RateLimitLayer) keyed by the key's
//!    [`Principal`](tower_vigil_core::Principal), with the key's own per-minute limit:
//!    `RESOURCE_EXHAUSTED` (with `retry-after`) past it.
//!
//! The layers answer gRPC requests with gRPC statuses themselves; nothing here translates.
//! State lives in memory, or in Redis when `REDIS_URL` is set (then every instance shares the
//! quotas and the API-key cache).
//!
//! The service is generated without `protoc`: the messages are `#[derive(prost::Message)]`
//! structs ([`proto`]) and `build.rs` describes the service with `tonic_build::manual`.
//!
//! ```no_run
//! use tonic_grpc::{Config, serve};
//! use tower_vigil_core::MemoryBackend;
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let config = Config::demo();
//! let listener = tokio::net::TcpListener::bind(config.addr).await?;
//! serve(MemoryBackend::new(), &config, listener, std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod analyzer;
mod config;
pub mod proto;
mod server;

pub use crate::analyzer::{Analyzer, score};
pub use crate::config::{Config, DEMO_KEY, KeyEntry, READONLY_KEY};
pub use crate::server::{Error, serve};
