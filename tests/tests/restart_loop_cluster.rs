//! Issue 13, restart loops on Redis Cluster: the masters of a 3-master cluster (no replicas)
//! killed (`SIGKILL`) and restarted in turn every few seconds under load, with the checks of
//! `restart_loop/main.rs`: requests whose keys live on the killed master are answered per
//! the layers' failure policies until it is back, and nothing hangs, panics or loses a write.

#[path = "restart_loop/driver.rs"]
mod driver;
#[path = "restart_loop/load.rs"]
mod load;
#[path = "restart_loop/stack.rs"]
mod stack;

use tower_vigil_core::RedisBackend;
use tower_vigil_tests::{RedisCluster, fixtures};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_masters_killed_and_restarted_in_turn_under_load() {
    let cluster = tokio::task::spawn_blocking(RedisCluster::start)
        .await
        .unwrap();
    let backend = RedisBackend::cluster_builder(cluster.urls())
        .prefix(fixtures::unique_prefix())
        .timeout(driver::TIMEOUT)
        .connect_timeout(driver::TIMEOUT)
        .connect()
        .await
        .unwrap();
    driver::run(cluster, backend).await;
}
