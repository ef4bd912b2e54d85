//! # tower-vigil-ratelimit
//!
//! Keyed rate limiting for tower services (axum, tonic, hyper), on any
//! [`Backend`](tower_vigil_core::Backend) (in memory, Redis, Redis Cluster, or your own), with
//! one atomic round trip per decision.
//!
//! - **Algorithms** ([`Algorithm`]): GCRA (the default: one integer per key), token bucket,
//!   sliding-window log (capped), sliding-window counter, fixed window, all in one core
//!   [`Script`](tower_vigil_core::Script): Lua for Redis (deciding with Redis `TIME` unless you
//!   pass the app's [`Clock`]) and its Rust twin for [`MemoryBackend`]; a property test checks
//!   they decide identically. [`acquire`] decides outside a layer (a job, a message).
//! - **Several policies per request** (say 10 per second and 1,000 per hour), all or nothing,
//!   in one round trip; a request **cost**; **charge by outcome** (count only failed logins) or
//!   refunds ([`RateLimitBuilder::charge_when`], [`RateLimitBuilder::refund_when`]).
//! - **Keys** ([`key`]): peer IP, client IP behind trusted proxies, a header, the
//!   [`Principal`](tower_vigil_core::Principal) of the API-key or session layer, global, or a
//!   closure; the quota can be chosen per request ([`RateLimitBuilder::quota_for`]).
//! - **Answers**: `RateLimit-Policy` / `RateLimit` (draft-10) and `X-RateLimit-*` headers;
//!   429 `application/problem+json` with `Retry-After` rounded up (gRPC: `RESOURCE_EXHAUSTED`
//!   with `grpc-retry-pushback-ms`); the [`Decision`] in the response's extensions, and a
//!   [`RateLimitRejection`] in every response the layer makes by itself (over a limit, no key,
//!   backend unavailable), answered through the family's
//!   [`RejectionResponse`](tower_vigil_core::RejectionResponse) set with
//!   [`RateLimitBuilder::response`].
//! - **Operations**: a [`FailurePolicy`] for a failing backend (open by default, closed, or a
//!   local in-memory limiter), an in-process deny cache, shadow mode, `tracing` spans and
//!   counters through `metrics` ([`metrics`]).
//!
//! ## With axum
//!
//! ```
//! use std::net::SocketAddr;
//! use axum::{Router, extract::{ConnectInfo, Request}, middleware, routing::get};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use tower_vigil_ratelimit::{MemoryBackend, Quota, RateLimitLayer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // `RedisBackend::connect("redis://…").await?` shares the limit between app servers.
//! let limiter = RateLimitLayer::new(MemoryBackend::new(), Quota::per_minute(2));
//! let app = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .layer(limiter)
//!     // PeerIp reads a `SocketAddr` from the extensions (or, with this crate's `axum`
//!     // feature, axum's `ConnectInfo<SocketAddr>` directly, without this step).
//!     .layer(middleware::map_request(
//!         |ConnectInfo(peer): ConnectInfo<SocketAddr>, mut req: Request| async move {
//!             req.extensions_mut().insert(peer);
//!             req
//!         },
//!     ));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(axum::serve(
//!     listener,
//!     app.into_make_service_with_connect_info::<SocketAddr>(),
//! ).into_future());
//!
//! let mut answers = Vec::new();
//! for _ in 0..3 {
//!     let mut conn = tokio::net::TcpStream::connect(addr).await?;
//!     conn.write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").await?;
//!     let mut response = String::new();
//!     conn.read_to_string(&mut response).await?;
//!     answers.push(response);
//! }
//! assert!(answers[0].starts_with("HTTP/1.1 200"));
//! assert!(answers[0].contains("ratelimit: \"default\";r=1;t=30"));
//! assert!(answers[2].starts_with("HTTP/1.1 429"));
//! assert!(answers[2].contains("retry-after: 30"));
//! assert!(answers[2].contains("\"retryAfter\":30"));
//! # Ok(())
//! # }
//! ```
//!
//! ## With tonic
//!
//! gRPC requests (`content-type: application/grpc…`) are answered with `grpc-status: 8`
//! (`RESOURCE_EXHAUSTED`), the delay in `grpc-message`, `retry-after` and
//! `grpc-retry-pushback-ms`. Stacked behind an authentication layer, key on its principal:
//!
//! ```ignore
//! use tower_vigil_ratelimit::{key::PrincipalKey, Quota, RateLimitLayer, RedisBackend};
//!
//! let redis = RedisBackend::connect("redis://127.0.0.1:6379").await?;
//! let limiter = RateLimitLayer::builder(redis, Quota::per_second(50).burst(100))
//!     .key(PrincipalKey::new())
//!     .build()?;
//! tonic::transport::Server::builder()
//!     .layer(tower::ServiceBuilder::new().layer(api_key_layer).layer(limiter))
//!     .add_service(GreeterServer::new(MyGreeter::default()))
//!     .serve("[::1]:50051".parse()?)
//!     .await?;
//! ```
//!
//! ## Choosing an algorithm
//!
//! | algorithm | state per key | behaviour |
//! |---|---|---|
//! | GCRA (default) | one integer (88 bytes in Redis) | smooth, exact, burst configurable |
//! | token bucket | two integers | same admissions as GCRA |
//! | sliding-window log | one entry per admitted unit (limit ≤ 10,000) | exact over any window |
//! | sliding-window counter | three integers | approximate: ≤ 2 × limit in any window |
//! | fixed window | two integers | ≤ 2 × limit around a window boundary |
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod acquire;
mod algorithm;
pub mod decision;
pub mod key;
mod keys;
mod layer;
pub mod metrics;
pub mod quota;

pub use crate::acquire::{Acquire, acquire, reset};
pub use crate::algorithm::Mode;
pub use crate::decision::{Decision, PolicyDecision};
pub use crate::layer::{
    Clock, DEFAULT_DENY_CACHE_CAPACITY, DEFAULT_POLICY_NAME, MissingKey, RateLimit,
    RateLimitBuilder, RateLimitLayer, RateLimitRejection, RateLimitRejectionKind, ResponseFuture,
};
pub use crate::quota::{Algorithm, MAX_LOG_LIMIT, MAX_POLICY_NAME_LEN, Policy, Quota};
pub use tower_vigil_core::{FailurePolicy, MemoryBackend, RedisBackend};

/// Internals other crates of this workspace reach (the benchmarks): not part of the API.
#[doc(hidden)]
pub mod __private {
    /// The Lua script a Redis backend runs (every algorithm in one), for measuring it against
    /// Redis directly (`SCRIPT LOAD`, then `redis-benchmark … EVALSHA`) without a copy that
    /// could drift from it.
    pub fn lua_source() -> &'static str {
        crate::acquire::DECIDE.lua()
    }
}
