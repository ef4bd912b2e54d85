//! One [`FaultProxy`] per node of a cluster, announced by the nodes themselves.

use std::time::{Duration, Instant};

use super::FaultProxy;
use crate::RedisCluster;

impl FaultProxy {
    /// Puts a proxy in front of every node of `cluster` and makes each node announce its
    /// proxy's port (`CONFIG SET cluster-announce-port`: the cluster bus keeps the real port +
    /// 10000), so `CLUSTER SLOTS` and `MOVED` send clients through the proxies. Use a cluster
    /// of the test's own: the change stays for the cluster's life. Returns the proxies in node
    /// order; connect with their [`url`](Self::url)s.
    ///
    /// # Panics
    /// When a node refuses the setting or the cluster does not announce it within 10 s.
    pub async fn for_cluster(cluster: &RedisCluster) -> Vec<Self> {
        let mut proxies = Vec::new();
        for (node, port) in cluster.ports().into_iter().enumerate() {
            let proxy = Self::start(port).await;
            let port = proxy.port().to_string();
            let set = cluster.command(node, &["CONFIG", "SET", "cluster-announce-port", &port]);
            assert_eq!(
                set.as_deref(),
                Some("+OK"),
                "node {node} announces its proxy"
            );
            proxies.push(proxy);
        }
        // Every node learns the others' new ports by gossip.
        let deadline = Instant::now() + Duration::from_secs(10);
        for node in 0..proxies.len() {
            loop {
                let nodes = cluster
                    .command(node, &["CLUSTER", "NODES"])
                    .unwrap_or_default();
                if proxies
                    .iter()
                    .all(|p| nodes.contains(&format!(":{}@", p.port())))
                {
                    break;
                }
                assert!(Instant::now() < deadline, "not announced: {nodes}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        proxies
    }
}
