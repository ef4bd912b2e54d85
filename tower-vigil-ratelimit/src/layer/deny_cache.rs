//! [`DenyCache`]: keys known to be over their limit, answered in-process until their retry
//! time, so a flood from one key costs about one backend call per key per interval.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

use crate::decision::Decision;
use crate::quota::Policy;

const SHARDS: usize = 16;

/// Counters of the filter in front of the shards (16 KiB).
const FILTER: usize = 4096;

/// The default bound on cached keys.
pub const DEFAULT_DENY_CACHE_CAPACITY: usize = 10_000;

/// A cached denial: the request's key and policies, quota and algorithm included (compared on
/// every hit, so a hash collision never denies the wrong key, and a quota chosen per request
/// that changed, a raised limit say, is asked of the backend rather than answered from a
/// denial under the old one), when it was denied, the cost denied, the denial.
struct Entry {
    key: Box<str>,
    policies: Box<[Policy]>,
    at: Instant,
    cost: u32,
    decision: Decision,
}

impl Entry {
    fn is(&self, key: &str, policies: &[Policy]) -> bool {
        *self.key == *key
            && self.policies.len() == policies.len()
            && self.policies.iter().zip(policies).all(|(a, b)| a == b)
    }

    fn live(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.at)
            < self.decision.retry_after().unwrap_or(Duration::ZERO)
    }
}

/// Hash of (key, policy names) → the entries with that hash (almost always one).
type Shard = HashMap<u64, Vec<Entry>>;

/// Denials by (key, policy names), behind a counting filter: `filter[h % FILTER]` counts the
/// cached entries whose hash `h` lands there, so a key that was never denied (nearly every
/// request) is answered from one atomic load, with no allocation and no lock.
pub(crate) struct DenyCache {
    shards: Box<[Mutex<Shard>]>,
    filter: Box<[AtomicU32]>,
    /// Entries in all shards: while it is zero (no key over its limit, the usual case) a
    /// lookup does not even hash the key.
    entries: AtomicUsize,
    per_shard: usize,
    hasher: RandomState,
}

impl DenyCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            filter: (0..FILTER).map(|_| AtomicU32::new(0)).collect(),
            entries: AtomicUsize::new(0),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            hasher: RandomState::new(),
        }
    }

    fn hash(&self, key: &str, policies: &[Policy]) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write(key.as_bytes());
        for p in policies {
            h.write_u8(0xff); // never in UTF-8: no (key, policies) split reads as another
            std::hash::Hash::hash(p, &mut h);
        }
        h.finish()
    }

    fn filter_slot(&self, hash: u64) -> &AtomicU32 {
        // Modulo 4096 fits in usize; the shard takes the low bits, the filter the next ones.
        #[allow(clippy::cast_possible_truncation)]
        &self.filter[((hash >> 4) % FILTER as u64) as usize]
    }

    /// Counts one more entry of `hash` (under its shard's lock).
    fn counted_in(&self, hash: u64) {
        self.filter_slot(hash).fetch_add(1, Ordering::Relaxed);
        self.entries.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one entry of `hash` less (under its shard's lock).
    fn counted_out(&self, hash: u64) {
        self.filter_slot(hash).fetch_sub(1, Ordering::Relaxed);
        self.entries.fetch_sub(1, Ordering::Relaxed);
    }

    fn shard(&self, hash: u64) -> &Mutex<Shard> {
        // A 64-bit hash modulo 16 fits in usize.
        #[allow(clippy::cast_possible_truncation)]
        &self.shards[(hash % SHARDS as u64) as usize]
    }

    /// Removes the entry at `i` of the `hash` bucket, keeping the filter's count.
    fn remove(&self, shard: &mut Shard, hash: u64, i: usize) {
        if let Some(bucket) = shard.get_mut(&hash) {
            bucket.swap_remove(i);
            if bucket.is_empty() {
                shard.remove(&hash);
            }
            self.counted_out(hash);
        }
    }

    /// The cached denial of `key` under `policies` for a request of `cost` (a cheaper request
    /// than the one denied might fit, so it is not answered from the cache), its waits
    /// shortened by the time since it was decided.
    pub(crate) fn get(&self, key: &str, policies: &[Policy], cost: u32) -> Option<Decision> {
        if self.entries.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let hash = self.hash(key, policies);
        // The count only changes under the shard's lock, and a denial cached by another
        // request a moment ago may be missed either way: the backend answers then.
        if self.filter_slot(hash).load(Ordering::Relaxed) == 0 {
            return None;
        }
        let now = Instant::now();
        let mut shard = self.shard(hash).lock();
        let i = shard.get(&hash)?.iter().position(|e| e.is(key, policies))?;
        let entry = &shard[&hash][i];
        if cost < entry.cost {
            return None;
        }
        if !entry.live(now) {
            self.remove(&mut shard, hash, i);
            return None;
        }
        let elapsed = now.saturating_duration_since(entry.at);
        let mut d = entry.decision.clone();
        for p in &mut d.policies {
            p.retry_after = p.retry_after.saturating_sub(elapsed);
            p.reset_after = p.reset_after.saturating_sub(elapsed);
        }
        Some(d)
    }

    /// Drops the cached denial of `key` under `policies`, if any: a refund gave units back,
    /// so the next request must ask the backend.
    pub(crate) fn forget(&self, key: &str, policies: &[Policy]) {
        if self.entries.load(Ordering::Relaxed) == 0 {
            return;
        }
        let hash = self.hash(key, policies);
        if self.filter_slot(hash).load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut shard = self.shard(hash).lock();
        let found = shard
            .get(&hash)
            .and_then(|b| b.iter().position(|e| e.is(key, policies)));
        if let Some(i) = found {
            self.remove(&mut shard, hash, i);
        }
    }

    /// Remembers a denial until its retry time. When the shard is full, expired entries go
    /// first, then an arbitrary one: the cache is an optimisation, never a source of truth.
    pub(crate) fn insert(&self, key: &str, policies: &[Policy], cost: u32, decision: &Decision) {
        let Some(retry) = decision.retry_after() else {
            return;
        };
        if retry.is_zero() {
            return;
        }
        let hash = self.hash(key, policies);
        let now = Instant::now();
        let mut shard = self.shard(hash).lock();
        let found = shard
            .get(&hash)
            .and_then(|b| b.iter().position(|e| e.is(key, policies)));
        if let Some(i) = found {
            let e = &mut shard.get_mut(&hash).expect("found above")[i];
            (e.at, e.cost, e.decision) = (now, cost, decision.clone());
            return;
        }
        // Buckets, not entries: two (key, names) sharing a 64-bit keyed hash do not happen
        // in practice, and `len` is O(1).
        if shard.len() >= self.per_shard {
            self.evict(&mut shard, now);
        }
        shard.entry(hash).or_default().push(Entry {
            key: key.into(),
            policies: policies.into(),
            at: now,
            cost,
            decision: decision.clone(),
        });
        self.counted_in(hash);
    }

    /// Makes room in a full shard: expired entries go, then an arbitrary one if none had.
    fn evict(&self, shard: &mut Shard, now: Instant) {
        shard.retain(|&hash, bucket| {
            bucket.retain(|e| {
                let keep = e.live(now);
                if !keep {
                    self.counted_out(hash);
                }
                keep
            });
            !bucket.is_empty()
        });
        if shard.len() >= self.per_shard
            && let Some(&victim) = shard.keys().next()
        {
            self.remove(shard, victim, 0);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().values().map(Vec::len).sum::<usize>())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Acquire, MemoryBackend, Policy, Quota, acquire};

    #[tokio::test(start_paused = true)]
    async fn holds_a_denial_until_its_retry_time_and_stays_bounded() {
        let backend = MemoryBackend::new();
        let policies = [Policy::new("default", Quota::per_second(1)).unwrap()];
        acquire(&backend, Acquire::new("k", &policies))
            .await
            .unwrap();
        let denied = acquire(&backend, Acquire::new("k", &policies))
            .await
            .unwrap();
        assert!(!denied.allowed());
        let cache = DenyCache::new(32);
        cache.insert("k", &policies, 1, &denied);
        tokio::time::advance(Duration::from_millis(400)).await;
        assert!(
            cache.get("k", &policies, 0).is_none(),
            "a cheaper request asks the backend"
        );
        let hit = cache.get("k", &policies, 1).unwrap();
        assert_eq!(hit.retry_after(), Some(Duration::from_millis(600)));
        tokio::time::advance(Duration::from_millis(600)).await;
        assert!(cache.get("k", &policies, 1).is_none());
        for i in 0..1000 {
            cache.insert(&format!("k{i}"), &policies, 1, &denied);
        }
        assert!(cache.len() <= 32);
        let counted: u32 = cache.filter.iter().map(|c| c.load(Ordering::Relaxed)).sum();
        assert_eq!(
            counted as usize,
            cache.len(),
            "evictions keep the filter's counts"
        );
        assert_eq!(cache.entries.load(Ordering::Relaxed), cache.len());
    }

    #[tokio::test(start_paused = true)]
    async fn answers_only_the_same_key_and_policies_and_empties_its_filter() {
        let backend = MemoryBackend::new();
        let one = [Policy::new("a", Quota::per_second(1)).unwrap()];
        let two = [
            Policy::new("a", Quota::per_second(1)).unwrap(),
            Policy::new("b", Quota::per_second(5)).unwrap(),
        ];
        acquire(&backend, Acquire::new("k", &one)).await.unwrap();
        let denied = acquire(&backend, Acquire::new("k", &one)).await.unwrap();
        let cache = DenyCache::new(32);
        cache.insert("k", &one, 1, &denied);
        assert!(cache.get("k", &one, 1).is_some());
        assert!(cache.get("k", &two, 1).is_none(), "another policy set");
        let raised = [Policy::new("a", Quota::per_second(100)).unwrap()];
        assert!(
            cache.get("k", &raised, 1).is_none(),
            "the same name with a raised quota asks the backend"
        );
        let other_algorithm =
            [
                Policy::with_algorithm("a", Quota::per_second(1), crate::Algorithm::FixedWindow)
                    .unwrap(),
            ];
        assert!(
            cache.get("k", &other_algorithm, 1).is_none(),
            "the same name with another algorithm asks the backend"
        );
        assert!(cache.get("kk", &one, 1).is_none(), "another key");
        cache.forget("k", &two);
        assert!(
            cache.get("k", &one, 1).is_some(),
            "forgets only its own entry"
        );
        cache.forget("k", &one);
        assert!(
            cache.get("k", &one, 1).is_none(),
            "forgotten after a refund"
        );
        assert_eq!(cache.len(), 0);
        cache.insert("k", &one, 1, &denied);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(cache.get("k", &one, 1).is_none(), "expired");
        assert_eq!(cache.len(), 0);
        assert_eq!(cache.entries.load(Ordering::Relaxed), 0);
        assert!(
            cache.filter.iter().all(|c| c.load(Ordering::Relaxed) == 0),
            "the filter counts only live entries"
        );
    }
}
