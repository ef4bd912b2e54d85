//! [`serve`]: the layer stack in front of the generated `AnalyzerServer`.
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // Shared state in Redis: every instance sees the same quotas and key cache.
//! let redis = tower_vigil_core::RedisBackend::connect("redis://127.0.0.1:6379").await?;
//! let config = tonic_grpc::Config::demo();
//! let listener = tokio::net::TcpListener::bind(config.addr).await?;
//! tonic_grpc::serve(redis, &config, listener, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await?;
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tower::ServiceBuilder;
use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, ApiKeyLayer, StaticKeyStore, require};
use tower_vigil_core::Backend;
use tower_vigil_ratelimit::key::{PrincipalKey, RequestHead};
use tower_vigil_ratelimit::{Quota, RateLimitLayer};

use crate::config::ANALYZE;
use crate::proto::analyzer_server::AnalyzerServer;
use crate::{Analyzer, Config};

/// Why the server could not start or stopped: a bad configuration or a transport failure.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Serves `vigil.demo.Analyzer` on `listener` behind API keys and a per-key rate limit, with
/// their state in `backend`, until `shutdown` completes (then drains in-flight calls).
pub async fn serve<B>(
    backend: B,
    config: &Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error>
where
    B: Backend,
{
    // The key database: a map from key hash to key data (a real service would query its own
    // database in a `KeyStore` impl). Only hashes are stored, never the keys.
    let store = StaticKeyStore::new();
    let cache = ApiKeyCache::new(backend.clone(), store.clone());
    for entry in &config.keys {
        store.insert(&cache.hash_key(&entry.key), entry.data.clone());
    }

    let limiter = RateLimitLayer::builder(backend, Quota::per_minute(config.per_minute))
        // One quota per API key: the principal the API-key layer put in the extensions.
        .key(PrincipalKey::new())
        // Each key's own limit, when it has one.
        .quota_for(key_quota)
        .build()?;

    // Outermost first: authenticate, check the permission (a refused key spends no quota),
    // then count the call.
    let stack = ServiceBuilder::new()
        .layer(ApiKeyLayer::new(cache))
        .layer(require(ANALYZE)?)
        .layer(limiter);

    Server::builder()
        .layer(stack)
        .add_service(AnalyzerServer::new(Analyzer))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await?;
    Ok(())
}

/// The authenticated key's own per-minute limit.
fn key_quota(head: &RequestHead<'_>) -> Option<Quota> {
    let data = head.extensions().get::<Arc<ApiKeyData>>()?;
    // `ApiKeyData::rate_limit` is a u64; a quota counts in u32.
    let per_minute = u32::try_from(data.rate_limit?).unwrap_or(u32::MAX);
    Some(Quota::per_minute(per_minute))
}
