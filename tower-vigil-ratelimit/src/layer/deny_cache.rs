//! [`DenyCache`]: keys known to be over their limit, answered in-process until their retry
//! time, so a flood from one key costs about one backend call per key per interval.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

use crate::decision::Decision;

const SHARDS: usize = 16;

/// The default bound on cached keys.
pub const DEFAULT_DENY_CACHE_CAPACITY: usize = 10_000;

/// Key → (when it was denied, the cost denied, the denial).
type Shard = HashMap<String, (Instant, u32, Decision)>;

pub(crate) struct DenyCache {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
    hasher: RandomState,
}

impl DenyCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, key: &str) -> &Mutex<Shard> {
        // A 64-bit hash modulo 16 fits in usize.
        #[allow(clippy::cast_possible_truncation)]
        let i = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        &self.shards[i]
    }

    /// The cached denial of `key` for a request of `cost` (a cheaper request than the one
    /// denied might fit, so it is not answered from the cache), its waits shortened by the time
    /// since it was decided.
    pub(crate) fn get(&self, key: &str, cost: u32) -> Option<Decision> {
        let now = Instant::now();
        let mut shard = self.shard(key).lock();
        let (at, denied_cost, decision) = shard.get(key)?;
        if cost < *denied_cost {
            return None;
        }
        let elapsed = now.saturating_duration_since(*at);
        if elapsed >= decision.retry_after().unwrap_or(Duration::ZERO) {
            shard.remove(key);
            return None;
        }
        let mut d = decision.clone();
        for p in &mut d.policies {
            p.retry_after = p.retry_after.saturating_sub(elapsed);
            p.reset_after = p.reset_after.saturating_sub(elapsed);
        }
        Some(d)
    }

    /// Remembers a denial until its retry time. When the shard is full, expired entries go
    /// first, then an arbitrary one: the cache is an optimisation, never a source of truth.
    pub(crate) fn insert(&self, key: String, cost: u32, decision: &Decision) {
        let Some(retry) = decision.retry_after() else {
            return;
        };
        if retry.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut shard = self.shard(&key).lock();
        if shard.len() >= self.per_shard && !shard.contains_key(&key) {
            shard.retain(|_, (at, _, d)| {
                now.saturating_duration_since(*at) < d.retry_after().unwrap_or(Duration::ZERO)
            });
            if shard.len() >= self.per_shard
                && let Some(victim) = shard.keys().next().cloned()
            {
                shard.remove(&victim);
            }
        }
        shard.insert(key, (now, cost, decision.clone()));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Acquire, MemoryBackend, Policy, Quota, RateLimitStore};

    #[tokio::test(start_paused = true)]
    async fn holds_a_denial_until_its_retry_time_and_stays_bounded() {
        let store = MemoryBackend::new();
        let policies = [Policy::new("default", Quota::per_second(1)).unwrap()];
        store.acquire(Acquire::new("k", &policies)).await.unwrap();
        let denied = store.acquire(Acquire::new("k", &policies)).await.unwrap();
        assert!(!denied.allowed());
        let cache = DenyCache::new(32);
        cache.insert("k".into(), 1, &denied);
        tokio::time::advance(Duration::from_millis(400)).await;
        assert!(
            cache.get("k", 0).is_none(),
            "a cheaper request asks the store"
        );
        let hit = cache.get("k", 1).unwrap();
        assert_eq!(hit.retry_after(), Some(Duration::from_millis(600)));
        tokio::time::advance(Duration::from_millis(600)).await;
        assert!(cache.get("k", 1).is_none());
        for i in 0..1000 {
            cache.insert(format!("k{i}"), 1, &denied);
        }
        assert!(cache.len() <= 32);
    }
}
