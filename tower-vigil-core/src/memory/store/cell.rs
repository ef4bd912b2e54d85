//! The cell path of a shard: integers that are also deadlines, changed by compare-and-swap
//! under the shard's shared lock (see [`CellTwin`](crate::script::CellTwin)).
//!
//! A cell's value and expiry are one atomic word, so a caller holding the shared lock sees
//! both change together. The shared path only ever moves a cell's deadline later, and only on
//! a live cell: the index (filed at or before the expiry, refiled lazily) stays right without
//! the exclusive lock, and a cell never dies or appears under a shared lock. Creating a cell,
//! moving a deadline sooner, and reviving an expired cell take the exclusive lock
//! ([`Shard::update_cell`]).

use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use tokio::time::Instant;

use super::{Body, Ledger, Shard, Stored, bucket_of, entry_size_of};
use crate::error::BackendResult;
use crate::script::CellStep;
use crate::slot::Value;

/// What [`Shard::update_cell`] did.
pub(crate) enum CellUpdate<T> {
    /// Decided: the answer and how many entries were evicted to make room.
    Done(T, u64),
    /// The key holds another kind of value, or the cell twin asked for the full twin.
    Full,
}

impl<S: BuildHasher> Shard<S> {
    /// The cell at `key` and its grace in µs, if the entry is one (live or not).
    pub(crate) fn cell(&self, key: &str) -> Option<(&AtomicI64, i64)> {
        match &self.map.get(key)?.body {
            Body::Cell { word, grace } => Some((word, *grace)),
            Body::Plain { .. } => None,
        }
    }

    /// Under the exclusive lock: runs `decide` on the live integer at `key` (a cell's or a plain
    /// integer's; `None` when absent or expired) and stores what it sets as a cell living
    /// `grace` µs past its value.
    pub(crate) fn update_cell<T>(
        &mut self,
        key: &str,
        now: Instant,
        grace: i64,
        decide: impl FnOnce(Option<i64>) -> BackendResult<CellStep<T>>,
    ) -> BackendResult<CellUpdate<T>> {
        let clock = self.clock;
        let Some(stored) = self.map.get_mut(key) else {
            return Ok(match decide(None)? {
                CellStep::Keep(out) => CellUpdate::Done(out, 0),
                CellStep::Full => CellUpdate::Full,
                CellStep::Set(out, value) => {
                    if clock.instant_of(value.saturating_add(grace)) <= now {
                        // Dead on arrival: the full twin knows what that means.
                        return Ok(CellUpdate::Full);
                    }
                    self.insert_cell(key, value, grace);
                    CellUpdate::Done(out, self.settle(now, &[key]))
                }
            });
        };
        let old_expiry = stored.body.expires_at(&clock);
        let current = match &mut stored.body {
            _ if old_expiry <= now => None,
            Body::Cell { word, .. } => Some(*word.get_mut()),
            Body::Plain {
                value: Value::Int(n),
                ..
            } => Some(*n),
            Body::Plain { .. } => return Ok(CellUpdate::Full),
        };
        let (out, value) = match decide(current)? {
            CellStep::Keep(out) => return Ok(CellUpdate::Done(out, 0)),
            CellStep::Full => return Ok(CellUpdate::Full),
            CellStep::Set(out, value) => (out, value),
        };
        let expires_at = clock.instant_of(value.saturating_add(grace));
        if expires_at <= now {
            return Ok(CellUpdate::Full);
        }
        let body = Body::Cell {
            word: AtomicI64::new(value),
            grace,
        };
        let ledger = Ledger {
            concerns: &mut self.concerns,
            bytes: &mut self.bytes,
            next_seq: &mut self.next_seq,
            epoch: self.clock.started,
        };
        let size = entry_size_of(key, 0, 0);
        ledger.rewrite(stored, body, size, 0, (old_expiry, expires_at));
        Ok(CellUpdate::Done(out, self.settle(now, &[key])))
    }

    /// Stores a new cell at `key` (absent), filed and counted.
    fn insert_cell(&mut self, key: &str, value: i64, grace: i64) {
        let key: Arc<str> = Arc::from(key);
        let expires_at = self.clock.instant_of(value.saturating_add(grace));
        let size = entry_size_of(&key, 0, 0);
        let concern = self.concerns.of(&key);
        let c = self.concerns.get_mut(concern);
        c.entries += 1;
        c.bytes += size;
        self.bytes += size;
        let index = self.file(concern, bucket_of(self.clock.started, expires_at), &key);
        let stored = Stored {
            body: Body::Cell {
                word: AtomicI64::new(value),
                grace,
            },
            index,
            key: key.clone(),
            size,
            extra: 0,
            concern,
        };
        self.map.insert(key, stored);
    }
}
