//! [`Inner`]: what every clone of an [`ApiKeyCache`](super::ApiKeyCache) shares: the backend,
//! the key store, the settings, the in-process tier and the failure-policy state.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::config::Config;
use super::l1::{Entry, LocalState};
use crate::{KeyStore, StoreErrorKind};

pub(crate) struct Inner<B, K: KeyStore> {
    pub(crate) backend: B,
    pub(crate) store: K,
    pub(crate) config: Config,
    pub(crate) l1: moka::future::Cache<String, Arc<Entry<K::Extra>>>,
    pub(crate) local: LocalState,
    /// Store failures per key hash, with when they happened and their kind: the lookups
    /// queued behind a failed one share its outcome (see `lookup`).
    pub(crate) failures: moka::future::Cache<String, (Instant, StoreErrorKind)>,
    /// Until when lookups skip the backend after a failed call.
    pub(crate) backend_down_until: Mutex<Option<Instant>>,
    /// The invalidation subscriber, started by the first call that runs inside a Tokio
    /// runtime.
    pub(crate) subscriber: Subscriber,
}

/// Starts the invalidation subscriber once; dropping it (with the cache) stops the task.
pub(crate) struct Subscriber {
    started: AtomicBool,
    shutdown_rx: Mutex<Option<oneshot::Receiver<()>>>,
    _shutdown: oneshot::Sender<()>,
}

impl Subscriber {
    pub(crate) fn new() -> Self {
        let (tx, rx) = oneshot::channel();
        Self {
            started: AtomicBool::new(false),
            shutdown_rx: Mutex::new(Some(rx)),
            _shutdown: tx,
        }
    }

    /// Hands `spawn` the shutdown signal the first time a runtime is there to run the task.
    pub(crate) fn start_once(
        &self,
        spawn: impl FnOnce(&tokio::runtime::Handle, oneshot::Receiver<()>),
    ) {
        if self.started.load(Ordering::Acquire) {
            return;
        }
        let mut rx = self.shutdown_rx.lock();
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            // Not in a runtime: entries stay stale (revalidated) until a call is.
            return;
        };
        if let Some(rx) = rx.take() {
            spawn(&handle, rx);
            self.started.store(true, Ordering::Release);
        }
    }
}

impl<B, K: KeyStore> Inner<B, K> {
    pub(crate) fn new(backend: B, store: K, config: Config) -> Self {
        let l1 = moka::future::Cache::builder()
            .max_capacity(config.l1_capacity)
            .time_to_live(config.l1_keep())
            .build();
        let failures = moka::future::Cache::builder()
            .max_capacity(config.l1_capacity)
            .time_to_live(super::config::FAILURE_SHARED_FOR)
            .build();
        let local = LocalState::new(config.l1_ttl, config.negative_ttl);
        Self {
            backend,
            store,
            config,
            l1,
            local,
            failures,
            backend_down_until: Mutex::new(None),
            subscriber: Subscriber::new(),
        }
    }

    /// Forgets `hash` in this instance's L1, including fills already in flight.
    pub(crate) async fn evict_local(&self, hash: &str) {
        self.local.record_invalidation(hash);
        self.l1.invalidate(hash).await;
    }
}
