//! [`MemoryBackendBuilder`]: the budgets, shard count and prefix of a [`MemoryBackend`].

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{SystemTime, UNIX_EPOCH};

use foldhash::fast::RandomState;
use parking_lot::RwLock;
use tokio::time::Instant;

use super::clock::Clock;
use super::pubsub::PubSub;
use super::store::{Budget, Shard};
use super::{Inner, MemoryBackend};
use crate::error::ConfigError;
use crate::keys::KeyPrefix;

/// The default bound on stored entries.
pub const DEFAULT_MAX_ENTRIES: usize = 1_000_000;
/// The default bound on stored bytes (keys, values and per-entry overhead): 256 MiB.
pub const DEFAULT_MAX_BYTES: usize = 256 << 20;
/// The smallest byte budget accepted: 64 KiB.
pub const MIN_MAX_BYTES: usize = 64 << 10;
/// The smallest byte budget of one shard: a budget under 32 × this uses fewer shards, so one
/// large value (an idempotency record of a few MiB) still fits in a shard.
const MIN_SHARD_BYTES: usize = 4 << 20;
const DEFAULT_SHARDS: usize = 32;

/// Builds a [`MemoryBackend`].
#[derive(Debug, Clone)]
#[must_use]
pub struct MemoryBackendBuilder {
    max_entries: usize,
    max_bytes: usize,
    shards: usize,
    prefix: String,
}

impl Default for MemoryBackendBuilder {
    fn default() -> Self {
        Self {
            max_entries: DEFAULT_MAX_ENTRIES,
            max_bytes: DEFAULT_MAX_BYTES,
            shards: DEFAULT_SHARDS,
            prefix: KeyPrefix::DEFAULT.to_owned(),
        }
    }
}

impl MemoryBackendBuilder {
    /// The most entries kept (default one million); at least one per shard is kept.
    pub fn max_entries(mut self, n: usize) -> Self {
        self.max_entries = n;
        self
    }

    /// The most bytes kept (default [`DEFAULT_MAX_BYTES`], 256 MiB), counting keys, values of
    /// every kind and the backend's per-entry overhead. Below [`MIN_MAX_BYTES`],
    /// [`build`](Self::build) fails.
    ///
    /// Each shard keeps its share of the budget; a budget under 128 MiB uses fewer shards so
    /// that each holds at least 4 MiB. A single value larger than its shard's share is not
    /// kept (it is evicted at once, as the bound requires).
    pub fn max_bytes(mut self, n: usize) -> Self {
        self.max_bytes = n;
        self
    }

    /// How many independently locked shards (default 32; a bound under 32 entries uses one
    /// shard per entry allowed, a byte budget under 128 MiB one shard per 4 MiB).
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = n;
        self
    }

    /// The key prefix reported by [`Backend::prefix`](crate::Backend::prefix) (default
    /// `vigil`; checked by [`build`](Self::build) as [`KeyPrefix::new`] does).
    pub fn prefix(mut self, prefix: impl AsRef<str>) -> Self {
        self.prefix = prefix.as_ref().to_owned();
        self
    }

    /// The backend, once every setting is checked: the byte budget at least
    /// [`MIN_MAX_BYTES`], a valid prefix.
    pub fn build(self) -> Result<MemoryBackend, ConfigError> {
        if self.max_bytes < MIN_MAX_BYTES {
            return Err(ConfigError::new(
                "max_bytes",
                format!(
                    "must be at least {MIN_MAX_BYTES} bytes (64 KiB), found {}",
                    self.max_bytes
                ),
            ));
        }
        let prefix = KeyPrefix::new(&self.prefix)?;
        let max = self.max_entries.max(1);
        let max_bytes = self.max_bytes.max(MIN_MAX_BYTES);
        let shards = self.shards.min(max).min(max_bytes / MIN_SHARD_BYTES).max(1);
        let budget = Budget {
            entries: max.div_ceil(shards),
            bytes: max_bytes / shards,
        };
        // foldhash, seeded per process: several times faster than SipHash on short keys, and
        // the random seed keeps attacker-chosen keys (IPs, header values) from colliding.
        let hasher = RandomState::default();
        let started = Instant::now();
        let epoch_micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_micros()).unwrap_or(0))
            .unwrap_or(0);
        let clock = Clock {
            started,
            epoch_micros,
        };
        Ok(MemoryBackend {
            inner: Arc::new(Inner {
                shards: (0..shards)
                    .map(|_| RwLock::new(Shard::new(budget, hasher.clone(), clock)))
                    .collect(),
                hasher,
                prefix,
                pubsub: PubSub::default(),
                evictions: AtomicU64::new(0),
                last_token: AtomicU64::new(0),
                clock,
            }),
        })
    }
}
