//! [`MemoryBackend`]: the embedded default backend.
//!
//! Same semantics as Redis for everything the [`Backend`](crate::Backend) trait offers: TTLs,
//! atomic compare-and-delete, counters, sets, hashes, pub/sub (within the process). It is
//! bounded: when full, a new key evicts the entry closest to expiry (like Redis'
//! `volatile-ttl`), so a flood of distinct keys cannot grow it without limit. Time comes from
//! `tokio::time`, so tests can `pause()` and `advance()` the clock.
//!
//! Concern crates implement their atomic operations in memory with [`MemoryBackend::atomic`]:
//! a closure run while the entries it names are locked, the in-memory twin of a Lua script.
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use tower_vigil_core::{Backend, MemoryBackend};
//! use tower_vigil_core::memory::Value;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_vigil_core::BackendError> {
//! let backend = MemoryBackend::builder().max_entries(10_000).build();
//! backend.set("greeting", Bytes::from_static(b"hello"), Duration::from_secs(60)).await?;
//! assert_eq!(backend.get("greeting").await?.as_deref(), Some(&b"hello"[..]));
//!
//! // An atomic read-modify-write over two keys: move one unit from `a` to `b`.
//! let moved = backend.atomic(&["a", "b"], |slots| {
//!     let [a, b] = slots else { unreachable!() };
//!     let have = match a.value() { Some(Value::Int(n)) => *n, _ => 1 };
//!     if have == 0 { return false; }
//!     a.set(Value::Int(have - 1), Duration::from_secs(60));
//!     let got = match b.value() { Some(Value::Int(n)) => *n, _ => 0 };
//!     b.set(Value::Int(got + 1), Duration::from_secs(60));
//!     true
//! });
//! assert!(moved);
//! # Ok(())
//! # }
//! ```

mod ops;
mod pubsub;
mod store;
mod value;

use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use foldhash::fast::RandomState;
use parking_lot::{Mutex, MutexGuard};
use tokio::time::Instant;

pub use self::value::{Slot, Value};
use self::{pubsub::PubSub, store::Shard};
use crate::error::ConfigError;
use crate::keys::KeyPrefix;

/// The default bound on stored entries.
pub const DEFAULT_MAX_ENTRIES: usize = 1_000_000;
const DEFAULT_SHARDS: usize = 32;

/// The embedded backend. Clones share one store.
#[derive(Clone)]
pub struct MemoryBackend {
    inner: Arc<Inner>,
}

struct Inner {
    shards: Box<[Mutex<Shard<RandomState>>]>,
    hasher: RandomState,
    prefix: KeyPrefix,
    pubsub: PubSub,
    evictions: AtomicU64,
    /// The last fencing token issued by this backend, for any resource: tokens stay strictly
    /// increasing even if a fence key was evicted while the clock stood still (paused tests).
    last_fence: AtomicU64,
    /// Wall-clock milliseconds at `started`, so `now_micros` is absolute yet driven by
    /// tokio's (pausable) clock.
    epoch_micros: u64,
    started: Instant,
}

impl MemoryBackend {
    /// A backend with the default bound of one million entries and prefix `vigil`.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder to set the bound and prefix.
    pub fn builder() -> MemoryBackendBuilder {
        MemoryBackendBuilder::default()
    }

    /// Runs `f` on the entries at `keys` (distinct, relative to the prefix) while they are
    /// locked, and applies what it changed when it returns: the in-memory twin of a Lua script.
    /// Keep `f` short and non-blocking: it holds the locks of the shards those keys live in.
    ///
    /// # Panics
    /// If `keys` names the same key twice.
    pub fn atomic<R>(&self, keys: &[&str], f: impl FnOnce(&mut [Slot]) -> R) -> R {
        if let [key] = keys {
            return self.update(key, |slot| f(std::slice::from_mut(slot)));
        }
        for (i, key) in keys.iter().enumerate() {
            assert!(
                !keys[..i].contains(key),
                "MemoryBackend::atomic: key {key:?} named twice"
            );
        }
        let now = Instant::now();
        let ids: Vec<usize> = keys.iter().map(|k| self.shard_of(k)).collect();
        let mut order: Vec<usize> = ids.clone();
        order.sort_unstable();
        order.dedup();
        // Lock in ascending shard order so two calls can never deadlock.
        let mut guards: Vec<MutexGuard<'_, Shard<RandomState>>> =
            order.iter().map(|&i| self.inner.shards[i].lock()).collect();
        let mut slots = Vec::with_capacity(keys.len());
        let mut taken = Vec::with_capacity(keys.len());
        for (key, id) in keys.iter().zip(&ids) {
            let g = order
                .binary_search(id)
                .expect("every shard of the call is locked");
            let (slot, t) = guards[g].take(key, now);
            slots.push(slot);
            taken.push((t, g));
        }
        let out = f(&mut slots);
        let mut evicted = 0;
        for (slot, (t, g)) in slots.into_iter().zip(taken) {
            evicted += guards[g].put_back(slot, t);
        }
        self.count_evictions(evicted);
        out
    }

    /// Runs `f` on the entry at `key` while it is locked: [`atomic`](Self::atomic) for one key.
    pub fn update<R>(&self, key: &str, f: impl FnOnce(&mut Slot) -> R) -> R {
        let now = Instant::now();
        let (out, evicted) = self.inner.shards[self.shard_of(key)]
            .lock()
            .update(key, now, f);
        self.count_evictions(evicted);
        out
    }

    /// Runs `f` on the live value at `key` (and its remaining TTL) without changing it.
    pub fn read<R>(
        &self,
        key: &str,
        f: impl FnOnce(Option<(&Value, std::time::Duration)>) -> R,
    ) -> R {
        let now = Instant::now();
        let shard = self.inner.shards[self.shard_of(key)].lock();
        f(shard
            .get(key, now)
            .map(|s| (&s.value, s.expires_at.saturating_duration_since(now))))
    }

    /// Microseconds since the Unix epoch, advancing with tokio's clock (so a paused test clock
    /// pauses it). The memory twins of the Lua scripts use it where a script uses `TIME`.
    pub fn now_micros(&self) -> u64 {
        let elapsed = Instant::now().saturating_duration_since(self.inner.started);
        self.inner.epoch_micros + u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX / 2)
    }

    /// Live entries across all shards.
    pub fn len(&self) -> usize {
        let now = Instant::now();
        self.inner
            .shards
            .iter()
            .map(|s| s.lock().live_len(now))
            .sum()
    }

    /// True when no live entry is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries evicted to stay within the bound since the backend was built.
    pub fn evictions(&self) -> u64 {
        self.inner.evictions.load(Ordering::Relaxed)
    }

    pub(crate) fn approx_bytes(&self) -> usize {
        let now = Instant::now();
        self.inner
            .shards
            .iter()
            .map(|s| s.lock().approx_bytes(now))
            .sum()
    }

    pub(crate) fn pubsub(&self) -> &PubSub {
        &self.inner.pubsub
    }

    pub(crate) fn prefix_ref(&self) -> &KeyPrefix {
        &self.inner.prefix
    }

    fn shard_of(&self, key: &str) -> usize {
        // The shard comes from bits 32 and up: the shard's own map places entries by the low
        // bits (and tags them with the top 7) of the same hash, so choosing shards by the low
        // bits would crowd each shard's entries into a fraction of its table.
        let high = self.inner.hasher.hash_one(key) >> 32;
        // A 32-bit value modulo a small shard count fits in usize.
        #[allow(clippy::cast_possible_truncation)]
        let i = (high % self.inner.shards.len() as u64) as usize;
        i
    }

    /// A fencing token at least `floor` and above every token issued before.
    pub(crate) fn next_fence(&self, floor: u64) -> u64 {
        let mut current = self.inner.last_fence.load(Ordering::Relaxed);
        loop {
            let token = floor.max(current.saturating_add(1));
            match self.inner.last_fence.compare_exchange_weak(
                current,
                token,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return token,
                Err(seen) => current = seen,
            }
        }
    }

    fn count_evictions(&self, n: u64) {
        if n > 0 {
            self.inner.evictions.fetch_add(n, Ordering::Relaxed);
        }
    }
}

impl Default for MemoryBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBackend")
            .field("prefix", &self.inner.prefix)
            .field("shards", &self.inner.shards.len())
            .finish_non_exhaustive()
    }
}

/// Builds a [`MemoryBackend`].
#[derive(Debug, Clone)]
#[must_use]
pub struct MemoryBackendBuilder {
    max_entries: usize,
    shards: usize,
    prefix: KeyPrefix,
}

impl Default for MemoryBackendBuilder {
    fn default() -> Self {
        Self {
            max_entries: DEFAULT_MAX_ENTRIES,
            shards: DEFAULT_SHARDS,
            prefix: KeyPrefix::default(),
        }
    }
}

impl MemoryBackendBuilder {
    /// The most entries kept (default one million); at least one per shard is kept.
    pub fn max_entries(mut self, n: usize) -> Self {
        self.max_entries = n;
        self
    }

    /// How many independently locked shards (default 32; a bound under 32 uses one shard per
    /// entry allowed).
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = n;
        self
    }

    /// The key prefix reported by [`Backend::prefix`](crate::Backend::prefix).
    pub fn prefix(mut self, prefix: impl AsRef<str>) -> Result<Self, ConfigError> {
        self.prefix = KeyPrefix::new(prefix)?;
        Ok(self)
    }

    /// The backend.
    pub fn build(self) -> MemoryBackend {
        let max = self.max_entries.max(1);
        let shards = self.shards.clamp(1, max);
        let per_shard = max.div_ceil(shards);
        // foldhash, seeded per process: several times faster than SipHash on short keys, and
        // the random seed keeps attacker-chosen keys (IPs, header values) from colliding.
        let hasher = RandomState::default();
        let started = Instant::now();
        let epoch_micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_micros()).unwrap_or(0))
            .unwrap_or(0);
        MemoryBackend {
            inner: Arc::new(Inner {
                shards: (0..shards)
                    .map(|_| Mutex::new(Shard::new(per_shard, hasher.clone(), started)))
                    .collect(),
                hasher,
                prefix: self.prefix,
                pubsub: PubSub::default(),
                evictions: AtomicU64::new(0),
                last_fence: AtomicU64::new(0),
                epoch_micros,
                started,
            }),
        }
    }
}
