//! The stack under load: rate limit (fails open) → API key (serves its in-process copy while
//! Redis is down) → session (503) → idempotency (503) → a handler, every layer on one
//! `RedisBackend`, as a service would stack them.
//!
//! Routes: `GET /ping` (the rate limit and the API key only), `POST /pay` (idempotent: each
//! run of the handler is numbered per key), `POST /login` (a new session for `x-user`),
//! `GET /whoami` (the session's user, empty when anonymous).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::header::HeaderName;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use parking_lot::Mutex;
use tower::ServiceBuilder;
use tower::util::BoxCloneSyncService;
use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, ApiKeyLayer, StaticKeyStore};
use tower_vigil_core::{FailurePolicy, RedisBackend};
use tower_vigil_idempotency::IdempotencyLayer;
use tower_vigil_ratelimit::key::HeaderKey;
use tower_vigil_ratelimit::{Quota, RateLimitLayer};
use tower_vigil_session::{Session, SessionManagerLayer};

/// The one API key the load uses.
pub(crate) const API_KEY: &str = "test-key-0123456789abcdef";
/// The session cookie's name (the layer's default).
pub(crate) const COOKIE: &str = "__Host-vigil_session";
/// Requests per second client 0 may make: it sends far more, so it is limited often.
const GREEDY: u32 = 20;
/// Requests per second the other clients may make: more than they send.
const PER_CLIENT: u32 = 100_000;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Svc =
    BoxCloneSyncService<Request<String>, Response<UnsyncBoxBody<Bytes, BoxError>>, Infallible>;

/// How many times the handler ran for each idempotency key.
#[derive(Clone, Default)]
pub(crate) struct Runs(Arc<Mutex<HashMap<String, u32>>>);

impl Runs {
    fn next(&self, key: &str) -> u32 {
        let mut runs = self.0.lock();
        let n = runs.entry(key.to_owned()).or_default();
        *n += 1;
        *n
    }
}

/// The whole stack over `backend`.
pub(crate) async fn build(backend: RedisBackend, runs: Runs) -> Svc {
    let keys = StaticKeyStore::new();
    let cache = ApiKeyCache::builder(backend.clone(), keys.clone())
        .build()
        .expect("a valid cache");
    keys.insert(&cache.hash_key(API_KEY), ApiKeyData::new("k-1", "u-1"));
    cache.ready().await;
    let rate_limit = RateLimitLayer::builder(backend.clone(), Quota::per_second(PER_CLIENT))
        .quota_for(|req| {
            let greedy = req.headers().get("x-client").is_some_and(|c| c == "0");
            greedy.then_some(Quota::per_second(GREEDY))
        })
        .key(HeaderKey::new(HeaderName::from_static("x-client")))
        .failure_policy(FailurePolicy::Open)
        // A 503 from a layer below (Redis down) does not use the client's quota: refunds
        // happen, and fail, while Redis restarts.
        .refund_when(|status| status == StatusCode::SERVICE_UNAVAILABLE)
        .build()
        .expect("a valid rate limit");
    let stack = ServiceBuilder::new()
        .map_response(|res: Response<_>| {
            res.map(|b: _| BodyExt::map_err(b, Into::into).boxed_unsync())
        })
        .layer(rate_limit)
        .layer(ApiKeyLayer::new(cache))
        .layer(SessionManagerLayer::new(backend.clone()))
        .layer(IdempotencyLayer::new(backend))
        .service_fn(move |req| handle(req, runs.clone()));
    BoxCloneSyncService::new(stack)
}

async fn handle<B>(req: Request<B>, runs: Runs) -> Result<Response<String>, Infallible> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let session = || {
        req.extensions()
            .get::<Session>()
            .expect("the session layer")
            .clone()
    };
    let answer = match req.uri().path() {
        "/ping" => Ok((StatusCode::OK, "pong".to_owned())),
        "/pay" => {
            let key = header("idempotency-key");
            let n = runs.next(&key);
            Ok((StatusCode::CREATED, format!("{key}#{n}")))
        }
        "/login" => {
            let session = session();
            async {
                session.cycle_id().await?;
                session.set_user_id(header("x-user")).await
            }
            .await
            .map(|()| (StatusCode::OK, "ok".to_owned()))
        }
        "/whoami" => session()
            .user_id()
            .await
            .map(|user| (StatusCode::OK, user.unwrap_or_default())),
        other => Ok((StatusCode::NOT_FOUND, other.to_owned())),
    };
    // A session error is a 500 here: the session layer must make it a 503.
    let (status, body) =
        answer.unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()));
    let mut res = Response::new(body);
    *res.status_mut() = status;
    Ok(res)
}
