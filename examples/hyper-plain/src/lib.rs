//! # hyper-plain: tower-vigil on a bare hyper 1 server
//!
//! No framework: a hyper 1 HTTP/1.1 server (with `hyper-util`'s tokio glue and graceful
//! shutdown) runs one [`tower::ServiceBuilder`] stack per connection, adapted to hyper with
//! [`hyper_util::service::TowerToHyperService`]:
//!
//! 1. a `map_request` that puts the connection's peer [`SocketAddr`](std::net::SocketAddr)
//!    into the request's extensions (hyper does not; axum's `ConnectInfo` would);
//! 2. [`RateLimitLayer`](tower_vigil_ratelimit::RateLimitLayer) keyed by that peer IP
//!    ([`PeerIp`](tower_vigil_ratelimit::key::PeerIp)): 429 with `Retry-After` past the quota;
//! 3. [`IdempotencyLayer`](tower_vigil_idempotency::IdempotencyLayer) scoped per client IP: a
//!    repeated `Idempotency-Key` replays the stored response (`Idempotent-Replayed: true`);
//!    the same key with a different body is 422;
//! 4. the handler ([`handler::handle`]): `POST /orders` answers `201` with a fresh `orderId`,
//!    so a replay is recognisable.
//!
//! State lives in memory, or in Redis when `REDIS_URL` is set.
//!
//! ```no_run
//! use hyper_plain::{Config, serve};
//! use tower_vigil_core::MemoryBackend;
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), hyper_plain::Error> {
//! let config = Config::default();
//! let listener = tokio::net::TcpListener::bind(config.addr).await?;
//! serve(MemoryBackend::new(), &config, listener, std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod config;
pub mod handler;
mod server;

pub use crate::config::Config;
pub use crate::server::{Error, serve};
