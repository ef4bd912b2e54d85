//! [`BackendKind`] and [`BackendInfo`], what health checks report.

use std::fmt;

use super::eviction::{NodeMemory, format_bytes};

/// Which kind of backend answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendKind {
    /// The embedded in-process backend.
    Memory,
    /// A standalone Redis (or Valkey) server.
    Redis,
    /// A Redis Cluster.
    RedisCluster,
    /// A Redis master found through Redis Sentinel (and followed across failovers).
    RedisSentinel,
}

impl BackendKind {
    /// `memory`, `redis`, `redis-cluster` or `redis-sentinel`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Redis => "redis",
            Self::RedisCluster => "redis-cluster",
            Self::RedisSentinel => "redis-sentinel",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a backend reports about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackendInfo {
    /// Bytes of memory in use (summed over the masters of a cluster; an estimate for memory).
    pub used_memory: u64,
    /// `used_memory` in the form `INFO memory` gives it (`1.02M`).
    pub used_memory_human: String,
    /// Keys stored (summed over the masters of a cluster). For Redis this counts the whole
    /// database, not only this backend's prefix.
    pub key_count: u64,
    /// Memory limit and eviction policy of each store: the Redis server, every master of a
    /// cluster, or the memory backend itself. Empty when the backend does not say (a
    /// third-party backend that only calls [`new`](Self::new)).
    pub nodes: Vec<NodeMemory>,
}

impl BackendInfo {
    /// Info from a byte count and a key count.
    pub fn new(used_memory: u64, key_count: u64) -> Self {
        Self {
            used_memory,
            used_memory_human: format_bytes(used_memory),
            key_count,
            nodes: Vec::new(),
        }
    }

    /// The same, with the memory limit and eviction policy of one more store.
    #[must_use]
    pub fn with_node(mut self, node: NodeMemory) -> Self {
        self.nodes.push(node);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(format_bytes(512), "512B");
        assert_eq!(format_bytes(1536), "1.50K");
        assert_eq!(format_bytes(1024 * 1024 * 2), "2.00M");
    }
}
