//! Backends for tests: each test gets its own key prefix on a server (or cluster) shared by
//! the whole test binary, so tests run in parallel without seeing each other's keys.
//!
//! Tests that stop or restart Redis start their own [`RedisServer`] instead.
//!
//! ```no_run
//! # async fn t() {
//! let redis = tower_vigil_tests::fixtures::redis().await;
//! let cluster = tower_vigil_tests::fixtures::cluster().await;
//! let sentinel = tower_vigil_tests::fixtures::sentinel().await;
//! # }
//! ```

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tower_vigil_core::redis::RedisBackendBuilder;
use tower_vigil_core::{MemoryBackend, RedisBackend};

use crate::{RedisCluster, RedisSentinel, RedisServer};

/// The per-call timeout of test backends: generous, because a 2-core machine running many
/// tests at once can stall a call well past the production default of 250 ms. Tests of the
/// timeout itself set their own.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(3);

/// The standalone server shared by this test binary, started on first use.
pub fn shared_server() -> &'static RedisServer {
    static SERVER: OnceLock<RedisServer> = OnceLock::new();
    SERVER.get_or_init(RedisServer::start)
}

/// The 3-master cluster shared by this test binary, started on first use.
pub fn shared_cluster() -> &'static RedisCluster {
    static CLUSTER: OnceLock<RedisCluster> = OnceLock::new();
    CLUSTER.get_or_init(RedisCluster::start)
}

/// The Sentinel setup (master, replica, three sentinels) shared by this test binary, started
/// on first use. Tests that fail it over start their own.
pub fn shared_sentinel() -> &'static RedisSentinel {
    static SENTINEL: OnceLock<RedisSentinel> = OnceLock::new();
    SENTINEL.get_or_init(RedisSentinel::start)
}

/// A key prefix no other test of this process uses.
pub fn unique_prefix() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "t{}x{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A memory backend with a unique prefix.
pub fn memory() -> MemoryBackend {
    MemoryBackend::builder()
        .prefix(unique_prefix())
        .build()
        .unwrap()
}

/// Group commit in every fixture backend: off by default in the product, on here, so that
/// every suite that runs on these backends (the exactness tests of 4 instances × 2,000
/// concurrent requests among them) runs with batching.
const GROUP_COMMIT: Option<usize> = Some(tower_vigil_core::redis::DEFAULT_MAX_BATCH);

/// A Redis backend on the shared server, under a unique prefix.
pub async fn redis() -> RedisBackend {
    redis_on(&shared_server().url()).await
}

/// A Redis backend on the server at `url`, under a unique prefix.
pub async fn redis_on(url: &str) -> RedisBackend {
    connect(
        RedisBackend::builder(url),
        "connecting to the test redis-server",
    )
    .await
}

/// `builder` with the test settings (a unique prefix, the test timeouts, group commit),
/// connected.
async fn connect(builder: RedisBackendBuilder, what: &str) -> RedisBackend {
    builder
        .prefix(unique_prefix())
        .timeout(TEST_TIMEOUT)
        .connect_timeout(TEST_TIMEOUT)
        .group_commit(GROUP_COMMIT)
        .connect()
        .await
        .expect(what)
}

/// A Redis Cluster backend on the shared cluster, under a unique prefix.
pub async fn cluster() -> RedisBackend {
    cluster_on(&shared_cluster().urls()).await
}

/// A Redis Cluster backend on the nodes at `urls`, under a unique prefix.
pub async fn cluster_on(urls: &[String]) -> RedisBackend {
    connect(
        RedisBackend::cluster_builder(urls),
        "connecting to the test cluster",
    )
    .await
}

/// A Sentinel backend on the shared Sentinel setup, under a unique prefix.
pub async fn sentinel() -> RedisBackend {
    sentinel_on(shared_sentinel()).await
}

/// A Sentinel backend on `setup`, under a unique prefix.
pub async fn sentinel_on(setup: &RedisSentinel) -> RedisBackend {
    let builder = RedisBackend::sentinel_builder(setup.sentinel_urls(), setup.master_name());
    connect(builder, "connecting through the test sentinels").await
}

/// `N` connections to the shared server under one unique prefix: `N` instances of a service
/// sharing their state, each with a connection of its own (as separate processes would).
pub async fn redis_instances<const N: usize>() -> [RedisBackend; N] {
    let url = shared_server().url();
    instances(|| RedisBackend::builder(&url)).await
}

/// `N` connections to the shared cluster under one unique prefix (see [`redis_instances`]).
pub async fn cluster_instances<const N: usize>() -> [RedisBackend; N] {
    let urls = shared_cluster().urls();
    instances(|| RedisBackend::cluster_builder(&urls)).await
}

/// `N` connections through the shared sentinels under one unique prefix (see
/// [`redis_instances`]).
pub async fn sentinel_instances<const N: usize>() -> [RedisBackend; N] {
    let setup = shared_sentinel();
    let (urls, name) = (setup.sentinel_urls(), setup.master_name());
    instances(|| RedisBackend::sentinel_builder(&urls, name)).await
}

async fn instances<const N: usize>(
    builder: impl Fn() -> tower_vigil_core::redis::RedisBackendBuilder,
) -> [RedisBackend; N] {
    let prefix = unique_prefix();
    let mut out = Vec::with_capacity(N);
    for _ in 0..N {
        let backend = builder()
            .prefix(&prefix)
            .timeout(TEST_TIMEOUT)
            .connect_timeout(TEST_TIMEOUT)
            .group_commit(GROUP_COMMIT)
            .connect()
            .await
            .expect("connecting to the test redis");
        out.push(backend);
    }
    out.try_into()
        .unwrap_or_else(|_| unreachable!("exactly N backends"))
}
