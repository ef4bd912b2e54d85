//! [`ApiKeyCache`]: the two-tier cache in front of your [`KeyStore`], shared by every
//! [`ApiKeyLayer`](crate::ApiKeyLayer) built from it and held by the application to revoke
//! keys.
//!
//! A lookup goes L1 (in-process, bounded, short TTL) → L2 (the backend, `apikey:{hash}`, 5
//! minutes) → the store. Concurrent misses for one key coalesce into one L2 read and at most
//! one store lookup; "no such key" is cached too (30 s). [`invalidate_hash`] deletes the L2
//! record, bumps the key's revocation generation (so a fill racing it is dropped) and
//! publishes on `apikey:invalidate`, which evicts the key from every instance's L1.
//!
//! ```
//! use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, StaticKeyStore};
//! use tower_vigil_core::MemoryBackend;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = StaticKeyStore::new();
//! let cache = ApiKeyCache::builder(MemoryBackend::new(), store.clone()).build()?;
//! let key = "vg_example-key-123456";
//! store.insert(&cache.hash_key(key), ApiKeyData::new("k-demo", "u-1"));
//!
//! assert_eq!(cache.authenticate(key).await?.data().id, "k-demo");
//!
//! // Revoke: delete from your database, then invalidate every cache.
//! store.remove(&cache.hash_key(key));
//! cache.invalidate_key(key).await?;
//! assert!(cache.authenticate(key).await.is_err());
//! # Ok(())
//! # }
//! ```
//!
//! [`invalidate_hash`]: ApiKeyCache::invalidate_hash

mod config;
mod l2;
mod local;
pub(crate) mod record;
mod resolve;
mod subscriber;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::oneshot;
use tower_vigil_core::BackendError;

use self::config::Config;
pub use self::config::{
    ApiKeyCacheBuilder, DEFAULT_L1_CAPACITY, DEFAULT_L1_TTL, DEFAULT_L2_TTL, DEFAULT_NEGATIVE_TTL,
    DEFAULT_STALE_IF_ERROR, DEFAULT_STORE_TIMEOUT,
};
pub use self::l2::ApiKeyBackend;
use self::local::{Entry, LocalState, is_key_hash};
use crate::metrics::{self, inc};
use crate::{Authenticated, KeyStore, Rejection, RejectionKind, StoreError};

/// The pub/sub channel (relative to the backend prefix) invalidations are published on; the
/// payload is the key's hash.
pub const INVALIDATION_CHANNEL: &str = "apikey:invalidate";

/// The two-tier API-key cache. Cheap to clone; clones share everything.
pub struct ApiKeyCache<B, K: KeyStore> {
    inner: Arc<Inner<B, K>>,
}

pub(crate) struct Inner<B, K: KeyStore> {
    backend: B,
    store: K,
    config: Config,
    l1: moka::future::Cache<String, Arc<Entry<K::Extra>>>,
    local: LocalState,
    /// Store failures per key hash, with when they happened and their kind: the lookups
    /// queued behind a failed one share its outcome (see `resolve`).
    failures: moka::future::Cache<String, (tokio::time::Instant, crate::StoreErrorKind)>,
    /// Until when lookups skip the backend after a failed call.
    backend_down_until: parking_lot::Mutex<Option<tokio::time::Instant>>,
    /// Dropped with the cache, which stops the subscriber task.
    _shutdown: oneshot::Sender<()>,
}

impl<B, K: KeyStore> Clone for ApiKeyCache<B, K> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<B: ApiKeyBackend, K: KeyStore> fmt::Debug for ApiKeyCache<B, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyCache")
            .field("backend", &self.inner.backend)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// A snapshot of the cache's state, for health pages and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Entries in the in-process cache (approximate).
    pub l1_entries: u64,
    /// True while the invalidation subscription is live (in-process entries may be trusted).
    pub subscribed: bool,
    /// How many times the subscription was lost.
    pub subscription_losses: u64,
}

impl<B: ApiKeyBackend, K: KeyStore> ApiKeyCache<B, K> {
    /// A builder over `backend` (the shared cache and invalidation channel) and `store` (the
    /// source of truth).
    pub fn builder(backend: B, store: K) -> ApiKeyCacheBuilder<B, K> {
        ApiKeyCacheBuilder::new(backend, store)
    }

    fn start(builder: ApiKeyCacheBuilder<B, K>, handle: &tokio::runtime::Handle) -> Self {
        let config = builder.config;
        // Entries stay past their freshness so they can be served under the failure policy.
        let keep = config
            .stale_if_error
            .max(config.l1_ttl)
            .max(config.negative_ttl);
        let l1 = moka::future::Cache::builder()
            .max_capacity(config.l1_capacity)
            .time_to_live(keep.max(std::time::Duration::from_millis(1)))
            .build();
        let failures = moka::future::Cache::builder()
            .max_capacity(config.l1_capacity)
            .time_to_live(resolve::FAILURE_SHARED_FOR)
            .build();
        let (shutdown_tx, shutdown_rx) = oneshot::channel();
        let local = LocalState::new(config.l1_ttl, config.negative_ttl);
        let inner = Arc::new(Inner {
            backend: builder.backend,
            store: builder.store,
            config,
            l1,
            local,
            failures,
            backend_down_until: parking_lot::Mutex::new(None),
            _shutdown: shutdown_tx,
        });
        handle.spawn(subscriber::run(Arc::downgrade(&inner), shutdown_rx));
        Self { inner }
    }

    /// The hash a raw key is looked up by (64 lowercase hex characters).
    pub fn hash_key(&self, raw_key: &str) -> String {
        self.inner.config.hasher.hash_hex(raw_key.as_bytes())
    }

    /// Checks a raw key: format, lookup through both caches, expiry.
    pub async fn authenticate(&self, raw_key: &str) -> Result<Authenticated<K::Extra>, Rejection> {
        if !self.inner.config.format.accepts(raw_key) {
            return Err(Rejection::new(
                RejectionKind::InvalidFormat,
                "the API key is not in the expected format",
            ));
        }
        let hash = self.hash_key(raw_key);
        match self.lookup_hash(&hash).await {
            Ok(Some(found)) if found.data().is_expired_at((self.inner.config.clock)()) => Err(
                Rejection::new(RejectionKind::Expired, "the API key has expired"),
            ),
            Ok(Some(found)) => Ok(found),
            Ok(None) => Err(Rejection::new(
                RejectionKind::UnknownKey,
                "the API key is not valid",
            )),
            Err(_) => Err(Rejection::new(
                RejectionKind::Unavailable,
                "API keys cannot be checked right now",
            )),
        }
    }

    /// Looks a key up by its hash through both caches. An error means the store failed and
    /// no cached answer could stand in (backend failures alone are absorbed: see the crate
    /// docs' failure policy). A string that is not the shape of [`hash_key`](Self::hash_key)'s
    /// output (64 lowercase hex characters) is no key: `Ok(None)` without any lookup, so
    /// nothing is cached that [`invalidate_hash`](Self::invalidate_hash) could not evict.
    pub async fn lookup_hash(
        &self,
        key_hash: &str,
    ) -> Result<Option<Authenticated<K::Extra>>, StoreError> {
        if !is_key_hash(key_hash) {
            return Ok(None);
        }
        self.inner.lookup(key_hash).await
    }

    /// Revokes `raw_key` in every cache: see [`invalidate_hash`](Self::invalidate_hash).
    pub async fn invalidate_key(&self, raw_key: &str) -> Result<(), BackendError> {
        self.invalidate_hash(&self.hash_key(raw_key)).await
    }

    /// Revokes the key with hash `key_hash` in every cache: this instance's L1 at once, the
    /// L2 record (with its revocation generation bumped so no racing fill brings it back),
    /// and every other instance's L1 through the invalidation channel. Call it after deleting
    /// or changing the key in your store, and after creating a key (to drop a cached "no such
    /// key"). A hash of the wrong shape is ignored.
    pub async fn invalidate_hash(&self, key_hash: &str) -> Result<(), BackendError> {
        if !is_key_hash(key_hash) {
            return Ok(());
        }
        inc(metrics::INVALIDATIONS_TOTAL);
        let inner = &self.inner;
        inner.evict_local(key_hash).await;
        let (record, rev) = record::keys(key_hash);
        let revoked = metrics::timed(
            metrics::op::REVOKE,
            inner
                .backend
                .revoke_record(&record, &rev, inner.config.rev_ttl()),
        )
        .await;
        let published = metrics::timed(
            metrics::op::PUBLISH,
            inner.backend.publish(
                INVALIDATION_CHANNEL,
                Bytes::copy_from_slice(key_hash.as_bytes()),
            ),
        )
        .await;
        revoked?;
        published
    }

    /// Waits until the invalidation subscription is live (in-process entries are only
    /// trusted from then on). Useful at startup and in tests; wrap it in a timeout if the
    /// backend may be down at startup (the cache works meanwhile, revalidating every entry).
    pub async fn ready(&self) {
        let mut rx = self.inner.local.watch_live();
        // The sender lives as long as the cache, and we hold the cache.
        let _ = rx.wait_for(|live| *live).await;
    }

    /// Current state.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            l1_entries: self.inner.l1.entry_count(),
            subscribed: self.inner.local.is_live(),
            subscription_losses: self.inner.local.losses(),
        }
    }
}

impl<B, K: KeyStore> Inner<B, K> {
    /// Forgets `hash` in this instance's L1, including fills already in flight.
    async fn evict_local(&self, hash: &str) {
        self.local.record_invalidation(hash);
        self.l1.invalidate(hash).await;
    }
}
