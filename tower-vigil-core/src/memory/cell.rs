//! Running a script's [`CellTwin`]: compare-and-swap on the key's cell under the shard's
//! shared lock, so callers deciding on one hot key do not queue for its lock; the exclusive
//! lock only to create a cell, revive an expired one or move its deadline sooner; the full twin
//! for anything else.

use std::sync::atomic::Ordering;

use tokio::time::Instant;

use super::MemoryBackend;
use super::store::CellUpdate;
use crate::error::BackendResult;
use crate::script::{Args, CellCall, CellStep, CellTwin};

impl MemoryBackend {
    /// Decides a call on `key` with `cell`; `None` when it needs the script's full twin.
    pub(crate) fn run_cell<T>(
        &self,
        cell: &CellTwin<T>,
        key: &str,
        args: Args<'_>,
        now: Instant,
        micros: u64,
    ) -> Option<BackendResult<T>> {
        let shard = &self.shards()[self.shard_of(key)];
        let now_micros = i64::try_from(micros).unwrap_or(i64::MAX);
        {
            let guard = shard.read();
            if let Some((word, grace)) = guard.cell(key) {
                let mut current = word.load(Ordering::Acquire);
                // Live for this caller: value and expiry are the one word read, so the decision
                // and the compare-and-swap below are about the same state.
                while current.saturating_add(grace) > now_micros {
                    let step = cell.decide(&CellCall::new(args, micros, Some(current)));
                    match step {
                        Err(e) => return Some(Err(e)),
                        Ok(CellStep::Keep(out)) => return Some(Ok(out)),
                        // Later only: a sooner deadline may need the index refiled.
                        Ok(CellStep::Set(out, value)) if value >= current => {
                            match word.compare_exchange_weak(
                                current,
                                value,
                                Ordering::AcqRel,
                                Ordering::Acquire,
                            ) {
                                Ok(_) => return Some(Ok(out)),
                                // Another call changed it first: decide again on its value.
                                Err(seen) => current = seen,
                            }
                        }
                        Ok(CellStep::Set(..) | CellStep::Full) => break,
                    }
                }
            }
        }
        let grace = cell.grace_micros();
        let updated = shard.write().update_cell(key, now, grace, |current| {
            cell.decide(&CellCall::new(args, micros, current))
        });
        match updated {
            Err(e) => Some(Err(e)),
            Ok(CellUpdate::Done(out, evicted)) => {
                self.count_evictions(evicted);
                Some(Ok(out))
            }
            Ok(CellUpdate::Full) => None,
        }
    }
}
