//! One shard of the memory backend: a hash map, per-concern expiry indexes, and the counters
//! that keep its budgets (entries and bytes) and make `info()` O(1).
//!
//! The expiry index gives three things without a background task: expired entries are purged a
//! few at a time on every write (so memory does not fill with dead keys), a shard over budget
//! evicts by policy (see the `concern` module), and the counters stay exact.
//!
//! The index is coarse and lazy on purpose: it files entries by 100 ms bucket of their expiry,
//! and a write that moves an expiry *later* leaves the record where it is. A record may
//! therefore sit in an earlier bucket than its entry's expiry, never a later one; when purging
//! or eviction reaches such a record it refiles it to its true bucket. A rate-limit key whose
//! TTL moves forward on every write costs no index work on the write path, and at most one
//! refile per bucket that actually passes. A write that moves an expiry *earlier* refiles at
//! once, so purging stays timely. There is always exactly one record per entry: the shard's
//! bound covers its index too.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use tokio::time::Instant;

mod cell;
mod evict;

pub(crate) use self::cell::CellUpdate;
use super::clock::Clock;
use super::concern::{Concerns, IndexId};
use crate::slot::{Slot, Value};

/// The granularity of the expiry index (100 ms), in nanoseconds.
const BUCKET_NANOS: u64 = 100_000_000;

/// What an entry costs beside its key and value: its map slot (key handle and `Stored`, which
/// holds the `Value`), a control byte, the shared key's reference counts, and its index record.
pub(crate) const ENTRY_OVERHEAD: usize =
    size_of::<(Arc<str>, Stored)>() + 1 + 2 * size_of::<usize>() + size_of::<(IndexId, Arc<str>)>();

pub(crate) struct Stored {
    body: Body,
    /// The index record that speaks for this entry: in its expiry's bucket or an earlier one.
    index: IndexId,
    /// The map's key, shared with the index record.
    key: Arc<str>,
    /// Bytes accounted for this entry.
    size: usize,
    /// Heap bytes declared by `Slot::set_sized`.
    extra: usize,
    concern: u8,
}

/// What an entry holds.
enum Body {
    /// A value and its expiry.
    Plain { value: Value, expires_at: Instant },
    /// An integer that a [`CellTwin`](crate::script::CellTwin) changes by compare-and-swap
    /// under the shard's shared lock. It expires `grace` µs after its value, read as µs since
    /// the Unix epoch on the backend's clock (a deadline: GCRA's theoretical arrival time),
    /// so its value and its expiry change together in one atomic word.
    Cell { word: AtomicI64, grace: i64 },
}

impl Body {
    fn expires_at(&self, clock: &Clock) -> Instant {
        match self {
            Self::Plain { expires_at, .. } => *expires_at,
            Self::Cell { word, grace } => {
                clock.instant_of(word.load(Ordering::Acquire).saturating_add(*grace))
            }
        }
    }

    /// The value, moved out (a placeholder stands in while a closure owns it).
    fn take_value(&mut self) -> Value {
        match self {
            Self::Plain { value, .. } => std::mem::replace(value, Value::Int(0)),
            Self::Cell { word, .. } => Value::Int(*word.get_mut()),
        }
    }

    /// The value's heap bytes, for the byte budget.
    fn heap_size(&self) -> usize {
        match self {
            Self::Plain { value, .. } => value.heap_size(),
            Self::Cell { .. } => 0,
        }
    }
}

/// A taken entry, so putting it back knows what it was.
pub(crate) struct Taken {
    key: Arc<str>,
    old: Option<(IndexId, usize, u8)>,
}

/// The shard's counters and index, borrowed beside one of its entries (which the map holds),
/// so an entry can be rewritten in place without a second lookup.
struct Ledger<'a> {
    concerns: &'a mut Concerns,
    bytes: &'a mut usize,
    next_seq: &'a mut u64,
    epoch: Instant,
}

impl Ledger<'_> {
    /// Replaces `stored`'s body with one of `size` bytes (`extra` of them declared heap),
    /// keeping the counters exact; `expiry` is (old, new). A later expiry is refiled lazily,
    /// so only a sooner one needs its bucket (a rate-limit key's expiry moves later on every
    /// admission); the old record goes, so the index never outgrows the map.
    fn rewrite(
        self,
        stored: &mut Stored,
        body: Body,
        size: usize,
        extra: usize,
        (old_expiry, expiry): (Instant, Instant),
    ) {
        let concern = self.concerns.get_mut(stored.concern);
        if size != stored.size {
            concern.bytes = concern.bytes + size - stored.size;
            *self.bytes = *self.bytes + size - stored.size;
            stored.size = size;
        }
        stored.body = body;
        stored.extra = extra;
        if expiry < old_expiry {
            let bucket = bucket_of(self.epoch, expiry);
            if bucket < stored.index.0 {
                concern.index.remove(&stored.index);
                stored.index = (bucket, *self.next_seq);
                *self.next_seq += 1;
                concern.index.insert(stored.index, stored.key.clone());
            }
        }
    }
}

/// A shard's budgets.
#[derive(Clone, Copy)]
pub(crate) struct Budget {
    pub(crate) entries: usize,
    pub(crate) bytes: usize,
}

pub(crate) struct Shard<S> {
    map: HashMap<Arc<str>, Stored, S>,
    concerns: Concerns,
    bytes: usize,
    next_seq: u64,
    budget: Budget,
    /// Which other concern the next write purges beside its own.
    purge_turn: usize,
    /// The backend's clock; bucket 0 starts at its start.
    clock: Clock,
    /// The last bucket passed, valid for `now` in `due_from..due_until` (one 100 ms bucket):
    /// purging on every write then compares two instants instead of dividing a duration.
    due: u64,
    due_from: Instant,
    due_until: Instant,
}

/// The bytes an entry of `key` holding `value` costs.
pub(crate) fn entry_size(key: &str, value: &Value, extra: usize) -> usize {
    entry_size_of(key, value.heap_size(), extra)
}

/// The bytes an entry of `key` whose value owns `heap` bytes costs.
fn entry_size_of(key: &str, heap: usize, extra: usize) -> usize {
    key.len() + heap + extra + ENTRY_OVERHEAD
}

impl<S: BuildHasher> Shard<S> {
    pub(crate) fn new(budget: Budget, hasher: S, clock: Clock) -> Self {
        let epoch = clock.started;
        Self {
            map: HashMap::with_hasher(hasher),
            concerns: Concerns::new(),
            bytes: 0,
            next_seq: 0,
            budget,
            purge_turn: 0,
            clock,
            due: 0,
            due_from: epoch,
            due_until: epoch,
        }
    }

    /// Runs `f` on the live value at `key` and its expiry.
    pub(crate) fn read<R>(
        &self,
        key: &str,
        now: Instant,
        f: impl FnOnce(Option<(&Value, Instant)>) -> R,
    ) -> R {
        let Some(stored) = self.map.get(key) else {
            return f(None);
        };
        let at = stored.body.expires_at(&self.clock);
        match &stored.body {
            _ if at <= now => f(None),
            Body::Plain { value, .. } => f(Some((value, at))),
            Body::Cell { word, .. } => f(Some((&Value::Int(word.load(Ordering::Acquire)), at))),
        }
    }

    /// Runs `f` on the entry at `key` in place: one lookup for an existing key, one more insert
    /// for a new one. Returns `f`'s result and how many entries were evicted.
    #[inline]
    pub(crate) fn update<R>(
        &mut self,
        key: &str,
        now: Instant,
        f: impl FnOnce(&mut Slot) -> R,
    ) -> (R, u64) {
        let Some(stored) = self.map.get_mut(key) else {
            let mut slot = Slot::new(None, None, now);
            let out = f(&mut slot);
            if slot.value.is_some() {
                self.put_back(slot, Taken::absent(key));
            }
            return (out, self.settle(now, &[key]));
        };
        let old_expiry = stored.body.expires_at(&self.clock);
        let live = old_expiry > now;
        let mut slot = Slot::new(
            live.then(|| stored.body.take_value()),
            live.then_some(old_expiry),
            now,
        );
        slot.extra = stored.extra;
        let out = f(&mut slot);
        if !slot.touched {
            // Only read (a denied decision): the value goes back as it was (a cell's never
            // left), nothing to measure or refile, and nothing written to purge for.
            if let (Some(value), Body::Plain { value: v, .. }) = (slot.value, &mut stored.body) {
                *v = value;
            }
            return (out, 0);
        }
        let (Some(value), Some(at)) = (slot.value, slot.expires_at) else {
            self.remove(key);
            return (out, self.settle(now, &[]));
        };
        let size = entry_size(key, &value, slot.extra);
        let body = Body::Plain {
            value,
            expires_at: at,
        };
        let ledger = Ledger {
            concerns: &mut self.concerns,
            bytes: &mut self.bytes,
            next_seq: &mut self.next_seq,
            epoch: self.clock.started,
        };
        ledger.rewrite(stored, body, size, slot.extra, (old_expiry, at));
        (out, self.settle(now, &[key]))
    }

    /// Removes `key` from the map for an update that spans several shards; `put_back` stores
    /// the outcome and [`settle`](Self::settle) keeps the budget once all are back. Until
    /// then the entry's index record and counters stay as they were.
    pub(crate) fn take(&mut self, key: &str, now: Instant) -> (Slot, Taken) {
        match self.map.remove_entry(key) {
            Some((k, mut stored)) => {
                let expires_at = stored.body.expires_at(&self.clock);
                let live = expires_at > now;
                let mut slot = Slot::new(
                    live.then(|| stored.body.take_value()),
                    live.then_some(expires_at),
                    now,
                );
                slot.extra = stored.extra;
                let old = Some((stored.index, stored.size, stored.concern));
                (slot, Taken { key: k, old })
            }
            None => (Slot::new(None, None, now), Taken::absent(key)),
        }
    }

    /// Stores the outcome of a taken entry, keeping the index and counters exact. Makes no
    /// room: call [`settle`](Self::settle) once every taken entry of the shard is back.
    pub(crate) fn put_back(&mut self, slot: Slot, taken: Taken) {
        let Taken { key, old } = taken;
        let (Some(value), Some(expires_at)) = (slot.value, slot.expires_at) else {
            if let Some((index, size, concern)) = old {
                self.forget(index, size, concern);
            }
            return;
        };
        let size = entry_size(&key, &value, slot.extra);
        let bucket = bucket_of(self.clock.started, expires_at);
        let (index, concern) = match old {
            Some((index, old_size, concern)) => {
                let c = self.concerns.get_mut(concern);
                c.bytes = c.bytes + size - old_size;
                self.bytes = self.bytes + size - old_size;
                if bucket >= index.0 {
                    // Refiled lazily if later, as in `update`.
                    (index, concern)
                } else {
                    c.index.remove(&index);
                    (self.file(concern, bucket, &key), concern)
                }
            }
            None => {
                let concern = self.concerns.of(&key);
                let c = self.concerns.get_mut(concern);
                c.entries += 1;
                c.bytes += size;
                self.bytes += size;
                (self.file(concern, bucket, &key), concern)
            }
        };
        let stored = Stored {
            body: Body::Plain { value, expires_at },
            index,
            key: key.clone(),
            size,
            extra: slot.extra,
            concern,
        };
        self.map.insert(key, stored);
    }

    /// Removes `key` and its index record.
    pub(super) fn remove(&mut self, key: &str) {
        if let Some(old) = self.map.remove(key) {
            self.forget(old.index, old.size, old.concern);
        }
    }

    /// Takes an entry that left the map out of its index and counters.
    fn forget(&mut self, index: IndexId, size: usize, concern: u8) {
        let c = self.concerns.get_mut(concern);
        c.index.remove(&index);
        c.entries -= 1;
        c.bytes -= size;
        self.bytes -= size;
    }

    /// Moves `key`'s record `id` in concern `c` to `bucket`, its true one.
    pub(super) fn refile(&mut self, c: usize, id: IndexId, key: Arc<str>, bucket: u64) {
        let index = &mut self.concerns.list[c].index;
        index.remove(&id);
        let new = (bucket, self.next_seq);
        self.next_seq += 1;
        index.insert(new, key.clone());
        if let Some(stored) = self.map.get_mut(&key) {
            stored.index = new;
        }
    }

    /// Drops a record whose entry is gone (never expected: a guard against looping on one).
    pub(super) fn drop_record(&mut self, c: usize, id: IndexId) {
        debug_assert!(false, "an index record without its entry");
        self.concerns.list[c].index.remove(&id);
    }

    /// The bucket `key`'s expiry falls in, if it is stored.
    pub(super) fn true_bucket(&self, key: &str) -> Option<u64> {
        self.map
            .get(key)
            .map(|s| bucket_of(self.clock.started, s.body.expires_at(&self.clock)))
    }

    /// Adds an index record for `key` in `bucket`.
    fn file(&mut self, concern: u8, bucket: u64, key: &Arc<str>) -> IndexId {
        let id = (bucket, self.next_seq);
        self.next_seq += 1;
        self.concerns.get_mut(concern).index.insert(id, key.clone());
        id
    }

    /// Entries stored (expired ones not yet purged included, as Redis' `DBSIZE` counts them).
    pub(crate) fn entries(&self) -> usize {
        self.map.len()
    }

    /// Bytes accounted for the stored entries.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn concerns(&self) -> &Concerns {
        &self.concerns
    }

    /// The budgets this shard keeps.
    pub(crate) fn budget(&self) -> Budget {
        self.budget
    }

    /// Every entry measured again, with its concern: for checking the counters.
    pub(crate) fn walk(&self) -> impl Iterator<Item = (usize, u8)> {
        self.map
            .iter()
            .map(|(k, s)| (entry_size_of(k, s.body.heap_size(), s.extra), s.concern))
    }

    /// Index records that speak for an entry of their concern: for checking the index.
    pub(crate) fn valid_records(&self) -> usize {
        let concerns = self.concerns.list.iter().enumerate();
        concerns
            .flat_map(|(c, concern)| concern.index.iter().map(move |r| (c, r)))
            .filter(|(c, (id, key))| {
                self.map
                    .get(&***key)
                    .is_some_and(|s| s.index == **id && usize::from(s.concern) == *c)
            })
            .count()
    }

    /// Live entries.
    pub(crate) fn live_len(&self, now: Instant) -> usize {
        self.map
            .values()
            .filter(|s| s.body.expires_at(&self.clock) > now)
            .count()
    }
}

impl Taken {
    fn absent(key: &str) -> Self {
        Self {
            key: Arc::from(key),
            old: None,
        }
    }
}

/// The bucket whose end is at or after `at`: an entry filed there has expired once the bucket
/// has passed. Rounded up in nanoseconds, so no live entry is ever in a passed bucket.
fn bucket_of(epoch: Instant, at: Instant) -> u64 {
    // In u64 (584 years of nanoseconds): `as_nanos` is a u128, and its division a call to
    // `__udivti3` on every write.
    let d = at.saturating_duration_since(epoch);
    let ns = d
        .as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(d.subsec_nanos()));
    ns.div_ceil(BUCKET_NANOS)
}

impl<S> Shard<S> {
    /// The last bucket that has entirely passed at `now` ([`bucket_floor`]), remembered for
    /// the rest of its bucket.
    pub(super) fn due(&mut self, now: Instant) -> u64 {
        if self.due_from <= now && now < self.due_until {
            return self.due;
        }
        let due = bucket_floor(self.clock.started, now);
        let bucket = std::time::Duration::from_nanos(BUCKET_NANOS);
        let from = u32::try_from(due)
            .ok()
            .and_then(|n| bucket.checked_mul(n))
            .and_then(|d| self.clock.started.checked_add(d));
        if let Some((from, until)) = from.and_then(|f| Some((f, f.checked_add(bucket)?))) {
            self.due = due;
            self.due_from = from;
            self.due_until = until;
        }
        due
    }
}

/// The last bucket that has entirely passed at `now`.
fn bucket_floor(epoch: Instant, now: Instant) -> u64 {
    let d = now.saturating_duration_since(epoch);
    let ms = d
        .as_secs()
        .saturating_mul(1_000)
        .saturating_add(u64::from(d.subsec_millis()));
    ms / (BUCKET_NANOS / 1_000_000)
}
