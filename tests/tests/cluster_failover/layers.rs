//! One request through each layer (and one core Backend + Lock round), each on fresh keys so
//! the load spreads over every master's slots. `Ok` when the layer answered as it does with a
//! healthy backend; `Err` says what it answered instead.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use bytes::Bytes;
use http::{Request, StatusCode, header};
use parking_lot::Mutex;
use tower::ServiceExt;
use tower_vigil_apikey::{
    ApiKeyCache, ApiKeyData, ApiKeyLayer, KeyStore, StaticKeyStore, StoreError, generate_key,
};
use tower_vigil_core::{Backend, FailurePolicy, Lock, Principal, RedisBackend};
use tower_vigil_idempotency::IdempotencyLayer;
use tower_vigil_ratelimit::key::RequestHead;
use tower_vigil_ratelimit::{Quota, RateLimitLayer};
use tower_vigil_session::{Session, SessionManagerLayer};

/// A request's outcome: what went wrong, if anything.
pub type Outcome = Result<(), String>;

/// A key store counting lookups per key hash: a lookup served from L2 does not count.
#[derive(Clone, Default)]
pub struct CountingStore {
    keys: StaticKeyStore,
    lookups: Arc<Mutex<HashMap<String, u32>>>,
}

impl KeyStore for CountingStore {
    type Extra = ();
    async fn lookup(&self, key_hash: &str) -> Result<Option<ApiKeyData>, StoreError> {
        *self.lookups.lock().entry(key_hash.to_owned()).or_default() += 1;
        self.keys.lookup(key_hash).await
    }
}

/// Every layer over one backend, each behind a tiny router.
#[derive(Clone)]
pub struct Layers {
    backend: RedisBackend,
    ratelimit: Router,
    apikey_a: Router,
    apikey_b: Router,
    store: CountingStore,
    hasher: ApiKeyCache<RedisBackend, CountingStore>,
    cache_b: ApiKeyCache<RedisBackend, CountingStore>,
    session: Router,
    idempotency: Router,
    next: Arc<AtomicU64>,
}

async fn status_of(app: &Router, req: Request<Body>) -> Result<http::Response<Body>, String> {
    app.clone().oneshot(req).await.map_err(|e| format!("{e}"))
}

fn expect(res: &http::Response<Body>, want: StatusCode, what: &str) -> Outcome {
    if res.status() == want {
        Ok(())
    } else {
        Err(format!("{what}: {}", res.status()))
    }
}

impl Layers {
    /// Builds every layer over `backend`. The rate limiter and idempotency fail closed (503)
    /// so a backend failure is visible; sessions do by default; API keys answer from the
    /// store when the backend fails, so their check is that a second instance finds the
    /// first one's fill in L2.
    pub fn new(backend: &RedisBackend) -> Self {
        let ratelimit = RateLimitLayer::builder(backend.clone(), Quota::per_second(1_000))
            .key(|req: &RequestHead<'_>| {
                req.headers()
                    .get("x-client")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            })
            .failure_policy(FailurePolicy::Closed)
            .build()
            .unwrap();
        let store = CountingStore::default();
        let cache = |b: &RedisBackend| {
            ApiKeyCache::builder(b.clone(), store.clone())
                .build()
                .unwrap()
        };
        let hasher = cache(backend);
        let cache_b = cache(backend);
        let ok = || async { "ok" };
        let session = Router::new()
            .route(
                "/login",
                post(
                    |axum::Extension(s): axum::Extension<Session>, body: String| async move {
                        s.cycle_id()
                            .await
                            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
                        s.set_user_id(&body)
                            .await
                            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
                        Ok::<_, StatusCode>("in")
                    },
                ),
            )
            .route(
                "/me",
                get(|axum::Extension(s): axum::Extension<Session>| async move {
                    match s.user_id().await {
                        Ok(Some(id)) => Ok(id),
                        Ok(None) => Err(StatusCode::UNAUTHORIZED),
                        Err(_) => Err(StatusCode::SERVICE_UNAVAILABLE),
                    }
                }),
            )
            .layer(SessionManagerLayer::new(backend.clone()));
        Self {
            backend: backend.clone(),
            ratelimit: Router::new().route("/", get(ok)).layer(ratelimit),
            apikey_a: Router::new()
                .route("/", get(ok))
                .layer(ApiKeyLayer::new(hasher.clone())),
            apikey_b: Router::new()
                .route("/", get(ok))
                .layer(ApiKeyLayer::new(cache_b.clone())),
            store,
            hasher,
            cache_b,
            session,
            idempotency: Router::new()
                .route(
                    "/pay",
                    post(|body: String| async move { (StatusCode::CREATED, body) }),
                )
                .layer(IdempotencyLayer::new(backend.clone())),
            next: Arc::default(),
        }
    }

    fn fresh(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// One request on a fresh rate-limit key: 200.
    pub async fn ratelimit(&self) -> Outcome {
        let req = Request::get("/")
            .header("x-client", format!("c{}", self.fresh()))
            .body(Body::empty())
            .unwrap();
        expect(
            &status_of(&self.ratelimit, req).await?,
            StatusCode::OK,
            "ratelimit",
        )
    }

    /// A new key through instance A (store lookup, L2 fill), then through instance B, which
    /// must find it in L2 without asking the store. Both answer 200 whatever the backend does.
    pub async fn apikey(&self) -> Outcome {
        let key = generate_key("vg").unwrap();
        let hash = self.hasher.hash_key(&key);
        self.store
            .keys
            .insert(&hash, ApiKeyData::new(format!("k{}", self.fresh()), "u"));
        for app in [&self.apikey_a, &self.apikey_b] {
            let req = Request::get("/")
                .header("x-api-key", &key)
                .body(Body::empty())
                .unwrap();
            let res = status_of(app, req).await?;
            assert!(
                !res.status().is_server_error(),
                "an API key the store knows is never a 5xx: {}",
                res.status()
            );
            expect(&res, StatusCode::OK, "apikey")?;
        }
        match self.store.lookups.lock().get(&hash) {
            Some(1) => Ok(()),
            n => Err(format!("apikey: L2 not shared ({n:?} store lookups)")),
        }
    }

    /// A key verified by instance B, then removed from the store and revoked through
    /// instance A: B must refuse it within 1 s (the invalidation crosses instances over
    /// pub/sub).
    pub async fn revocation(&self) -> Outcome {
        let key = generate_key("vg").unwrap();
        let hash = self.hasher.hash_key(&key);
        self.store
            .keys
            .insert(&hash, ApiKeyData::new(format!("k{}", self.fresh()), "u"));
        let req = || {
            Request::get("/")
                .header("x-api-key", &key)
                .body(Body::empty())
                .unwrap()
        };
        let res = status_of(&self.apikey_b, req()).await?;
        expect(&res, StatusCode::OK, "revocation: before")?;
        self.store.keys.remove(&hash);
        self.hasher
            .invalidate_key(&key)
            .await
            .map_err(|e| format!("revocation: {e}"))?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        loop {
            if status_of(&self.apikey_b, req()).await?.status() == StatusCode::UNAUTHORIZED {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err("revocation: still accepted by the other instance after 1 s".into());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits (until `deadline`) for both invalidation subscriptions to be live and a
    /// revocation to cross instances again; fails the test otherwise.
    pub async fn assert_revocation_recovers(&self, deadline: tokio::time::Instant) {
        while !self.apikey_subscribed() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the invalidation subscription stayed down"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut revoked = self.revocation().await;
        while revoked.is_err() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            revoked = self.revocation().await;
        }
        assert_eq!(revoked, Ok(()), "revocation after the failover");
    }

    /// True while both API-key caches' invalidation subscriptions are live.
    pub fn apikey_subscribed(&self) -> bool {
        self.hasher.stats().subscribed && self.cache_b.stats().subscribed
    }

    /// A login (new session, user id written), then a read of it with the cookie.
    pub async fn session(&self) -> Outcome {
        let user = format!("u{}", self.fresh());
        let login = Request::post("/login")
            .body(Body::from(user.clone()))
            .unwrap();
        let res = status_of(&self.session, login).await?;
        expect(&res, StatusCode::OK, "session login")?;
        let cookie = res
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|c| c.to_str().ok())
            .and_then(|c| c.split(';').next())
            .ok_or("session login: no cookie")?
            .to_owned();
        let me = Request::get("/me")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        let res = status_of(&self.session, me).await?;
        expect(&res, StatusCode::OK, "session read")?;
        let body = axum::body::to_bytes(res.into_body(), 1024)
            .await
            .map_err(|e| e.to_string())?;
        (body == user.as_bytes())
            .then_some(())
            .ok_or_else(|| "session read: another user".to_owned())
    }

    /// A keyed POST (201), then its retry (replayed).
    pub async fn idempotency(&self) -> Outcome {
        let key = format!("\"pay-{}\"", self.fresh());
        let pay = || {
            Request::post("/pay")
                .header("idempotency-key", &key)
                .extension(Principal::user("alice"))
                .body(Body::from("{}"))
                .unwrap()
        };
        let first = status_of(&self.idempotency, pay()).await?;
        expect(&first, StatusCode::CREATED, "idempotency first")?;
        let retry = status_of(&self.idempotency, pay()).await?;
        expect(&retry, StatusCode::CREATED, "idempotency retry")?;
        match retry.headers().get("idempotent-replayed") {
            Some(v) if v == "true" => Ok(()),
            _ => Err("idempotency retry: not replayed".to_owned()),
        }
    }

    /// A set and get on the core backend, and a lock taken and released.
    pub async fn core(&self) -> Outcome {
        let n = self.fresh();
        let key = format!("core:{n}");
        let value = Bytes::from(n.to_string());
        let ttl = Duration::from_secs(60);
        let err = |e: tower_vigil_core::BackendError| format!("core: {e}");
        self.backend
            .set(&key, value.clone(), ttl)
            .await
            .map_err(err)?;
        if self.backend.get(&key).await.map_err(err)? != Some(value) {
            return Err("core: read another value".to_owned());
        }
        let lock = Lock::new(self.backend.clone(), &format!("res{n}"), ttl).unwrap();
        let guard = lock
            .try_acquire()
            .await
            .map_err(err)?
            .ok_or("core: lock held")?;
        guard.release().await.map_err(err)?;
        Ok(())
    }
}
