//! [`MemoryUsage`]: what the memory backend holds, from counters kept on every write.

use super::MemoryBackend;

/// What a [`MemoryBackend`] holds, read from counters its shards keep on every insert,
/// update, removal, expiry and eviction: O(shards × concerns), never a walk of the entries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MemoryUsage {
    /// Entries stored. Like Redis' `DBSIZE`, this includes entries that have expired but are
    /// not purged yet (every write purges a few; a shard over budget purges them all).
    pub entries: usize,
    /// Bytes accounted for the stored entries (keys, values and per-entry overhead): what the
    /// byte budget bounds.
    pub bytes: usize,
    /// Records in the expiry indexes: one per entry.
    pub index_records: usize,
    /// Entries evicted to stay within the budgets since the backend was built.
    pub evictions: u64,
    /// Usage per concern (the first `:`-separated key segment; empty for "other"), sorted by
    /// name.
    pub concerns: Vec<ConcernUsage>,
}

/// One concern's share of a [`MemoryUsage`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConcernUsage {
    /// The concern: `ratelimit`, `apikey`, ...; empty for keys without one and for concerns
    /// beyond the fifteen tracked by name.
    pub name: String,
    /// Entries stored.
    pub entries: usize,
    /// Bytes accounted.
    pub bytes: usize,
}

impl MemoryUsage {
    fn add(&mut self, name: &str, entries: usize, bytes: usize) {
        match self
            .concerns
            .binary_search_by(|c| c.name.as_str().cmp(name))
        {
            Ok(i) => {
                self.concerns[i].entries += entries;
                self.concerns[i].bytes += bytes;
            }
            Err(i) => self.concerns.insert(
                i,
                ConcernUsage {
                    name: name.to_owned(),
                    entries,
                    bytes,
                },
            ),
        }
    }

    /// The concern named `name`, if it holds anything.
    pub fn concern(&self, name: &str) -> Option<&ConcernUsage> {
        self.concerns
            .iter()
            .find(|c| c.name == name && c.entries > 0)
    }
}

impl MemoryBackend {
    /// What the backend holds, from its counters (see [`MemoryUsage`]). Each shard's lock is
    /// taken briefly, one at a time; no entry is visited.
    pub fn usage(&self) -> MemoryUsage {
        let mut usage = MemoryUsage {
            evictions: self.evictions(),
            ..MemoryUsage::default()
        };
        for shard in self.shards() {
            let shard = shard.read();
            usage.entries += shard.entries();
            usage.bytes += shard.bytes();
            usage.index_records += shard.concerns().records();
            for c in &shard.concerns().list {
                usage.add(&c.name, c.entries, c.bytes);
            }
        }
        usage
    }

    /// Entries and bytes stored, from the counters alone: what `info()` reports.
    pub(crate) fn totals(&self) -> (usize, usize) {
        self.shards().iter().fold((0, 0), |(e, b), shard| {
            let shard = shard.read();
            (e + shard.entries(), b + shard.bytes())
        })
    }

    /// The same figures as [`usage`](Self::usage), recomputed by walking every entry and
    /// measuring it again: a check that the counters are exact, for tests. O(entries) under
    /// the shard locks; never call it on a hot path.
    #[doc(hidden)]
    pub fn recount_usage(&self) -> MemoryUsage {
        let mut usage = MemoryUsage {
            evictions: self.evictions(),
            ..MemoryUsage::default()
        };
        for shard in self.shards() {
            let shard = shard.read();
            for c in &shard.concerns().list {
                usage.add(&c.name, 0, 0);
            }
            usage.index_records += shard.valid_records();
            for (measured, concern) in shard.walk() {
                let name = &shard.concerns().list[usize::from(concern)].name;
                usage.entries += 1;
                usage.bytes += measured;
                usage.add(name, 1, measured);
            }
        }
        usage
    }
}
