//! What the suite needs from a backend beyond the cache: a second connection sharing its
//! namespace (another app instance), and where to scan it.

use tower_vigil_core::{Backend, BackendKind, MemoryBackend, RedisBackend};
use tower_vigil_tests::fixtures::{TEST_TIMEOUT, shared_cluster, shared_sentinel, shared_server};

pub trait TestBackend: tower_vigil_core::Backend {
    /// Another connection to the same store and prefix, as a second instance would have.
    async fn twin(&self) -> Self;

    /// The Redis nodes holding this backend's keys (none for memory).
    fn node_urls(&self) -> Vec<String>;
}

impl TestBackend for MemoryBackend {
    async fn twin(&self) -> Self {
        self.clone()
    }

    fn node_urls(&self) -> Vec<String> {
        Vec::new()
    }
}

impl TestBackend for RedisBackend {
    async fn twin(&self) -> Self {
        let builder = match self.backend_kind() {
            BackendKind::RedisCluster => RedisBackend::cluster_builder(shared_cluster().urls()),
            BackendKind::RedisSentinel => {
                let setup = shared_sentinel();
                RedisBackend::sentinel_builder(setup.sentinel_urls(), setup.master_name())
            }
            _ => RedisBackend::builder(&shared_server().url()),
        };
        builder
            .prefix(self.prefix().as_str())
            .timeout(TEST_TIMEOUT)
            .connect_timeout(TEST_TIMEOUT)
            .connect()
            .await
            .unwrap()
    }

    fn node_urls(&self) -> Vec<String> {
        match self.backend_kind() {
            BackendKind::RedisCluster => shared_cluster().urls(),
            BackendKind::RedisSentinel => vec![shared_sentinel().master_url()],
            _ => vec![shared_server().url()],
        }
    }
}

/// After a Redis test: no raw key in any key name or value, and the hashed records are there.
pub async fn assert_clean<B: TestBackend>(backend: &B, raw_keys: &[&str]) {
    let urls = backend.node_urls();
    if urls.is_empty() {
        return;
    }
    let scanned = super::assert_no_raw_key(&urls, backend.prefix().as_str(), raw_keys).await;
    assert!(scanned > 0, "the test left no cache record to check");
}
