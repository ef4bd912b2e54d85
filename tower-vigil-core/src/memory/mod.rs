//! [`MemoryBackend`]: the embedded default backend.
//!
//! Same semantics as Redis for everything the [`Backend`](crate::Backend) trait offers: TTLs,
//! atomic compare-and-delete, counters, sets, hashes, pub/sub (within the process). Time comes
//! from `tokio::time`, so tests can `pause()` and `advance()` the clock.
//!
//! It is **bounded** by an entry budget and a byte budget ([`MemoryBackendBuilder::max_entries`],
//! [`MemoryBackendBuilder::max_bytes`]) that cover everything it stores: keys, values of every
//! kind and its own index. Over budget, expired entries go first; then it evicts from the
//! *concern* (the first `:`-separated key segment: `ratelimit`, `apikey`, `session`, ...) most
//! over its fair share, the entry of that concern soonest to expire (like Redis' `volatile-ttl`
//! within the concern). A flood of one concern's keys therefore evicts that concern's entries,
//! never another's state held within its share. [`MemoryBackend::usage`] reports entries and
//! bytes per concern from counters, in O(1) of the entries.
//!
//! [`Backend::run`](crate::Backend::run) runs a [`Script`](crate::script::Script)'s Rust twin under [`MemoryBackend::atomic`]:
//! a closure run while the entries it names are locked, the in-memory twin of a Lua script.
//! A script with a [`CellTwin`](crate::script::CellTwin) (a one-key state that is one integer
//! and its own deadline, as GCRA's) is decided by compare-and-swap on the key's atomic cell
//! under its shard's *shared* lock, so callers deciding on one hot key run side by side
//! instead of queueing for its lock; the shard's exclusive lock is taken only to create,
//! revive or shorten a cell.
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use tower_vigil_core::{Backend, MemoryBackend};
//! use tower_vigil_core::memory::Value;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_vigil_core::BackendError> {
//! let backend = MemoryBackend::builder().max_entries(10_000).build().unwrap();
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

mod builder;
mod cell;
mod clock;
mod concern;
mod ops;
mod pubsub;
mod store;
mod usage;

use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use foldhash::fast::RandomState;
use parking_lot::{RwLock, RwLockWriteGuard};
use tokio::time::Instant;

pub use self::builder::{
    DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, MIN_MAX_BYTES, MemoryBackendBuilder,
};
use self::clock::Clock;
use self::pubsub::PubSub;
use self::store::Shard;
pub use self::usage::{ConcernUsage, MemoryUsage};
use crate::keys::KeyPrefix;
pub use crate::slot::{Slot, Value};

/// The embedded backend. Clones share one store.
#[derive(Clone)]
pub struct MemoryBackend {
    inner: Arc<Inner>,
}

struct Inner {
    shards: Box<[RwLock<Shard<RandomState>>]>,
    hasher: RandomState,
    prefix: KeyPrefix,
    pubsub: PubSub,
    evictions: AtomicU64,
    /// The last token handed out by [`TwinCall::next_token`](crate::script::TwinCall), for any
    /// resource.
    last_token: AtomicU64,
    /// Wall-clock µs at the start, so `now_micros` is absolute yet driven by tokio's
    /// (pausable) clock.
    clock: Clock,
}

impl MemoryBackend {
    /// A backend with the default bound of one million entries and prefix `vigil`.
    pub fn new() -> Self {
        Self::builder()
            .build()
            .expect("the default settings are valid")
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
        self.atomic_at(Instant::now(), keys, f)
    }

    /// [`atomic`](Self::atomic) at `now`, read once by a caller that also needs the time
    /// (a clock read is a fair share of a decision that takes a few hundred nanoseconds).
    #[inline]
    pub(crate) fn atomic_at<R>(
        &self,
        now: Instant,
        keys: &[&str],
        f: impl FnOnce(&mut [Slot]) -> R,
    ) -> R {
        if let [key] = keys {
            return self.update_at(now, key, |slot| f(std::slice::from_mut(slot)));
        }
        for (i, key) in keys.iter().enumerate() {
            assert!(
                !keys[..i].contains(key),
                "MemoryBackend::atomic: key {key:?} named twice"
            );
        }
        let ids: Vec<usize> = keys.iter().map(|k| self.shard_of(k)).collect();
        let mut order: Vec<usize> = ids.clone();
        order.sort_unstable();
        order.dedup();
        // Lock in ascending shard order so two calls can never deadlock.
        let mut guards: Vec<RwLockWriteGuard<'_, Shard<RandomState>>> = order
            .iter()
            .map(|&i| self.inner.shards[i].write())
            .collect();
        let mut slots = Vec::with_capacity(keys.len());
        let mut taken = Vec::with_capacity(keys.len());
        // Every shard of the call is locked, so the search always finds it.
        let guard_of = |id: &usize| order.binary_search(id).unwrap_or(0);
        for (key, id) in keys.iter().zip(&ids) {
            let g = guard_of(id);
            let (slot, t) = guards[g].take(key, now);
            slots.push(slot);
            taken.push((t, g));
        }
        let out = f(&mut slots);
        for (slot, (t, g)) in slots.into_iter().zip(taken) {
            guards[g].put_back(slot, t);
        }
        // Only now, with every entry back, may a shard purge or evict. The call's own keys go
        // last (a key of another shard is simply not found in this one).
        let evicted = guards.iter_mut().map(|g| g.settle(now, keys)).sum();
        self.count_evictions(evicted);
        out
    }

    /// Runs `f` on the entry at `key` while it is locked: [`atomic`](Self::atomic) for one key.
    pub fn update<R>(&self, key: &str, f: impl FnOnce(&mut Slot) -> R) -> R {
        self.update_at(Instant::now(), key, f)
    }

    /// [`update`](Self::update) at `now`.
    #[inline]
    fn update_at<R>(&self, now: Instant, key: &str, f: impl FnOnce(&mut Slot) -> R) -> R {
        let (out, evicted) = self.inner.shards[self.shard_of(key)]
            .write()
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
        let shard = self.inner.shards[self.shard_of(key)].read();
        shard.read(key, now, |live| {
            f(live.map(|(value, at)| (value, at.saturating_duration_since(now))))
        })
    }

    /// Microseconds since the Unix epoch, advancing with tokio's clock (so a paused test clock
    /// pauses it). The memory twins of the Lua scripts use it where a script uses `TIME`.
    pub fn now_micros(&self) -> u64 {
        self.micros_at(Instant::now())
    }

    /// `now` in µs since the Unix epoch, as [`now_micros`](Self::now_micros) counts.
    pub(crate) fn micros_at(&self, now: Instant) -> u64 {
        self.inner.clock.micros_at(now)
    }

    /// Live entries across all shards, counted by walking them (O(entries): for tests; health
    /// checks use [`usage`](Self::usage)).
    pub fn len(&self) -> usize {
        let now = Instant::now();
        self.inner
            .shards
            .iter()
            .map(|s| s.read().live_len(now))
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

    pub(crate) fn shards(&self) -> &[RwLock<Shard<RandomState>>] {
        &self.inner.shards
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

    pub(crate) fn last_token(&self) -> &AtomicU64 {
        &self.inner.last_token
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
