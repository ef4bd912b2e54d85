//! The in-process (L1) side: entries, and the state that decides whether an entry may be
//! trusted.
//!
//! An entry is *fresh* (served without asking anyone) only while the invalidation
//! subscription is live, it was filled in the current subscription epoch, it is younger than
//! its TTL, and no invalidation for its key arrived after its fill began. The epoch is bumped
//! when the subscription is lost and again when it is restored, so everything cached before a
//! gap in the invalidation stream gets revalidated. Invalidations are tracked per bucket of
//! key hashes (a generation number per bucket), so a fill that raced an invalidation is never
//! trusted, even if it lands in the cache after the eviction ran.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::Authenticated;

const BUCKETS: usize = 4096;

/// One cached lookup result: the key, or "no such key".
pub(crate) struct Entry<T> {
    pub(crate) found: Option<Authenticated<T>>,
    /// When the L2 or the store last confirmed this result.
    pub(crate) validated_at: Instant,
    epoch: u64,
    generation: u64,
}

/// What must be read before a fill starts, to stamp the entry it produces.
#[derive(Clone, Copy)]
pub(crate) struct FillStamp {
    epoch: u64,
    generation: u64,
}

impl<T> Entry<T> {
    pub(crate) fn new(found: Option<Authenticated<T>>, stamp: FillStamp) -> Self {
        Self {
            found,
            validated_at: Instant::now(),
            epoch: stamp.epoch,
            generation: stamp.generation,
        }
    }
}

pub(crate) struct LocalState {
    epoch: AtomicU64,
    live: AtomicBool,
    generation: AtomicU64,
    buckets: Box<[AtomicU64]>,
    losses: AtomicU64,
    live_tx: watch::Sender<bool>,
    positive_ttl: Duration,
    negative_ttl: Duration,
}

impl LocalState {
    pub(crate) fn new(positive_ttl: Duration, negative_ttl: Duration) -> Self {
        Self {
            epoch: AtomicU64::new(0),
            live: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            losses: AtomicU64::new(0),
            live_tx: watch::Sender::new(false),
            positive_ttl,
            negative_ttl: negative_ttl.min(positive_ttl),
        }
    }

    pub(crate) fn stamp(&self) -> FillStamp {
        FillStamp {
            epoch: self.epoch.load(Ordering::Acquire),
            generation: self.generation.load(Ordering::Acquire),
        }
    }

    /// True when an invalidation for `hash` may have arrived after `entry`'s fill began: the
    /// entry must not be used at all (not even as a stale fallback).
    pub(crate) fn invalidated_since<T>(&self, hash: &str, entry: &Entry<T>) -> bool {
        self.buckets[bucket(hash)].load(Ordering::Acquire) > entry.generation
    }

    pub(crate) fn is_fresh<T>(&self, hash: &str, entry: &Entry<T>) -> bool {
        let ttl = if entry.found.is_some() {
            self.positive_ttl
        } else {
            self.negative_ttl
        };
        self.live.load(Ordering::Acquire)
            && entry.epoch == self.epoch.load(Ordering::Acquire)
            && entry.validated_at.elapsed() < ttl
            && !self.invalidated_since(hash, entry)
    }

    /// True when `entry` was confirmed (by L2 or the store) after `arrived`: the request was
    /// waiting while that lookup ran, so it may use the result even when the entry is not
    /// fresh, as it would a fresh fill. This coalesces revalidations of a hot key while
    /// entries are stale (subscription down, backend down, or an L1 TTL of zero) into one.
    pub(crate) fn revalidated_for<T>(
        &self,
        hash: &str,
        entry: &Entry<T>,
        arrived: Instant,
    ) -> bool {
        entry.validated_at >= arrived && !self.invalidated_since(hash, entry)
    }

    /// Records an invalidation of `hash`; entries filled before it stop being used.
    pub(crate) fn record_invalidation(&self, hash: &str) {
        let g = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        self.buckets[bucket(hash)].fetch_max(g, Ordering::AcqRel);
    }

    /// The invalidation stream has a gap: nothing cached so far is fresh any more.
    pub(crate) fn mark_lost(&self) {
        self.live.store(false, Ordering::Release);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.losses.fetch_add(1, Ordering::Relaxed);
        self.live_tx.send_replace(false);
    }

    /// The invalidation stream is live again; entries from before (or during) the gap still
    /// count as stale, because the epoch moves on.
    pub(crate) fn mark_live(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.live.store(true, Ordering::Release);
        self.live_tx.send_replace(true);
    }

    pub(crate) fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    pub(crate) fn losses(&self) -> u64 {
        self.losses.load(Ordering::Relaxed)
    }

    pub(crate) fn watch_live(&self) -> watch::Receiver<bool> {
        self.live_tx.subscribe()
    }
}

fn bucket(hash: &str) -> usize {
    // Hashes are uniformly distributed hex: three hex digits pick one of 4096 buckets.
    // Anything else (never produced by the cache) still maps somewhere valid.
    hash.get(..3)
        .and_then(|p| usize::from_str_radix(p, 16).ok())
        .unwrap_or_else(|| {
            hash.bytes().fold(0usize, |a, b| {
                a.wrapping_mul(31).wrapping_add(usize::from(b))
            })
        })
        % BUCKETS
}

/// True for 64 lowercase hex characters: the shape of every hash the cache makes.
pub(crate) fn is_key_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
