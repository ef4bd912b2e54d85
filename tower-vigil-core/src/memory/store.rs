//! One shard of the memory backend: a hash map plus an index by expiry time.
//!
//! The expiry index gives three things without a background task: expired entries are purged a
//! few at a time on every write (so memory does not fill with dead keys), a full shard evicts
//! the entry closest to expiry (Redis' `volatile-ttl`), and `info()` stays exact.
//!
//! The index is coarse on purpose: it files entries by 100 ms bucket of their expiry, and an
//! entry is refiled only when its expiry moves to another bucket. A rate-limit key whose TTL
//! moves a little on every write therefore costs no index work on most writes. A refiled entry
//! leaves its old index record behind; records that no longer speak for their entry are
//! recognised (by their sequence number) and dropped when they come up.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::value::{Slot, Value};

/// How many index records one write looks at, at most, to purge expired entries.
const PURGE_PER_WRITE: usize = 8;
/// The granularity of the expiry index.
const BUCKET: Duration = Duration::from_millis(100);

/// `(bucket, sequence)`: one record of the expiry index.
type IndexId = (u64, u64);

pub(crate) struct Stored {
    pub(crate) value: Value,
    pub(crate) expires_at: Instant,
    /// The index record that currently speaks for this entry.
    index: IndexId,
    /// The map's key, shared, so refiling needs no second lookup.
    key: Arc<str>,
}

/// A taken entry's key and index record, so putting it back unchanged skips the index.
pub(crate) struct Taken {
    key: Arc<str>,
    index: Option<IndexId>,
}

pub(crate) struct Shard<S> {
    map: HashMap<Arc<str>, Stored, S>,
    by_expiry: BTreeMap<IndexId, Arc<str>>,
    next_seq: u64,
    capacity: usize,
    /// Bucket 0 starts here.
    epoch: Instant,
}

impl<S: BuildHasher> Shard<S> {
    pub(crate) fn new(capacity: usize, hasher: S, epoch: Instant) -> Self {
        Self {
            map: HashMap::with_hasher(hasher),
            by_expiry: BTreeMap::new(),
            next_seq: 0,
            capacity,
            epoch,
        }
    }

    /// The live entry at `key`.
    pub(crate) fn get(&self, key: &str, now: Instant) -> Option<&Stored> {
        self.map.get(key).filter(|s| s.expires_at > now)
    }

    /// Runs `f` on the entry at `key` in place: one lookup for an existing key, one more insert
    /// for a new one. Returns `f`'s result and how many entries were evicted.
    pub(crate) fn update<R>(
        &mut self,
        key: &str,
        now: Instant,
        f: impl FnOnce(&mut Slot) -> R,
    ) -> (R, u64) {
        let Self {
            map,
            by_expiry,
            next_seq,
            epoch,
            ..
        } = self;
        if let Some(stored) = map.get_mut(key) {
            let live = stored.expires_at > now;
            let mut slot = Slot {
                // A placeholder stands in while the closure owns the value.
                value: live.then(|| std::mem::replace(&mut stored.value, Value::Int(0))),
                expires_at: live.then_some(stored.expires_at),
                now,
            };
            let out = f(&mut slot);
            match (slot.value, slot.expires_at) {
                (Some(value), Some(at)) => {
                    stored.value = value;
                    stored.expires_at = at;
                    let bucket = bucket_of(*epoch, at);
                    if bucket != stored.index.0 {
                        // Refile; the old record turns stale and is dropped when it comes up.
                        stored.index = (bucket, *next_seq);
                        *next_seq += 1;
                        by_expiry.insert(stored.index, stored.key.clone());
                    }
                }
                _ => {
                    if let Some(old) = map.remove(key) {
                        by_expiry.remove(&old.index);
                    }
                }
            }
            self.purge(now, PURGE_PER_WRITE);
            return (out, 0);
        }
        let mut slot = Slot {
            value: None,
            expires_at: None,
            now,
        };
        let out = f(&mut slot);
        let evicted = self.insert_new(Arc::from(key), slot);
        (out, evicted)
    }

    /// Removes `key` from the map for an update that spans several shards; `put_back` stores
    /// the outcome.
    pub(crate) fn take(&mut self, key: &str, now: Instant) -> (Slot, Taken) {
        match self.map.remove_entry(key) {
            Some((k, stored)) => {
                let live = stored.expires_at > now;
                let slot = Slot {
                    value: live.then_some(stored.value),
                    expires_at: live.then_some(stored.expires_at),
                    now,
                };
                (
                    slot,
                    Taken {
                        key: k,
                        index: Some(stored.index),
                    },
                )
            }
            None => (
                Slot {
                    value: None,
                    expires_at: None,
                    now,
                },
                Taken {
                    key: Arc::from(key),
                    index: None,
                },
            ),
        }
    }

    /// Stores the outcome of a multi-shard update. Returns how many entries were evicted.
    pub(crate) fn put_back(&mut self, slot: Slot, taken: Taken) -> u64 {
        let Taken { key, index } = taken;
        let Some(index) = index else {
            return self.insert_new(key, slot);
        };
        let now = slot.now;
        match (slot.value, slot.expires_at) {
            (Some(value), Some(expires_at)) => {
                let bucket = bucket_of(self.epoch, expires_at);
                let index = if bucket == index.0 {
                    index
                } else {
                    self.by_expiry.remove(&index);
                    self.file(bucket, &key)
                };
                self.map.insert(
                    key.clone(),
                    Stored {
                        value,
                        expires_at,
                        index,
                        key,
                    },
                );
            }
            _ => {
                self.by_expiry.remove(&index);
            }
        }
        self.purge(now, PURGE_PER_WRITE);
        0
    }

    /// Stores a key that was not in the map, making room first when the shard is full.
    fn insert_new(&mut self, key: Arc<str>, slot: Slot) -> u64 {
        let now = slot.now;
        self.purge(now, PURGE_PER_WRITE);
        let (Some(value), Some(expires_at)) = (slot.value, slot.expires_at) else {
            return 0;
        };
        let mut evicted = 0;
        while self.map.len() >= self.capacity {
            // Expired entries go first, then the soonest to expire.
            if self.purge(now, usize::MAX) == 0 {
                self.evict_one();
                evicted += 1;
            }
        }
        let index = self.file(bucket_of(self.epoch, expires_at), &key);
        self.map.insert(
            key.clone(),
            Stored {
                value,
                expires_at,
                index,
                key,
            },
        );
        evicted
    }

    /// Adds an index record for `key` in `bucket`.
    fn file(&mut self, bucket: u64, key: &Arc<str>) -> IndexId {
        let id = (bucket, self.next_seq);
        self.next_seq += 1;
        self.by_expiry.insert(id, key.clone());
        id
    }

    /// Removes expired entries whose bucket has passed, looking at up to `max` index records
    /// (stale ones included). Returns how many entries were removed.
    fn purge(&mut self, now: Instant, max: usize) -> usize {
        let due = bucket_floor(self.epoch, now);
        let mut removed = 0;
        for _ in 0..max {
            let Some(entry) = self.by_expiry.first_entry() else {
                break;
            };
            if entry.key().0 > due {
                break;
            }
            let (id, key) = entry.remove_entry();
            if let Some(stored) = self.map.get(&key)
                && stored.index == id
            {
                if stored.expires_at <= now {
                    self.map.remove(&key);
                    removed += 1;
                } else {
                    // Not expired after all (a bucket boundary): keep it filed.
                    self.by_expiry.insert(id, key);
                    break;
                }
            }
        }
        removed
    }

    /// Evicts the live entry filed soonest to expire.
    fn evict_one(&mut self) {
        while let Some((id, key)) = self.by_expiry.pop_first() {
            if self.map.get(&key).is_some_and(|s| s.index == id) {
                self.map.remove(&key);
                return;
            }
        }
    }

    /// Rough bytes held by live entries.
    pub(crate) fn approx_bytes(&self, now: Instant) -> usize {
        self.map
            .iter()
            .filter(|(_, s)| s.expires_at > now)
            .map(|(k, s)| k.len() + s.value.approx_size() + 64)
            .sum()
    }

    /// Live entries.
    pub(crate) fn live_len(&self, now: Instant) -> usize {
        self.map.values().filter(|s| s.expires_at > now).count()
    }
}

/// The bucket whose end is at or after `at`: an entry filed there has expired once the bucket
/// has passed.
fn bucket_of(epoch: Instant, at: Instant) -> u64 {
    let ms = at.saturating_duration_since(epoch).as_millis();
    u64::try_from(ms.div_ceil(BUCKET.as_millis())).unwrap_or(u64::MAX)
}

/// The last bucket that has entirely passed at `now`.
fn bucket_floor(epoch: Instant, now: Instant) -> u64 {
    let ms = now.saturating_duration_since(epoch).as_millis();
    u64::try_from(ms / BUCKET.as_millis()).unwrap_or(u64::MAX)
}
