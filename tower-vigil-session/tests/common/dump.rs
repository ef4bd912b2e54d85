//! What a backend holds under the test's prefix: every key on every Redis node (through
//! `tower_vigil_tests::inspect`), entry counts in memory.

use tower_vigil_core::{Backend, BackendKind, MemoryBackend, RedisBackend};
use tower_vigil_tests::fixtures::{shared_cluster, shared_server};
use tower_vigil_tests::inspect::{self, StoredKey};

/// A store a conformance case runs on.
pub trait Fixture: Backend {
    /// How many keys exist under this test's prefix.
    async fn key_count(&self) -> usize;
    /// Every key under the prefix with its values, where the backend can be enumerated from
    /// outside (Redis).
    async fn dump(&self) -> Option<Vec<StoredKey>>;
}

impl Fixture for MemoryBackend {
    async fn key_count(&self) -> usize {
        self.len()
    }

    async fn dump(&self) -> Option<Vec<StoredKey>> {
        None
    }
}

impl Fixture for RedisBackend {
    async fn key_count(&self) -> usize {
        self.dump().await.map_or(0, |d| d.len())
    }

    async fn dump(&self) -> Option<Vec<StoredKey>> {
        let nodes = match self.backend_kind() {
            BackendKind::RedisCluster => shared_cluster().urls(),
            BackendKind::RedisSentinel => {
                vec![tower_vigil_tests::fixtures::shared_sentinel().master_url()]
            }
            _ => vec![shared_server().url()],
        };
        Some(inspect::dump(&nodes, self.prefix().as_str()).await)
    }
}
