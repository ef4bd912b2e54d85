//! [`Pressure`]: memory pressure on a real Redis (a server or every master of a cluster): a
//! small `maxmemory` and an eviction policy set with `CONFIG SET`, then filled with another
//! application's keys until it refuses writes (`noeviction`) or evicts.
//!
//! Give pressure tests their own server or cluster: a full Redis breaks every other test
//! sharing it.
//!
//! ```no_run
//! use tower_vigil_tests::{RedisServer, pressure::Pressure};
//!
//! let server = RedisServer::start();
//! let pressure = Pressure::on_server(&server);
//! pressure.limit(4 << 20, "noeviction");
//! pressure.exhaust(); // every write that needs memory now fails with OOM
//! pressure.relieve(); // no limit again
//! ```

use std::sync::atomic::{AtomicU64, Ordering};

use crate::process;
use crate::{RedisCluster, RedisServer};

/// The size of one filler value: big enough to fill a few MiB in a few dozen writes.
const FILLER_BYTES: usize = 64 << 10;
/// Filler keys are written until the server refuses or evicts, or this many per call.
const MAX_FILLERS: usize = 2_000;

/// Memory pressure on the Redis nodes at some ports.
#[derive(Debug)]
pub struct Pressure {
    ports: Vec<u16>,
    next: AtomicU64,
}

/// What a fill ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filled {
    /// A write was refused with `OOM` (the `noeviction` policy).
    Refused,
    /// The server evicted keys to take the writes.
    Evicting,
}

impl Pressure {
    /// Pressure on one server.
    pub fn on_server(server: &RedisServer) -> Self {
        Self::on_ports(vec![server.port()])
    }

    /// Pressure on every master of a cluster (each fills its own memory; replicas, which
    /// do not evict on their own, are left alone).
    pub fn on_cluster(cluster: &RedisCluster) -> Self {
        let masters = cluster
            .ports()
            .into_iter()
            .filter(|&p| {
                process::command(p, &["INFO", "replication"])
                    .is_some_and(|t| t.contains("role:master"))
            })
            .collect();
        Self::on_ports(masters)
    }

    fn on_ports(ports: Vec<u16>) -> Self {
        Self {
            ports,
            next: AtomicU64::new(0),
        }
    }

    /// Sets `maxmemory` to `bytes` above what each node uses now, and `maxmemory-policy` to
    /// `policy` (`noeviction`, `allkeys-lru`, `volatile-ttl`, ...).
    ///
    /// # Panics
    /// When a node refuses the setting.
    pub fn limit(&self, bytes: u64, policy: &str) {
        for &port in &self.ports {
            let max = (used_memory(port) + bytes).to_string();
            config_set(port, "maxmemory-policy", policy);
            config_set(port, "maxmemory", &max);
        }
    }

    /// Fills every node with filler keys (no TTL, like another application's data) until it
    /// refuses a write or has evicted a key. Under `noeviction`, each node is then left a
    /// margin *over* its limit (the limit is lowered below what it uses), so a write stays
    /// refused even if the server frees a little memory meanwhile.
    ///
    /// # Panics
    /// When a node neither refuses nor evicts within 2,000 writes.
    pub fn exhaust(&self) -> Filled {
        let mut outcome = Filled::Evicting;
        for &port in &self.ports {
            if self.fill_node(port) == Filled::Refused {
                outcome = Filled::Refused;
                let over = used_memory(port).saturating_sub(512 << 10).max(1);
                config_set(port, "maxmemory", &over.to_string());
            }
        }
        outcome
    }

    /// Writes `n` more filler keys to every node (evicting policies evict further), ignoring
    /// refusals.
    pub fn fill_more(&self, n: usize) {
        for &port in &self.ports {
            for _ in 0..n {
                self.write_filler(port);
            }
        }
    }

    /// Removes the limit (`maxmemory 0`): writes succeed again. The filler stays.
    pub fn relieve(&self) {
        for &port in &self.ports {
            config_set(port, "maxmemory", "0");
        }
    }

    /// Keys evicted so far, summed over the nodes (`INFO stats` `evicted_keys`).
    pub fn evicted_keys(&self) -> u64 {
        self.ports
            .iter()
            .map(|&p| info_number(p, "stats", "evicted_keys"))
            .sum()
    }

    fn fill_node(&self, port: u16) -> Filled {
        let evicted = info_number(port, "stats", "evicted_keys");
        for _ in 0..MAX_FILLERS {
            if self.write_filler(port) == Some(Filled::Refused) {
                return Filled::Refused;
            }
            if info_number(port, "stats", "evicted_keys") > evicted {
                return Filled::Evicting;
            }
        }
        panic!("redis on port {port} neither refused nor evicted after {MAX_FILLERS} writes");
    }

    /// One filler write; `None` when it landed (or belonged to another cluster node).
    fn write_filler(&self, port: u16) -> Option<Filled> {
        // A cluster node answers MOVED for a key of another node's slots: try further names.
        for _ in 0..64 {
            let key = format!("filler:{}", self.next.fetch_add(1, Ordering::Relaxed));
            let value = "x".repeat(FILLER_BYTES);
            let reply = process::command(port, &["SET", &key, &value]).unwrap_or_default();
            if reply.starts_with("-OOM") {
                return Some(Filled::Refused);
            }
            if !reply.starts_with("-MOVED") {
                return None;
            }
        }
        None
    }
}

fn config_set(port: u16, name: &str, value: &str) {
    let reply = process::command(port, &["CONFIG", "SET", name, value]).unwrap_or_default();
    assert_eq!(reply, "+OK", "CONFIG SET {name} {value} on port {port}");
}

fn used_memory(port: u16) -> u64 {
    info_number(port, "memory", "used_memory")
}

/// A numeric field of one `INFO` section; 0 when absent.
fn info_number(port: u16, section: &str, name: &str) -> u64 {
    let text = process::command(port, &["INFO", section]).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}
