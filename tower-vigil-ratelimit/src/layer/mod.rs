//! [`RateLimitLayer`]: keyed rate limiting as a tower layer.
//!
//! Each request is keyed ([`KeyExtractor`](crate::key::KeyExtractor)), decided against one or
//! more policies in one store round trip, and either served (with `RateLimit-Policy` /
//! `RateLimit` and `X-RateLimit-*` headers) or answered with 429 problem+json and
//! `Retry-After` (gRPC: `RESOURCE_EXHAUSTED`). The [`Decision`](crate::Decision) goes into the
//! response's extensions either way.
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
//! let layer = RateLimitLayer::builder(MemoryBackend::new())
//!     .quota(Quota::per_minute(2))
//!     .build()?;
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
mod future;
pub mod headers;
#[allow(clippy::module_inception)]
mod layer;
pub mod metrics;
mod outcome;
mod response;
mod service;

pub use self::builder::RateLimitBuilder;
pub use self::clock::Clock;
pub use self::deny_cache::DEFAULT_DENY_CACHE_CAPACITY;
pub use self::future::ResponseFuture;
pub use self::layer::RateLimitLayer;
pub use self::response::{DefaultRateLimitedResponse, RateLimited, ResponseForRateLimited};
pub use self::service::RateLimit;

/// What the layer does with a request whose key cannot be extracted.
///
/// The default is `Reject` (400 problem+json): a limiter that silently stops limiting when,
/// say, the server was not set up to record peer addresses or the API-key layer is not in
/// front of it, is worse than one that fails loudly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MissingKey {
    /// Answer 400 problem+json (gRPC: `INVALID_ARGUMENT`).
    #[default]
    Reject,
    /// Serve the request unmetered.
    Allow,
    /// Count every unidentified request against one shared key, `unidentified`.
    Shared,
}

impl MissingKey {
    /// `reject`, `allow` or `shared`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reject => "reject",
            Self::Allow => "allow",
            Self::Shared => "shared",
        }
    }
}
