//! [`ApiKeyCache`]: the two-tier cache in front of your [`KeyStore`]. It answers "what is
//! this key" ([`KeyStatus`]); it is shared by every [`ApiKeyLayer`](crate::ApiKeyLayer) built
//! from it and held by the application to revoke keys.
//!
//! A lookup goes L1 (in-process, bounded, short TTL) → L2 (the backend, `apikey:{hash}`, 5
//! minutes) → the store. Concurrent misses for one key coalesce into one L2 read and at most
//! one store lookup; "no such key" is cached too (30 s). [`invalidate_hash`] deletes the L2
//! record, bumps the key's revocation generation (so a fill racing it is dropped) and
//! publishes on `apikey:invalidate`, which evicts the key from every instance's L1.
//!
//! ```
//! use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, KeyStatus, StaticKeyStore};
//! use tower_vigil_core::MemoryBackend;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = StaticKeyStore::new();
//! let cache = ApiKeyCache::new(MemoryBackend::new(), store.clone());
//! let key = "vg_example-key-123456";
//! store.insert(&cache.hash_key(key), ApiKeyData::new("k-demo", "u-1"));
//!
//! let who = cache.check_key(key).await.valid().unwrap();
//! assert_eq!(who.data().id, "k-demo");
//!
//! // Revoke: delete from your database, then invalidate every cache.
//! store.remove(&cache.hash_key(key));
//! cache.invalidate_key(key).await?;
//! assert!(matches!(cache.check_key(key).await, KeyStatus::Unknown));
//! # Ok(())
//! # }
//! ```
//!
//! [`invalidate_hash`]: ApiKeyCache::invalidate_hash

mod builder;
mod config;
mod failure_policy;
mod l1;
pub(crate) mod l2;
mod lookup;
pub(crate) mod record;
mod revocation;
mod state;
mod status;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use tower_vigil_core::{Backend, BackendError};

pub use self::builder::{
    ApiKeyCacheBuilder, DEFAULT_L1_CAPACITY, DEFAULT_L1_TTL, DEFAULT_L2_TTL, DEFAULT_NEGATIVE_TTL,
    DEFAULT_STALE_IF_ERROR, DEFAULT_STORE_TIMEOUT,
};
use self::config::Config;
use self::l1::is_key_hash;
use self::state::Inner;
pub use self::status::KeyStatus;
use crate::keys::INVALIDATION_CHANNEL;
use crate::metrics::{self, inc};
use crate::{Authenticated, KeyStore, StoreError};

/// The two-tier API-key cache. Cheap to clone; clones share everything (the in-process tier,
/// the invalidation subscription): build one per key store and hand clones to every layer.
pub struct ApiKeyCache<B, K: KeyStore> {
    inner: Arc<Inner<B, K>>,
}

impl<B, K: KeyStore> Clone for ApiKeyCache<B, K> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<B: Backend, K: KeyStore> fmt::Debug for ApiKeyCache<B, K> {
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

impl<B: Backend, K: KeyStore> ApiKeyCache<B, K> {
    fn start(backend: B, store: K, config: Config) -> Self {
        let cache = Self {
            inner: Arc::new(Inner::new(backend, store, config)),
        };
        // Built inside a runtime (the usual case): subscribe now, so the subscription is
        // likely live before the first request. Outside one, the first call does it.
        cache.subscribe();
        cache
    }

    /// Starts the invalidation subscriber the first time this runs inside a Tokio runtime.
    fn subscribe(&self) {
        let weak = Arc::downgrade(&self.inner);
        self.inner.subscriber.start_once(|handle, shutdown| {
            handle.spawn(revocation::run(weak, shutdown));
        });
    }

    /// The hash a raw key is looked up by (64 lowercase hex characters).
    pub fn hash_key(&self, raw_key: &str) -> String {
        self.inner.config.hasher.hash_hex(raw_key.as_bytes())
    }

    /// What `raw_key` is: checks its format, looks it up through both caches (and the store),
    /// and checks its expiry.
    pub async fn check_key(&self, raw_key: &str) -> KeyStatus<K::Extra> {
        if !self.inner.config.format.accepts(raw_key) {
            return KeyStatus::InvalidFormat;
        }
        let hash = self.hash_key(raw_key);
        self.status(self.lookup_hash(&hash).await)
    }

    /// [`check_key`](Self::check_key) answered on the caller's thread when L1 has a fresh
    /// entry for the key (or the format is wrong); `None`: the lookup must be awaited. What
    /// the layer tries first, so that an L1 hit makes no future.
    pub(crate) fn check_key_now(&self, raw_key: &str) -> Option<KeyStatus<K::Extra>> {
        if !self.inner.config.format.accepts(raw_key) {
            return Some(KeyStatus::InvalidFormat);
        }
        // No `subscribe()`: an entry is fresh only while the subscription is live.
        let found = self.inner.lookup_now(&self.hash_key(raw_key))?;
        Some(self.status(Ok(found)))
    }

    /// A lookup's result as a status, expiry checked on the cache's clock.
    fn status(
        &self,
        looked_up: Result<Option<Authenticated<K::Extra>>, StoreError>,
    ) -> KeyStatus<K::Extra> {
        match looked_up {
            Ok(Some(found)) if found.data().is_expired_at((self.inner.config.clock)()) => {
                KeyStatus::Expired(found)
            }
            Ok(Some(found)) => KeyStatus::Valid(found),
            Ok(None) => KeyStatus::Unknown,
            Err(e) => KeyStatus::Unavailable(e),
        }
    }

    /// True when this instance already knows `raw_key` as valid: well formed, held by L1 as
    /// a valid key, unexpired, and not invalidated since L1 learnt it (the entry may be past
    /// its L1 TTL: this says the key was verified here, not that it may be served unasked). Answered on the caller's thread without any
    /// backend or store call, and never counted as a lookup; `false` means "not known", not
    /// "invalid". For a rule in front of the authentication that must tell requests carrying
    /// an already verified key from guesses, such as a failed-authentications rate limit that
    /// should not hold units for them (`RateLimitBuilder::known_good` in
    /// `tower-vigil-ratelimit`); the layer's own check is still [`check_key`](Self::check_key).
    pub fn knows_valid(&self, raw_key: &str) -> bool {
        self.inner.config.format.accepts(raw_key)
            && self
                .inner
                .known_valid(&self.hash_key(raw_key), (self.inner.config.clock)())
    }

    /// Looks a key up by its hash through both caches, without the format and expiry checks
    /// of [`check_key`](Self::check_key). An error means the store failed and no cached
    /// answer could stand in (backend failures alone are absorbed: see the crate docs'
    /// failure policy). A string that is not the shape of [`hash_key`](Self::hash_key)'s
    /// output (64 lowercase hex characters) is no key: `Ok(None)` without any lookup, so
    /// nothing is cached that [`invalidate_hash`](Self::invalidate_hash) could not evict.
    pub async fn lookup_hash(
        &self,
        key_hash: &str,
    ) -> Result<Option<Authenticated<K::Extra>>, StoreError> {
        if !is_key_hash(key_hash) {
            return Ok(None);
        }
        self.subscribe();
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
        let revoked = metrics::timed(
            metrics::op::REVOKE,
            l2::revoke_record(&inner.backend, key_hash, inner.config.rev_ttl()),
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
    /// trusted from then on); starts it if no lookup did yet. Useful at startup and in tests;
    /// wrap it in a timeout if the backend may be down at startup (the cache works meanwhile,
    /// revalidating every entry).
    pub async fn ready(&self) {
        self.subscribe();
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
