//! [`RateLimitLayer`]: keyed rate limiting as a tower layer.
//!
//! Where things are: `layer.rs` (the layer), `builder.rs` (its settings, checked at
//! `build`), `service.rs` (one request's path), `engine.rs` (the decision engine: deny cache,
//! backend call, refund), `failure_policy.rs` (a failing backend), `outcome.rs` (which responses
//! count), `rejection.rs` (the requests it turns away) and `response.rs` (how they are answered),
//! `headers.rs`, `deny_cache.rs`, `missing_key.rs`, `clock.rs`.
//!
//! Each request is keyed ([`KeyExtractor`](crate::key::KeyExtractor)), decided against one or
//! more policies in one backend round trip, and either served (with `RateLimit-Policy` /
//! `RateLimit` and `X-RateLimit-*` headers) or answered with 429 problem+json and
//! `Retry-After` (gRPC: `RESOURCE_EXHAUSTED`). The [`Decision`](crate::Decision) goes into the
//! response's extensions either way, and a [`RateLimitRejection`] into every response the layer
//! makes by itself.
//!
//! ```
//! use std::convert::Infallible;
//! use std::net::SocketAddr;
//! use http::{Request, Response, StatusCode};
//! use tower::{Service, ServiceBuilder, ServiceExt};
//! use tower_vigil_ratelimit::{Decision, MemoryBackend, Quota, RateLimitLayer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let layer = RateLimitLayer::new(MemoryBackend::new(), Quota::per_minute(2));
//! let mut svc = ServiceBuilder::new()
//!     .layer(layer)
//!     .service_fn(|_req: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) });
//!
//! let request = || {
//!     let mut req = Request::new(String::new());
//!     req.extensions_mut().insert("192.0.2.7:51000".parse::<SocketAddr>().unwrap());
//!     req
//! };
//! let ok = svc.ready().await?.call(request()).await?;
//! assert_eq!(ok.headers()["ratelimit-policy"], "\"default\";q=2;w=60");
//! assert_eq!(ok.headers()["ratelimit"], "\"default\";r=1;t=30");
//! svc.ready().await?.call(request()).await?;
//! let limited = svc.ready().await?.call(request()).await?;
//! assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
//! assert_eq!(limited.headers()["retry-after"], "30");
//! assert!(!limited.extensions().get::<Decision>().unwrap().allowed());
//! # Ok(())
//! # }
//! ```

mod builder;
mod clock;
mod config;
mod deny_cache;
mod engine;
mod failure_policy;
mod future;
mod headers;
#[allow(clippy::module_inception)]
mod layer;
mod missing_key;
mod outcome;
mod rejection;
mod response;
mod service;

pub use self::builder::{DEFAULT_POLICY_NAME, RateLimitBuilder};
pub use self::clock::Clock;
pub use self::deny_cache::DEFAULT_DENY_CACHE_CAPACITY;
pub use self::future::ResponseFuture;
pub use self::layer::RateLimitLayer;
pub use self::missing_key::MissingKey;
pub use self::rejection::{RateLimitRejection, RateLimitRejectionKind};
pub use self::service::RateLimit;
