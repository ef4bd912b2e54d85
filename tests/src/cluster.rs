//! [`RedisCluster`]: three real masters joined into a Redis Cluster, with or without one
//! replica each.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::{self, Process};

/// A 3-master Redis Cluster on free loopback ports, with no replicas
/// ([`start`](Self::start)) or one per master ([`with_replicas`](Self::with_replicas)).
/// Killed on drop.
pub struct RedisCluster {
    pub(crate) nodes: Vec<Node>,
    /// The arguments every node starts (and restarts) with.
    args: &'static [&'static str],
}

pub(crate) struct Node {
    pub(crate) port: u16,
    dir: PathBuf,
    pub(crate) process: Option<Process>,
    /// The process id while frozen.
    frozen: Option<String>,
}

const NODE_ARGS: &[&str] = &[
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    "nodes.conf",
    "--cluster-node-timeout",
    "2000",
    // The slots of a stopped master fail; the others keep serving.
    "--cluster-require-full-coverage",
    "no",
];

/// Nodes of the cluster with replicas: a short node timeout, so a dead master is detected and
/// its replica promoted within a few seconds.
const REPLICATED_NODE_ARGS: &[&str] = &[
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    "nodes.conf",
    "--cluster-node-timeout",
    "1000",
    "--cluster-require-full-coverage",
    "no",
    // A replica whose link to its master is down may still be promoted for this long
    // (factor × node timeout): a test can hold a replica back, then fail its master over.
    "--cluster-replica-validity-factor",
    "30",
];

impl RedisCluster {
    /// Starts three nodes, assigns the slots with `redis-cli --cluster create` and waits until
    /// every node reports `cluster_state:ok`.
    ///
    /// # Panics
    /// When redis-server or redis-cli is missing, or the cluster is not up within 30 s.
    pub fn start() -> Self {
        Self::launch(3, 0, NODE_ARGS)
    }

    /// Starts six nodes, three masters and a replica of each (`--cluster-replicas 1`), with a
    /// 1 s `cluster-node-timeout` so a killed master fails over within seconds, and waits
    /// until the cluster is `ok` and every replica is in sync with its master.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    pub fn with_replicas() -> Self {
        let cluster = Self::launch(6, 1, REPLICATED_NODE_ARGS);
        cluster.wait_replicas_synced(Duration::from_secs(30));
        cluster
    }

    fn launch(count: usize, replicas: u8, args: &'static [&'static str]) -> Self {
        let mut nodes = Vec::new();
        while nodes.len() < count {
            let port = process::free_port(true);
            if nodes.iter().any(|n: &Node| n.port == port) {
                continue;
            }
            let dir = process::new_dir();
            let mut p = process::spawn(port, &dir, args);
            if process::wait_ready(port, &mut p, Duration::from_secs(10)) {
                nodes.push(Node {
                    port,
                    dir,
                    process: Some(p),
                    frozen: None,
                });
            } else {
                p.stop(false);
            }
        }
        let cluster = Self { nodes, args };
        let addrs: Vec<String> = cluster
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .arg("--cluster-replicas")
            .arg(replicas.to_string())
            .arg("--cluster-yes")
            .stdin(Stdio::null())
            .output()
            .expect(
                "redis-cli was not found: install it with `sudo apt-get install redis-tools`, \
                 or run ./scripts/test",
            );
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        cluster.wait_ok(Duration::from_secs(30));
        cluster
    }

    /// `redis://127.0.0.1:{port}` of every node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("redis://127.0.0.1:{}", n.port))
            .collect()
    }

    /// The ports of the nodes.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    /// Kills node `i` (`SIGKILL`), keeping its `nodes.conf` for a restart.
    pub fn stop_node(&mut self, i: usize) {
        self.nodes[i].frozen = None;
        if let Some(p) = self.nodes[i].process.take() {
            p.stop(true);
        }
    }

    /// Freezes every node (`SIGSTOP`): connections stay open and calls hang until their
    /// timeout, as with a cluster cut off by a partition.
    ///
    /// # Panics
    /// When a node does not report its process id.
    pub fn freeze(&mut self) {
        for node in &mut self.nodes {
            let pid = process::pid(node.port).expect("the node reports its process id");
            process::signal("-STOP", &pid);
            node.frozen = Some(pid);
        }
    }

    /// Resumes frozen nodes (`SIGCONT`).
    pub fn thaw(&mut self) {
        for node in &mut self.nodes {
            if let Some(pid) = node.frozen.take() {
                process::signal("-CONT", &pid);
            }
        }
    }

    /// Restarts node `i` with its old identity and waits until the cluster is whole again.
    pub fn restart_node(&mut self, i: usize) {
        self.stop_node(i);
        let node = &mut self.nodes[i];
        let mut p = process::spawn(node.port, &node.dir, self.args);
        assert!(
            process::wait_ready(node.port, &mut p, Duration::from_secs(10)),
            "cluster node on port {} did not restart; its log ends with:\n{}",
            node.port,
            process::log_tail(&node.dir, 20)
        );
        node.process = Some(p);
        self.wait_ok(Duration::from_secs(30));
    }

    /// Runs one command against node `i`.
    pub fn command(&self, i: usize, args: &[&str]) -> Option<String> {
        process::command(self.nodes[i].port, args)
    }

    /// Waits until every running node reports `cluster_state:ok`.
    pub(crate) fn wait_ok(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let ok = self.live().all(|n| {
                process::command(n.port, &["CLUSTER", "INFO"])
                    .is_some_and(|info| info.contains("cluster_state:ok"))
            });
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster did not reach cluster_state:ok"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl RedisCluster {
    /// The nodes whose process runs (not killed).
    pub(crate) fn live(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.process.is_some())
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            match node.process.take() {
                Some(p) => p.stop(false),
                None => {
                    let _ = std::fs::remove_dir_all(&node.dir);
                }
            }
        }
    }
}

impl std::fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCluster")
            .field("ports", &self.ports())
            .finish()
    }
}
