//! [`EvictionPolicy`] and [`NodeMemory`]: what a store does when it is full, per store (a
//! Redis server, each master of a cluster, or the memory backend).
//!
//! This matters because every tower-vigil key has a TTL: Redis' `volatile-*` policies, which
//! evict only keys with a TTL, evict them as readily as the `allkeys-*` ones. An evicted lock
//! or idempotency record is a second holder or a second execution waiting to happen; the only
//! Redis setting under which they are never evicted is `noeviction` (with enough memory: a
//! full server then refuses writes, and each layer answers per its failure policy).
//!
//! ```
//! use tower_vigil_core::backend::{EvictionPolicy, NodeMemory};
//!
//! let policy = EvictionPolicy::parse("allkeys-lru");
//! assert!(policy.evicts_ttl_keys());
//! assert!(!EvictionPolicy::parse("noeviction").evicts_ttl_keys());
//!
//! let node = NodeMemory::new("10.0.0.1:6379", 1 << 20, 4 << 20, policy);
//! assert!(node.can_evict());
//! // Without a limit Redis never evicts, whatever the policy.
//! assert!(!NodeMemory::new("10.0.0.1:6379", 1 << 20, 0, EvictionPolicy::AllKeysLru).can_evict());
//! ```

use std::fmt;

use serde::Serialize;

/// What a store does when it reaches its memory limit (Redis' `maxmemory-policy`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EvictionPolicy {
    /// `noeviction`: writes that need memory fail (`OOM`); nothing is evicted.
    NoEviction,
    /// `allkeys-lru`: any key, least recently used first.
    AllKeysLru,
    /// `allkeys-lfu`: any key, least frequently used first.
    AllKeysLfu,
    /// `allkeys-random`: any key.
    AllKeysRandom,
    /// `volatile-lru`: keys with a TTL (every tower-vigil key), least recently used first.
    VolatileLru,
    /// `volatile-lfu`: keys with a TTL, least frequently used first.
    VolatileLfu,
    /// `volatile-random`: keys with a TTL.
    VolatileRandom,
    /// `volatile-ttl`: keys with a TTL, soonest to expire first.
    VolatileTtl,
    /// The memory backend's: from the concern (first key segment) most over its fair share,
    /// that concern's entry soonest to expire (see [`MemoryBackend`](crate::MemoryBackend)).
    ConcernFairShare,
    /// A policy this version does not know (taken as one that evicts).
    Other(String),
}

impl EvictionPolicy {
    /// The policy named `name` as `CONFIG GET maxmemory-policy` spells it.
    pub fn parse(name: &str) -> Self {
        match name {
            "noeviction" => Self::NoEviction,
            "allkeys-lru" => Self::AllKeysLru,
            "allkeys-lfu" => Self::AllKeysLfu,
            "allkeys-random" => Self::AllKeysRandom,
            "volatile-lru" => Self::VolatileLru,
            "volatile-lfu" => Self::VolatileLfu,
            "volatile-random" => Self::VolatileRandom,
            "volatile-ttl" => Self::VolatileTtl,
            "concern-fair-share" => Self::ConcernFairShare,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The policy's name: Redis' spelling, or `concern-fair-share` for the memory backend.
    pub fn as_str(&self) -> &str {
        match self {
            Self::NoEviction => "noeviction",
            Self::AllKeysLru => "allkeys-lru",
            Self::AllKeysLfu => "allkeys-lfu",
            Self::AllKeysRandom => "allkeys-random",
            Self::VolatileLru => "volatile-lru",
            Self::VolatileLfu => "volatile-lfu",
            Self::VolatileRandom => "volatile-random",
            Self::VolatileTtl => "volatile-ttl",
            Self::ConcernFairShare => "concern-fair-share",
            Self::Other(name) => name,
        }
    }

    /// True when a full store evicts keys that have a TTL, which every tower-vigil key has:
    /// every policy but `noeviction` (an unknown one is assumed to evict).
    pub fn evicts_ttl_keys(&self) -> bool {
        !matches!(self, Self::NoEviction)
    }
}

impl fmt::Display for EvictionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EvictionPolicy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One store's memory figures: a Redis server, one master of a cluster, or the memory
/// backend. Serialises as `{"node", "usedMemory", "maxmemory", "evictionPolicy",
/// "evictedKeys"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NodeMemory {
    /// Which store: `host:port` of a Redis node, `memory` for the memory backend.
    pub node: String,
    /// Bytes in use.
    pub used_memory: u64,
    /// The memory limit in bytes (Redis' `maxmemory`; the byte budget of the memory backend);
    /// 0 when unlimited.
    #[serde(rename = "maxmemory")]
    pub max_memory: u64,
    /// What the store does at that limit.
    pub eviction_policy: EvictionPolicy,
    /// Keys evicted so far (Redis' `evicted_keys` since start or `CONFIG RESETSTAT`).
    pub evicted_keys: u64,
}

impl NodeMemory {
    /// The figures of `node`: `used_memory` of `max_memory` bytes (0: unlimited), evicting by
    /// `policy`; no eviction counted yet.
    pub fn new(
        node: impl Into<String>,
        used_memory: u64,
        max_memory: u64,
        policy: EvictionPolicy,
    ) -> Self {
        Self {
            node: node.into(),
            used_memory,
            max_memory,
            eviction_policy: policy,
            evicted_keys: 0,
        }
    }

    /// The same, with `n` keys evicted so far.
    #[must_use]
    pub fn with_evicted_keys(mut self, n: u64) -> Self {
        self.evicted_keys = n;
        self
    }

    /// True when this store, once full, evicts keys with a TTL (locks, idempotency records,
    /// sessions): it has a limit and a policy other than `noeviction`.
    pub fn can_evict(&self) -> bool {
        self.max_memory > 0 && self.eviction_policy.evicts_ttl_keys()
    }

    /// `max_memory` as `INFO memory` gives it (`4.00M`), or `unlimited`.
    pub fn max_memory_human(&self) -> String {
        if self.max_memory == 0 {
            "unlimited".to_owned()
        } else {
            format_bytes(self.max_memory)
        }
    }
}

/// Formats a byte count the way Redis' `used_memory_human` does: `512B`, `1.50K`, `2.00M`, `1.25G`.
pub(crate) fn format_bytes(bytes: u64) -> String {
    const UNITS: [(&str, f64); 4] = [
        ("T", 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("G", 1024.0 * 1024.0 * 1024.0),
        ("M", 1024.0 * 1024.0),
        ("K", 1024.0),
    ];
    #[allow(clippy::cast_precision_loss)] // display only
    let b = bytes as f64;
    for (unit, size) in UNITS {
        if b >= size {
            return format!("{:.2}{unit}", b / size);
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_redis_policy_round_trips_and_only_noeviction_keeps_ttl_keys() {
        for name in [
            "noeviction",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "concern-fair-share",
            "something-new",
        ] {
            let policy = EvictionPolicy::parse(name);
            assert_eq!(policy.as_str(), name);
            assert_eq!(policy.evicts_ttl_keys(), name != "noeviction", "{name}");
        }
    }

    #[test]
    fn a_node_without_a_limit_never_evicts() {
        let node = NodeMemory::new("n", 10, 0, EvictionPolicy::VolatileTtl);
        assert!(!node.can_evict());
        assert_eq!(node.max_memory_human(), "unlimited");
        let full = NodeMemory::new("n", 10, 2 << 20, EvictionPolicy::NoEviction);
        assert!(!full.can_evict());
        assert_eq!(full.max_memory_human(), "2.00M");
    }
}
