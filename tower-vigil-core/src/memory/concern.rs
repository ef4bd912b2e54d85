//! Per-concern accounting inside one shard, and the choice of whom to evict.
//!
//! Keys are relative to the prefix and start with their concern (`ratelimit:…`, `apikey:…`,
//! `session:…`, `idempotency:…`, `lock:…`): the first `:`-separated segment. Each shard keeps,
//! per concern, its entry and byte counts and its own expiry index, so that when the shard is
//! over budget it evicts from the concern **most over its fair share**, and within it the entry
//! soonest to expire.
//!
//! Fair share is equal shares of both budgets, compared by *dominant share* (Dominant Resource
//! Fairness, Ghodsi et al. 2011): a concern's share is the larger of its fraction of the entry
//! budget and its fraction of the byte budget, and the victim is the concern with the largest.
//! A concern using less than its fair share is therefore never evicted while another uses
//! more: a flood of short-lived API-key records or of large idempotency records evicts its
//! own kind, not the rate-limit state beside it.
//!
//! The number of concerns is bounded: after [`MAX_NAMED`] names, further ones (and keys with no
//! `:`) share one "other" concern, so a caller inventing key shapes cannot grow this table.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Concerns tracked by name per shard; more share the "other" concern.
pub(crate) const MAX_NAMED: usize = 15;
/// The concern of keys without a `:` and of names past [`MAX_NAMED`].
pub(crate) const OTHER: u8 = 0;

/// `(bucket, sequence)`: one record of an expiry index.
pub(crate) type IndexId = (u64, u64);

/// One concern's usage and expiry index within a shard.
pub(crate) struct Concern {
    /// The first key segment; empty for "other".
    pub(crate) name: Box<str>,
    pub(crate) entries: usize,
    pub(crate) bytes: usize,
    /// Every entry of this concern, by expiry bucket: exactly one record per entry.
    pub(crate) index: BTreeMap<IndexId, Arc<str>>,
}

impl Concern {
    fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            entries: 0,
            bytes: 0,
            index: BTreeMap::new(),
        }
    }
}

/// The concerns of one shard, "other" first.
pub(crate) struct Concerns {
    pub(crate) list: Vec<Concern>,
}

impl Concerns {
    pub(crate) fn new() -> Self {
        Self {
            list: vec![Concern::new("")],
        }
    }

    /// The concern of `key`, registering its name when there is room. Called only when a new
    /// key is stored: an existing entry remembers its concern.
    pub(crate) fn of(&mut self, key: &str) -> u8 {
        let Some((name, _)) = key.split_once(':') else {
            return OTHER;
        };
        if name.is_empty() {
            return OTHER;
        }
        if let Some(i) = self.list[1..].iter().position(|c| &*c.name == name) {
            return id(i + 1);
        }
        if self.list.len() > MAX_NAMED {
            return OTHER;
        }
        self.list.push(Concern::new(name));
        id(self.list.len() - 1)
    }

    pub(crate) fn get_mut(&mut self, id: u8) -> &mut Concern {
        &mut self.list[usize::from(id)]
    }

    /// Concerns holding entries, most over their fair share first (see the module docs):
    /// ordered by dominant share of the budgets `max_entries` and `max_bytes`.
    pub(crate) fn by_share(&self, max_entries: usize, max_bytes: usize) -> Vec<u8> {
        // Shares compared without division: e/E vs b/B scaled by E*B.
        let share = |c: &Concern| {
            let by_entries = c.entries as u128 * max_bytes as u128;
            let by_bytes = c.bytes as u128 * max_entries as u128;
            by_entries.max(by_bytes)
        };
        let mut ids: Vec<u8> = (0..self.list.len())
            .filter(|&i| self.list[i].entries > 0)
            .map(id)
            .collect();
        ids.sort_unstable_by_key(|&i| std::cmp::Reverse(share(&self.list[usize::from(i)])));
        ids
    }

    /// Index records across concerns (equal to the entries stored).
    pub(crate) fn records(&self) -> usize {
        self.list.iter().map(|c| c.index.len()).sum()
    }
}

fn id(i: usize) -> u8 {
    // At most MAX_NAMED + 1 concerns.
    u8::try_from(i).unwrap_or(OTHER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_segment_names_the_concern_and_the_table_is_bounded() {
        let mut c = Concerns::new();
        let rl = c.of("ratelimit:{1.2.3.4}:default");
        assert_ne!(rl, OTHER);
        assert_eq!(c.of("ratelimit:{5.6.7.8}:default"), rl);
        assert_ne!(c.of("apikey:{abc}"), rl);
        assert_eq!(c.of("plain"), OTHER);
        assert_eq!(c.of(":odd"), OTHER);
        for i in 0..100 {
            c.of(&format!("made-up-{i}:x"));
        }
        assert_eq!(c.list.len(), MAX_NAMED + 1);
        assert_eq!(c.of("yet-another:x"), OTHER);
    }

    #[test]
    fn the_concern_with_the_largest_dominant_share_comes_first() {
        let mut c = Concerns::new();
        let (a, b) = (c.of("a:1"), c.of("b:1"));
        // a: half the entries, b: three quarters of the bytes.
        (c.get_mut(a).entries, c.get_mut(a).bytes) = (50, 10);
        (c.get_mut(b).entries, c.get_mut(b).bytes) = (10, 750);
        assert_eq!(c.by_share(100, 1000), vec![b, a]);
        (c.get_mut(a).entries, c.get_mut(a).bytes) = (80, 10);
        assert_eq!(c.by_share(100, 1000), vec![a, b]);
    }
}
