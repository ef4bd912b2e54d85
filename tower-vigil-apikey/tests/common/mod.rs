//! Shared by the integration tests: a key store that counts lookups and can block or fail,
//! cache and service builders, a scan of everything a test left in Redis, what a backend
//! needs for the suites run on every backend, and the macro that runs them there.
#![allow(dead_code, unreachable_pub, unused_macros)]

pub mod backends;

/// One `#[tokio::test]` per (case, backend): memory, a Redis server and a Redis Cluster, in
/// modules `memory`, `redis` and `cluster` beside the cases. Cases are
/// `async fn case<B: TestBackend>(backend: B)` in the module that invokes the macro.
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(tower_vigil_tests::fixtures::memory()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(tower_vigil_tests::fixtures::redis().await).await;
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(tower_vigil_tests::fixtures::cluster().await).await;
                }
            )*
        }
        mod sentinel {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(tower_vigil_tests::fixtures::sentinel().await).await;
                }
            )*
        }
    };
}

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use parking_lot::Mutex;
use tokio::sync::Notify;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use tower_vigil_apikey::{
    ApiKeyCache, ApiKeyData, ApiKeyLayer, KeyStatus, KeyStore, StaticKeyStore, StoreError,
};
use tower_vigil_core::http::ResponseBody;
use tower_vigil_core::{Backend, Principal};

/// A gate a lookup stops at: the test learns it arrived and decides when it goes on.
#[derive(Clone, Default)]
pub struct Gate {
    pub entered: Arc<Notify>,
    pub release: Arc<Notify>,
}

/// A [`KeyStore`] over a map that counts lookups, can fail, can be slow (failing or not), and
/// can hold the next lookup at a [`Gate`] after it read the map (like a database read that is
/// in flight).
#[derive(Clone, Default)]
pub struct TestStore {
    pub keys: StaticKeyStore,
    lookups: Arc<AtomicUsize>,
    failing: Arc<AtomicBool>,
    delay: Arc<Mutex<Option<Duration>>>,
    gate: Arc<Mutex<Option<Gate>>>,
}

impl TestStore {
    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }

    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    pub fn set_delay(&self, delay: Duration) {
        *self.delay.lock() = Some(delay);
    }

    /// Holds the next lookup at the returned gate.
    pub fn gate_next(&self) -> Gate {
        let g = Gate::default();
        *self.gate.lock() = Some(g.clone());
        g
    }
}

impl KeyStore for TestStore {
    type Extra = ();

    async fn lookup(&self, key_hash: &str) -> Result<Option<ApiKeyData>, StoreError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        // A failing lookup is as slow as a working one: a database that is down answers late.
        let failing = self.failing.load(Ordering::SeqCst);
        let found = self.keys.lookup(key_hash).await?;
        let delay = *self.delay.lock();
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let gate = self.gate.lock().take();
        if let Some(g) = gate {
            g.entered.notify_one();
            g.release.notified().await;
        }
        if failing {
            return Err(StoreError::new("test store is down"));
        }
        Ok(found)
    }
}

/// A cache with default settings whose subscription is live.
pub async fn cache<B: Backend>(backend: B, store: &TestStore) -> ApiKeyCache<B, TestStore> {
    let cache = ApiKeyCache::builder(backend, store.clone())
        .build()
        .unwrap();
    cache.ready().await;
    cache
}

/// The name of a [`KeyStatus`]'s variant, for assertions.
pub fn status_name<T>(status: &KeyStatus<T>) -> &'static str {
    match status {
        KeyStatus::Valid(_) => "valid",
        KeyStatus::InvalidFormat => "invalid_format",
        KeyStatus::Unknown => "unknown",
        KeyStatus::Expired(_) => "expired",
        KeyStatus::Unavailable(_) => "unavailable",
        _ => "other",
    }
}

/// Adds `raw` to the store as key `id`.
pub fn add_key<B: Backend>(
    cache: &ApiKeyCache<B, TestStore>,
    store: &TestStore,
    raw: &str,
    data: ApiKeyData,
) {
    store.keys.insert(&cache.hash_key(raw), data);
}

pub type Svc = BoxCloneSyncService<Request<String>, Response<ResponseBody<String>>, Infallible>;

/// `ApiKeyLayer` over a service answering with the principal's id.
pub fn service<B: Backend>(layer: ApiKeyLayer<B, TestStore>) -> Svc {
    let svc =
        tower::ServiceBuilder::new()
            .layer(layer)
            .service_fn(|req: Request<String>| async move {
                let id = Principal::from_extensions(req.extensions())
                    .map(|p| p.id().to_owned())
                    .unwrap_or_default();
                Ok::<_, Infallible>(Response::new(id))
            });
    BoxCloneSyncService::new(svc)
}

/// The status of a request carrying `key` in `X-API-Key`.
pub async fn status(svc: &Svc, key: &str) -> StatusCode {
    let req = Request::builder()
        .header("x-api-key", key)
        .body(String::new())
        .unwrap();
    svc.clone().oneshot(req).await.unwrap().status()
}

/// Fails if any raw key appears in a key name or value under `prefix`, or a key has no TTL;
/// returns how many keys were scanned.
pub async fn assert_no_raw_key(urls: &[String], prefix: &str, raw_keys: &[&str]) -> usize {
    let keys = tower_vigil_tests::inspect::dump(urls, prefix).await;
    let secrets: Vec<&[u8]> = raw_keys.iter().map(|k| k.as_bytes()).collect();
    tower_vigil_tests::inspect::assert_no_secret(&keys, &secrets)
}
