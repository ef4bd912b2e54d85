//! [`ApiKeyCacheBuilder`]: the cache's settings, checked when it is built.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tower_vigil_core::ConfigError;
use tower_vigil_core::backend::check_ttl;
use tower_vigil_core::secret::SecretHasher;

use super::{ApiKeyBackend, ApiKeyCache};
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

pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

pub(crate) struct Config {
    pub(crate) hasher: SecretHasher,
    pub(crate) format: KeyFormat,
    pub(crate) l1_ttl: Duration,
    pub(crate) l1_capacity: u64,
    pub(crate) l2_ttl: Duration,
    pub(crate) negative_ttl: Duration,
    pub(crate) stale_if_error: Duration,
    pub(crate) store_timeout: Duration,
    pub(crate) clock: Clock,
}

impl Config {
    /// How long a revocation generation outlives its bump: longer than any fill can be in
    /// flight (a fill that read the generation before it expired would otherwise see 0 again).
    pub(crate) fn rev_ttl(&self) -> Duration {
        self.l2_ttl
            .max(self.negative_ttl)
            .max(self.store_timeout * 4 + Duration::from_secs(60))
    }
}

/// Builds an [`ApiKeyCache`]. Every duration must be positive (the L1 TTL and the stale
/// window may also be zero) and at most [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL), ten
/// years: anything longer is a [`ConfigError`] from the setter or from `build()`.
#[must_use]
pub struct ApiKeyCacheBuilder<B, K> {
    pub(crate) backend: B,
    pub(crate) store: K,
    pub(crate) config: Config,
}

impl<B: ApiKeyBackend, K: KeyStore> ApiKeyCacheBuilder<B, K> {
    pub(crate) fn new(backend: B, store: K) -> Self {
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
                clock: Arc::new(SystemTime::now),
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

    /// How long an in-process entry is served without asking anyone (default 30 s). A zero
    /// TTL makes every request revalidate against the shared cache. Longer than
    /// [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL) fails at `build()`.
    pub fn l1_ttl(mut self, ttl: Duration) -> Self {
        self.config.l1_ttl = ttl;
        self
    }

    /// The most in-process entries kept (default 100 000; at least 1).
    pub fn l1_capacity(mut self, entries: u64) -> Result<Self, ConfigError> {
        if entries == 0 {
            return Err(ConfigError::new("l1_capacity", "must be at least 1"));
        }
        self.config.l1_capacity = entries;
        Ok(self)
    }

    /// TTL of a record in the shared backend (default 5 minutes; positive, at most
    /// [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL)).
    pub fn l2_ttl(mut self, ttl: Duration) -> Result<Self, ConfigError> {
        self.config.l2_ttl = check_ttl("l2_ttl", ttl)?;
        Ok(self)
    }

    /// TTL of a cached "no such key" in both tiers (default 30 s; positive, at most
    /// [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL)).
    pub fn negative_ttl(mut self, ttl: Duration) -> Result<Self, ConfigError> {
        self.config.negative_ttl = check_ttl("negative_ttl", ttl)?;
        Ok(self)
    }

    /// How long after this instance last validated a key it is still served when the backend
    /// and the key store both fail (default 5 minutes; with the backend down and the store up,
    /// the store is asked, so a revocation there wins). Zero turns stale serving off. Longer
    /// than [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL) fails at `build()`.
    pub fn stale_if_error(mut self, window: Duration) -> Self {
        self.config.stale_if_error = window;
        self
    }

    /// Bound on one key-store lookup (default 2 s; positive, at most
    /// [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL)); past it the lookup counts as failed.
    pub fn store_timeout(mut self, timeout: Duration) -> Result<Self, ConfigError> {
        self.config.store_timeout = check_ttl("store_timeout", timeout)?;
        Ok(self)
    }

    /// The wall clock `valid_until` is checked against (default `SystemTime::now`).
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.config.clock = Arc::new(clock);
        self
    }

    /// The cache. Spawns its invalidation subscriber, so it must be called inside a Tokio
    /// runtime.
    pub fn build(self) -> Result<ApiKeyCache<B, K>, ConfigError> {
        // Every build, not once per process: a recorder installed after an earlier build
        // still gets its HELP lines, and a few describe calls cost nothing at startup.
        crate::metrics::describe();
        // The setters that cannot fail are checked here: an absurd duration would overflow
        // the in-process cache's expiry arithmetic (moka panics past 1000 years).
        zero_or_ttl("l1_ttl", self.config.l1_ttl)?;
        zero_or_ttl("stale_if_error", self.config.stale_if_error)?;
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            ConfigError::new(
                "runtime",
                "ApiKeyCache must be built inside a Tokio runtime",
            )
        })?;
        Ok(ApiKeyCache::start(self, &handle))
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tower_vigil_core::MemoryBackend;
    use tower_vigil_core::backend::MAX_TTL;

    use crate::{ApiKeyCache, StaticKeyStore};

    fn builder() -> super::ApiKeyCacheBuilder<MemoryBackend, StaticKeyStore> {
        ApiKeyCache::builder(MemoryBackend::new(), StaticKeyStore::new())
    }

    /// Issue 12, item 17: every duration is bounded at build time, never an overflow or panic.
    #[tokio::test]
    async fn absurd_durations_are_config_errors() {
        let too_long = MAX_TTL + Duration::from_secs(1);
        for d in [Duration::MAX, too_long] {
            let field = |r: Result<_, tower_vigil_core::ConfigError>| r.err().map(|e| e.field());
            assert_eq!(field(builder().l2_ttl(d).map(|_| ())), Some("l2_ttl"));
            assert_eq!(
                field(builder().negative_ttl(d).map(|_| ())),
                Some("negative_ttl")
            );
            assert_eq!(
                field(builder().store_timeout(d).map(|_| ())),
                Some("store_timeout")
            );
            assert_eq!(
                field(builder().l1_ttl(d).build().map(|_| ())),
                Some("l1_ttl")
            );
            assert_eq!(
                field(builder().stale_if_error(d).build().map(|_| ())),
                Some("stale_if_error")
            );
        }
        for zero_is_refused in [
            builder().l2_ttl(Duration::ZERO).map(|_| ()),
            builder().negative_ttl(Duration::ZERO).map(|_| ()),
            builder().store_timeout(Duration::ZERO).map(|_| ()),
        ] {
            assert!(zero_is_refused.is_err());
        }
        // Zero turns L1 freshness and stale serving off; the longest TTL is still accepted.
        let ok = builder()
            .l1_ttl(Duration::ZERO)
            .stale_if_error(Duration::ZERO)
            .build();
        assert!(ok.is_ok());
        let longest = builder()
            .l1_ttl(MAX_TTL)
            .stale_if_error(MAX_TTL)
            .l2_ttl(MAX_TTL)
            .and_then(|b| b.negative_ttl(MAX_TTL))
            .and_then(|b| b.store_timeout(MAX_TTL))
            .and_then(super::ApiKeyCacheBuilder::build);
        assert!(longest.is_ok());
    }
}
