//! The axum apps under load: one route, bare or behind one layer (ours or a peer's).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_sessions_redis_store::RedisStore;
use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};
use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, ApiKeyLayer, StaticKeyStore, generate_key};
use tower_vigil_core::Backend;
use tower_vigil_core::RedisBackend;
use tower_vigil_idempotency::{IdempotencyLayer, Unscoped};
use tower_vigil_ratelimit::{Quota, RateLimitLayer};
use tower_vigil_session::{Session, SessionError, SessionManagerLayer};

use crate::minimal::MinimalGcraLayer;

/// Admits everything the machine can send from one key: 1 per µs with a burst of a second,
/// so each layer measures its allow path (the costly one: it writes).
pub(crate) const PER_SECOND: u32 = 1_000_000;

async fn hello() -> &'static str {
    "hello"
}

pub(crate) fn bare() -> Router {
    Router::new().route("/", get(hello))
}

/// tower-governor with its defaults (peer-IP key, no headers), the same quota.
pub(crate) fn governor() -> Router {
    governor_at(PER_SECOND)
}

/// [`governor()`] admitting `per_second`.
pub(crate) fn governor_at(per_second: u32) -> Router {
    let config = GovernorConfigBuilder::default()
        .per_nanosecond(1_000_000_000 / u64::from(per_second))
        .burst_size(per_second)
        .finish()
        .expect("governor config");
    bare().layer(GovernorLayer::new(config))
}

/// Our rate limit with its defaults (peer IP, GCRA, both header families, deny cache), or
/// with the headers off (what tower-governor sends by default), to tell the cost of the
/// decision from that of five more response headers.
pub(crate) fn rate_limit(store: impl Backend, headers: bool) -> Router {
    rate_limit_at(store, headers, PER_SECOND)
}

/// [`rate_limit()`] admitting `per_second`.
pub(crate) fn rate_limit_at(store: impl Backend, headers: bool, per_second: u32) -> Router {
    let layer = RateLimitLayer::builder(store, Quota::per_second(per_second))
        .ietf_headers(headers)
        .legacy_headers(headers)
        .build()
        .expect("rate limit");
    bare().layer(layer)
}

pub(crate) async fn minimal_evalsha(url: &str) -> Router {
    let layer = MinimalGcraLayer::connect(url, u64::from(PER_SECOND))
        .await
        .expect("minimal middleware");
    bare().layer(layer)
}

/// The API-key layer with one valid key; `l1` off makes every request an L2 hit.
pub(crate) async fn api_key(redis: impl Backend, l1: bool) -> (Router, String) {
    let store = StaticKeyStore::new();
    let mut builder = ApiKeyCache::builder(redis, store.clone());
    if !l1 {
        builder = builder.l1_ttl(std::time::Duration::ZERO);
    }
    let cache = builder.build().expect("api key cache");
    cache.ready().await;
    let key = generate_key("vg").expect("key");
    store.insert(
        &cache.hash_key(&key),
        ApiKeyData::new("k-bench", "u-bench").permission("analyze"),
    );
    (bare().layer(ApiKeyLayer::new(cache)), key)
}

/// Our sessions: `/new` creates one, `/read` reads a field, `/write` changes it.
pub(crate) fn session(redis: RedisBackend) -> Router {
    let counter = Arc::new(AtomicU64::new(0));
    Router::new()
        .route(
            "/new",
            get(|s: Session| async move { s.insert("n", 0u64).await.map(|()| "new") }),
        )
        .route(
            "/read",
            get(|s: Session| async move {
                let n: Option<u64> = s.get("n").await?;
                Ok::<_, SessionError>(if n.is_some() {
                    StatusCode::OK
                } else {
                    StatusCode::GONE
                })
            }),
        )
        .route(
            "/write",
            get(|s: Session| async move {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                s.insert("n", n).await.map(|()| "ok")
            }),
        )
        .layer(SessionManagerLayer::new(redis))
}

/// tower-sessions with tower-sessions-redis-store (fred pool of 6, as its docs set it up),
/// the same three routes. `sliding`: configured for our sessions' default semantics, an idle
/// timeout that every request extends (`Expiry::OnInactivity` of 24 h, which tower-sessions
/// only extends on a save, so `with_always_save`, as its docs pair them); without it, its
/// default: a session expires two weeks after its last change, however active it is.
pub(crate) async fn tower_sessions(url: &str, sliding: bool) -> Router {
    let pool =
        Pool::new(Config::from_url(url).expect("url"), None, None, None, 6).expect("fred pool");
    let _connection = pool.connect();
    pool.wait_for_connect().await.expect("fred connect");
    let counter = Arc::new(AtomicU64::new(0));
    type S = tower_sessions::Session;
    Router::new()
        .route(
            "/new",
            get(|s: S| async move {
                s.insert("n", 0u64)
                    .await
                    .map_or(StatusCode::INTERNAL_SERVER_ERROR, |()| StatusCode::OK)
            }),
        )
        .route(
            "/read",
            get(|s: S| async move {
                match s.get::<u64>("n").await {
                    Ok(Some(_)) => StatusCode::OK,
                    Ok(None) => StatusCode::GONE,
                    Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
                }
            }),
        )
        .route(
            "/write",
            get(|s: S| async move {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                s.insert("n", n)
                    .await
                    .map_or(StatusCode::INTERNAL_SERVER_ERROR, |()| StatusCode::OK)
            }),
        )
        .layer(if sliding {
            tower_sessions::SessionManagerLayer::new(RedisStore::new(pool))
                .with_secure(false)
                .with_expiry(tower_sessions::Expiry::OnInactivity(
                    tower_sessions::cookie::time::Duration::hours(24),
                ))
                .with_always_save(true)
        } else {
            tower_sessions::SessionManagerLayer::new(RedisStore::new(pool)).with_secure(false)
        })
}

/// Idempotency on Redis: `POST /orders` echoes its body with 201.
pub(crate) fn idempotency(redis: RedisBackend) -> Router {
    Router::new()
        .route(
            "/orders",
            post(|body: String| async move { (StatusCode::CREATED, body) }),
        )
        // One anonymous load client: the shared namespace keeps the path measured before.
        .layer(
            IdempotencyLayer::builder(redis)
                .unscoped(Unscoped::SharedUnsafe)
                .build()
                .expect("idempotency layer"),
        )
}
