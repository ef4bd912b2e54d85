//! [`serve`]: the accept loop, the per-connection peer address and the layer stack.
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> Result<(), hyper_plain::Error> {
//! // Shared state in Redis: every instance counts against the same quotas and replays the
//! // same stored responses.
//! let redis = tower_vigil_core::RedisBackend::connect("redis://127.0.0.1:6379").await?;
//! let config = hyper_plain::Config::default();
//! let listener = tokio::net::TcpListener::bind(config.addr).await?;
//! hyper_plain::serve(redis, &config, listener, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await?;
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use http::Request;
use http::request::Parts;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_vigil_core::Backend;
use tower_vigil_idempotency::{IdempotencyLayer, RequestBody};
use tower_vigil_ratelimit::key::PeerIp;
use tower_vigil_ratelimit::{Quota, RateLimitLayer};

use crate::{Config, handler};

/// Why the server could not start: a bad configuration or an I/O failure.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// How long in-flight requests get to finish once `shutdown` completes.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves the stack on `listener`, with its state in `backend`, until `shutdown` completes;
/// then stops accepting and lets open connections finish (up to 10 s).
pub async fn serve<B>(
    backend: B,
    config: &Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error>
where
    B: Backend,
{
    let limiter = RateLimitLayer::builder(backend.clone(), Quota::per_minute(config.per_minute))
        // Reads the `SocketAddr` each connection's `map_request` below inserts.
        .key(PeerIp::new())
        .build()?;
    // Without an authentication layer there is no `Principal`: scope the keys per client IP
    // so two clients choosing the same key never see each other's responses.
    let idempotency = IdempotencyLayer::builder(backend)
        .scope(client_scope)
        .build()?;
    let stack = ServiceBuilder::new()
        .layer(limiter)
        .layer(idempotency)
        .service_fn(handler::handle::<RequestBody<Incoming>>);

    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // hyper hands the service no connection info: put the peer address where `PeerIp`
        // (and `client_scope`) look for it.
        let service = ServiceBuilder::new()
            .map_request(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(peer);
                req
            })
            .service(stack.clone());
        let connection = http1::Builder::new()
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%err, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {DRAIN:?}; closing them");
    }
    Ok(())
}

/// The idempotency scope of a request: its client's IP.
fn client_scope(parts: &Parts) -> Option<String> {
    let peer = parts.extensions.get::<SocketAddr>()?;
    Some(format!("ip:{}", peer.ip()))
}
