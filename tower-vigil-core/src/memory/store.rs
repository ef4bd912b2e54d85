//! One shard of the memory backend: a hash map plus an index by expiry time.
//!
//! The expiry index gives three things without a background task: expired entries are purged a
//! few at a time on every write (so memory does not fill with dead keys), a full shard evicts
//! the entry closest to expiry (Redis' `volatile-ttl`), and `info()` stays exact.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::sync::Arc;

use tokio::time::Instant;

use super::value::{Slot, Value};

/// How many expired entries a write purges at most, to bound the work of one call.
const PURGE_PER_WRITE: usize = 8;

pub(crate) struct Stored {
    pub(crate) value: Value,
    pub(crate) expires_at: Instant,
    seq: u64,
}

/// The original state of a taken entry, so putting it back unchanged skips the index.
pub(crate) struct Taken {
    key: Arc<str>,
    index: Option<(Instant, u64)>,
}

pub(crate) struct Shard<S> {
    map: HashMap<Arc<str>, Stored, S>,
    by_expiry: BTreeMap<(Instant, u64), Arc<str>>,
    next_seq: u64,
    capacity: usize,
}

impl<S: BuildHasher> Shard<S> {
    pub(crate) fn new(capacity: usize, hasher: S) -> Self {
        Self {
            map: HashMap::with_hasher(hasher),
            by_expiry: BTreeMap::new(),
            next_seq: 0,
            capacity,
        }
    }

    /// The live entry at `key`.
    pub(crate) fn get(&self, key: &str, now: Instant) -> Option<&Stored> {
        self.map.get(key).filter(|s| s.expires_at > now)
    }

    /// Removes `key` from the map for an atomic update; the index is fixed up by `put_back`.
    pub(crate) fn take(&mut self, key: &str, now: Instant) -> (Slot, Taken) {
        match self.map.remove_entry(key) {
            Some((k, stored)) => {
                let index = Some((stored.expires_at, stored.seq));
                let live = stored.expires_at > now;
                let slot = Slot {
                    value: live.then_some(stored.value),
                    expires_at: live.then_some(stored.expires_at),
                    now,
                };
                (slot, Taken { key: k, index })
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

    /// Stores the outcome of an atomic update. Returns how many entries were evicted.
    pub(crate) fn put_back(&mut self, slot: Slot, taken: Taken) -> u64 {
        let Taken { key, index } = taken;
        let (Some(value), Some(expires_at)) = (slot.value, slot.expires_at) else {
            if let Some(ix) = index {
                self.by_expiry.remove(&ix);
            }
            self.purge(slot.now, PURGE_PER_WRITE);
            return 0;
        };
        if let Some((old_at, seq)) = index {
            if old_at == expires_at {
                self.map.insert(
                    key,
                    Stored {
                        value,
                        expires_at,
                        seq,
                    },
                );
                return 0;
            }
            self.by_expiry.remove(&(old_at, seq));
        }
        let mut evicted = 0;
        self.purge(slot.now, PURGE_PER_WRITE);
        if index.is_none() {
            // A new key: make room. Expired entries go first, then the soonest to expire.
            while self.map.len() >= self.capacity {
                if self.purge(slot.now, usize::MAX) == 0 {
                    self.evict_one();
                    evicted += 1;
                }
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_expiry.insert((expires_at, seq), key.clone());
        self.map.insert(
            key,
            Stored {
                value,
                expires_at,
                seq,
            },
        );
        evicted
    }

    /// Removes up to `max` expired entries. Returns how many.
    fn purge(&mut self, now: Instant, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            let Some(entry) = self.by_expiry.first_entry() else {
                break;
            };
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            self.map.remove(&key);
            n += 1;
        }
        n
    }

    fn evict_one(&mut self) {
        if let Some((_, key)) = self.by_expiry.pop_first() {
            self.map.remove(&key);
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
