//! [`Config`]: the cache's settings once [`ApiKeyCacheBuilder::build`](super::ApiKeyCacheBuilder::build)
//! checked them, and what is derived from them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tower_vigil_core::secret::SecretHasher;

use crate::KeyFormat;

/// After a backend call fails, how long lookups skip the backend and go straight to the
/// failure policy, so an outage costs one timeout per second instead of one per request.
pub(crate) const BACKEND_RETRY_AFTER: Duration = Duration::from_secs(1);

/// How long a failed store lookup is remembered, so the calls that were queued behind it
/// share its outcome (they reach the per-key lock right after it, well within this).
pub(crate) const FAILURE_SHARED_FOR: Duration = Duration::from_secs(1);

/// How many times a lookup starts over after racing an invalidation before it answers from
/// the store without caching.
pub(crate) const RACE_ROUNDS: usize = 3;

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

    /// How long an in-process entry is kept: past its freshness, so it can be served under
    /// the failure policy.
    pub(crate) fn l1_keep(&self) -> Duration {
        self.stale_if_error
            .max(self.l1_ttl)
            .max(self.negative_ttl)
            .max(Duration::from_millis(1))
    }
}
