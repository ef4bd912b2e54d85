//! Keeping a shard within its budgets: purging expired entries, and evicting by policy (the
//! `concern` module's) when a write takes the shard over budget.

use std::hash::BuildHasher;
use std::sync::Arc;

use tokio::time::Instant;

use super::{Budget, Shard};

/// How many index records one write looks at, at most, to purge expired entries.
const PURGE_PER_WRITE: usize = 8;

impl<S: BuildHasher> Shard<S> {
    /// After a write: purges a few expired entries, then, if the shard is over a budget,
    /// purges every expired one and evicts by policy until it fits. Entries at `keep` (the
    /// ones just written) go last. Returns how many entries were evicted.
    pub(crate) fn settle(&mut self, now: Instant, keep: &[&str]) -> u64 {
        if !self.over_budget() {
            self.purge_some(now);
            return 0;
        }
        for c in 0..self.concerns.list.len() {
            self.purge(c, now, usize::MAX);
        }
        let mut evicted = 0;
        while self.over_budget() {
            // A value alone larger than the shard's budget is not kept: the bound holds.
            let victim = self.victim(keep).or_else(|| self.victim(&[]));
            let Some(key) = victim else { break };
            self.remove(&key);
            evicted += 1;
        }
        evicted
    }

    /// The entry to evict: the soonest to expire of the concern most over its fair share,
    /// skipping `keep`. Records filed earlier than their entry's expiry are refiled on the
    /// way, so the choice is exact to the bucket.
    fn victim(&mut self, keep: &[&str]) -> Option<Arc<str>> {
        let Budget { entries, bytes } = self.budget;
        for c in self.concerns.by_share(entries, bytes) {
            let c = usize::from(c);
            loop {
                let first = self.concerns.list[c]
                    .index
                    .iter()
                    .find(|(_, k)| !keep.contains(&&***k))
                    .map(|(id, k)| (*id, k.clone()));
                let Some((id, key)) = first else { break };
                match self.true_bucket(&key) {
                    // Each refile puts a record where it belongs: the loop ends.
                    Some(bucket) if bucket > id.0 => self.refile(c, id, key, bucket),
                    Some(_) => return Some(key),
                    // Every record has its entry; were one orphaned, dropping it ends the loop.
                    None => self.drop_record(c, id),
                }
            }
        }
        None
    }

    fn over_budget(&self) -> bool {
        self.map.len() > self.budget.entries || self.bytes > self.budget.bytes
    }

    /// The purge every write does: a few records of one concern, taking concerns in turn so
    /// an idle concern's dead entries go too.
    fn purge_some(&mut self, now: Instant) {
        self.purge_turn += 1;
        if self.purge_turn >= self.concerns.list.len() {
            self.purge_turn = 0;
        }
        self.purge(self.purge_turn, now, PURGE_PER_WRITE);
    }

    /// Removes expired entries of concern `c` whose bucket has passed, looking at up to `max`
    /// index records, and refiles the records of entries whose expiry moved later. Every
    /// record speaks for an entry in the map (taken entries are never purged: purging runs
    /// only once they are back).
    fn purge(&mut self, c: usize, now: Instant, max: usize) {
        if self.concerns.list[c].index.is_empty() {
            return;
        }
        let due = self.due(now);
        for _ in 0..max {
            let Some((&id, key)) = self.concerns.list[c].index.first_key_value() else {
                return;
            };
            if id.0 > due {
                return;
            }
            let key = key.clone();
            match self.true_bucket(&key) {
                // Still live: its expiry moved later since it was filed. A live entry's bucket
                // has not passed (`bucket_of` rounds up), so the refiled record is past `due`.
                Some(bucket) if bucket > due => self.refile(c, id, key, bucket),
                Some(_) => self.remove(&key),
                None => self.drop_record(c, id),
            }
        }
    }
}
