//! [`ApiKeyCacheBuilder`]: the cache's settings, stored as given and checked together by
//! [`build`](ApiKeyCacheBuilder::build), so the order of the setters never matters.
//!
//! ```
//! use std::time::Duration;
//! use tower_vigil_apikey::{ApiKeyCache, StaticKeyStore};
//! use tower_vigil_core::MemoryBackend;
//!
//! let cache = ApiKeyCache::builder(MemoryBackend::new(), StaticKeyStore::<()>::new())
//!     .l2_ttl(Duration::from_secs(600))
//!     .negative_ttl(Duration::from_secs(10))
//!     .build()
//!     .unwrap();
//! # drop(cache);
//!
//! // A bad value is named when the cache is built, never per request.
//! let err = ApiKeyCache::builder(MemoryBackend::new(), StaticKeyStore::<()>::new())
//!     .l2_ttl(Duration::ZERO)
//!     .build()
//!     .unwrap_err();
//! assert_eq!(err.field(), "l2_ttl");
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tower_vigil_core::backend::check_ttl;
use tower_vigil_core::secret::SecretHasher;
use tower_vigil_core::{Backend, ConfigError};

use super::ApiKeyCache;
use super::config::{Clock, Config};
use crate::{KeyFormat, KeyStore};

/// Default freshness of an in-process entry.
pub const DEFAULT_L1_TTL: Duration = Duration::from_secs(30);
/// Default bound on in-process entries.
pub const DEFAULT_L1_CAPACITY: u64 = 100_000;
/// Default TTL of a record in the shared backend (the original's 5 minutes).
pub const DEFAULT_L2_TTL: Duration = Duration::from_secs(300);
/// Default TTL of a cached "no such key", in both tiers.
pub const DEFAULT_NEGATIVE_TTL: Duration = Duration::from_secs(30);
/// Default window in which a key this instance validated is still served when the backend
/// and the key store both fail.
pub const DEFAULT_STALE_IF_ERROR: Duration = Duration::from_secs(300);
/// Default bound on one key-store lookup.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(2);

impl<B: Backend, K: KeyStore> ApiKeyCache<B, K> {
    /// A cache with the default settings over `backend` (the shared tier and invalidation
    /// channel) and `store` (your database, the source of truth).
    pub fn new(backend: B, store: K) -> Self {
        // The defaults are within every bound `build` checks.
        ApiKeyCacheBuilder::new(backend, store).finish()
    }

    /// A builder over `backend` and `store`, for other settings.
    pub fn builder(backend: B, store: K) -> ApiKeyCacheBuilder<B, K> {
        ApiKeyCacheBuilder::new(backend, store)
    }
}

/// Builds an [`ApiKeyCache`]. Every setter stores its value; [`build`](Self::build) checks
/// them all: every duration at most [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL) (ten
/// years), positive except the L1 TTL and the stale window (where zero turns them off), and at
/// least one in-process entry.
#[must_use]
pub struct ApiKeyCacheBuilder<B, K> {
    backend: B,
    store: K,
    config: Config,
}

impl<B: Backend, K: KeyStore> ApiKeyCacheBuilder<B, K> {
    fn new(backend: B, store: K) -> Self {
        Self {
            backend,
            store,
            config: Config {
                hasher: SecretHasher::sha256(),
                format: KeyFormat::Any,
                l1_ttl: DEFAULT_L1_TTL,
                l1_capacity: DEFAULT_L1_CAPACITY,
                l2_ttl: DEFAULT_L2_TTL,
                negative_ttl: DEFAULT_NEGATIVE_TTL,
                stale_if_error: DEFAULT_STALE_IF_ERROR,
                store_timeout: DEFAULT_STORE_TIMEOUT,
                clock: Arc::new(SystemTime::now) as Clock,
            },
        }
    }

    /// How keys are hashed before any lookup (default SHA-256; use
    /// [`SecretHasher::hmac_sha256`] with a server-side pepper so a leaked cache or database
    /// cannot be checked against guessed keys). Your [`KeyStore`] must use the same.
    pub fn hasher(mut self, hasher: SecretHasher) -> Self {
        self.config.hasher = hasher;
        self
    }

    /// Which credentials are worth a lookup (default [`KeyFormat::Any`]).
    pub fn format(mut self, format: KeyFormat) -> Self {
        self.config.format = format;
        self
    }

    /// How long an in-process entry is served without asking anyone (default 30 s). Zero
    /// makes every request revalidate against the shared cache.
    pub fn l1_ttl(mut self, ttl: Duration) -> Self {
        self.config.l1_ttl = ttl;
        self
    }

    /// The most in-process entries kept (default 100 000; at least 1).
    pub fn l1_capacity(mut self, entries: u64) -> Self {
        self.config.l1_capacity = entries;
        self
    }

    /// TTL of a record in the shared backend (default 5 minutes; positive).
    pub fn l2_ttl(mut self, ttl: Duration) -> Self {
        self.config.l2_ttl = ttl;
        self
    }

    /// TTL of a cached "no such key" in both tiers (default 30 s; positive). In-process, a
    /// negative entry is never fresh for longer than [`l1_ttl`](Self::l1_ttl).
    pub fn negative_ttl(mut self, ttl: Duration) -> Self {
        self.config.negative_ttl = ttl;
        self
    }

    /// How long after this instance last validated a key it is still served when the backend
    /// and the key store both fail (default 5 minutes; with the backend down and the store up,
    /// the store is asked, so a revocation there wins). Zero turns stale serving off.
    pub fn stale_if_error(mut self, window: Duration) -> Self {
        self.config.stale_if_error = window;
        self
    }

    /// Bound on one key-store lookup (default 2 s; positive); past it the lookup counts as
    /// failed.
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.config.store_timeout = timeout;
        self
    }

    /// The wall clock `valid_until` is checked against (default `SystemTime::now`).
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.config.clock = Arc::new(clock);
        self
    }

    /// The cache, or the first setting that is out of bounds. Registers the crate's metric
    /// descriptions with the current recorder. Starts the invalidation subscription when
    /// called inside a Tokio runtime; outside one, the first lookup (or
    /// [`ApiKeyCache::ready`]) starts it.
    pub fn build(self) -> Result<ApiKeyCache<B, K>, ConfigError> {
        let c = &self.config;
        // An absurd duration would overflow the in-process cache's expiry arithmetic (moka
        // panics past 1000 years): every one is bounded here.
        zero_or_ttl("l1_ttl", c.l1_ttl)?;
        if c.l1_capacity == 0 {
            return Err(ConfigError::new("l1_capacity", "must be at least 1"));
        }
        check_ttl("l2_ttl", c.l2_ttl)?;
        check_ttl("negative_ttl", c.negative_ttl)?;
        zero_or_ttl("stale_if_error", c.stale_if_error)?;
        check_ttl("store_timeout", c.store_timeout)?;
        Ok(self.finish())
    }

    fn finish(self) -> ApiKeyCache<B, K> {
        // Every cache, not once per process: a recorder installed after an earlier build
        // still gets its HELP lines, and a few describe calls cost nothing at startup.
        crate::metrics::describe();
        ApiKeyCache::start(self.backend, self.store, self.config)
    }
}

/// [`check_ttl`] for a setting where zero means "off".
fn zero_or_ttl(field: &'static str, d: Duration) -> Result<Duration, ConfigError> {
    if d.is_zero() {
        Ok(d)
    } else {
        check_ttl(field, d)
    }
}
