//! [`RedisSentinel`]: a master, a replica and three sentinels (`redis-server --sentinel`) on
//! free loopback ports, with the failovers a test needs: asked for
//! ([`failover`](RedisSentinel::failover)) or forced by killing the master
//! ([`kill_master`](RedisSentinel::kill_master)).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::process::{self, Process};

/// The name the sentinels monitor the master under.
pub(crate) const MASTER_NAME: &str = "vigil-master";

/// A Sentinel-managed Redis for tests: one master, one replica, three sentinels (quorum 2),
/// a master declared down after 1 s. Killed on drop.
pub struct RedisSentinel {
    /// The two data nodes; which one is master changes with failovers.
    data: Vec<Node>,
    sentinels: Vec<Node>,
}

struct Node {
    port: u16,
    dir: PathBuf,
    process: Option<Process>,
}

impl Node {
    fn start(args: impl Fn(u16, &std::path::Path) -> Vec<String>) -> Self {
        for _ in 0..5 {
            let port = process::free_port(false);
            let dir = process::new_dir();
            let mut owned = args(port, &dir);
            // A replica's full sync starts at once, not after the default 5 s wait for more
            // replicas to share the transfer with.
            owned.extend(["--repl-diskless-sync-delay".to_owned(), "0".to_owned()]);
            let argv: Vec<&str> = owned.iter().map(String::as_str).collect();
            let mut p = process::spawn(port, &dir, &argv);
            if process::wait_ready(port, &mut p, Duration::from_secs(10)) {
                return Self {
                    port,
                    dir,
                    process: Some(p),
                };
            }
            p.stop(false);
        }
        panic!("a redis-server for the sentinel setup did not start after 5 attempts");
    }
}

impl RedisSentinel {
    /// Starts the master, its replica and three sentinels, and waits until the replica is in
    /// sync and every sentinel knows the master, the replica and the other sentinels.
    ///
    /// # Panics
    /// When redis-server is missing or the setup is not ready within 30 s.
    pub fn start() -> Self {
        let master = Node::start(|_, _| Vec::new());
        let master_port = master.port;
        let replica = Node::start(move |_, _| {
            vec![
                "--replicaof".into(),
                "127.0.0.1".into(),
                master_port.to_string(),
            ]
        });
        // Each sentinel is told its id, the replica and the other sentinels up front
        // (`known-replica`, `known-sentinel`), so the setup is ready at once instead of after
        // the seconds of hello messages and INFO polling discovery takes.
        let replica_port = replica.port;
        let ports: Vec<u16> = std::iter::repeat_with(|| process::free_port(false))
            .scan(Vec::new(), |seen: &mut Vec<u16>, p| {
                let fresh = !seen.contains(&p);
                seen.push(p);
                Some(fresh.then_some(p))
            })
            .flatten()
            .take(3)
            .collect();
        let ids: Vec<String> = (0..3u64)
            .map(|i| format!("{:040x}", 0xdead_0000_u64 + i))
            .collect();
        let sentinels = (0..3)
            .map(|i| {
                let port = ports[i];
                let dir = process::new_dir();
                let conf = dir.join("sentinel.conf");
                let mut text = format!(
                    "port {port}\nbind 127.0.0.1\ndir {dir}\nsentinel myid {id}\n\
                     sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} 2\n\
                     sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
                     sentinel failover-timeout {MASTER_NAME} 5000\n\
                     sentinel parallel-syncs {MASTER_NAME} 1\n\
                     sentinel known-replica {MASTER_NAME} 127.0.0.1 {replica_port}\n",
                    dir = dir.display(),
                    id = ids[i],
                );
                for j in (0..3).filter(|j| *j != i) {
                    text.push_str(&format!(
                        "sentinel known-sentinel {MASTER_NAME} 127.0.0.1 {} {}\n",
                        ports[j], ids[j]
                    ));
                }
                std::fs::write(&conf, text).expect("writing sentinel.conf");
                let conf = conf.display().to_string();
                let mut p = process::spawn_raw(&dir, &[&conf, "--sentinel"]);
                assert!(
                    process::wait_ready(port, &mut p, Duration::from_secs(10)),
                    "a sentinel did not start on port {port}"
                );
                Node {
                    port,
                    dir,
                    process: Some(p),
                }
            })
            .collect();
        let setup = Self {
            data: vec![master, replica],
            sentinels,
        };
        setup.wait_ready(Duration::from_secs(30));
        setup
    }

    /// `redis://127.0.0.1:{port}` of every sentinel.
    pub fn sentinel_urls(&self) -> Vec<String> {
        self.sentinels
            .iter()
            .map(|n| format!("redis://127.0.0.1:{}", n.port))
            .collect()
    }

    /// The ports of the two data nodes (master and replica, in no set order).
    pub fn data_ports(&self) -> Vec<u16> {
        self.data.iter().map(|n| n.port).collect()
    }

    /// The ports of the three sentinels.
    pub fn sentinel_ports(&self) -> Vec<u16> {
        self.sentinels.iter().map(|n| n.port).collect()
    }

    /// Runs one command on the server (data node or sentinel) at `port`.
    pub fn command_on(&self, port: u16, args: &[&str]) -> Option<String> {
        process::command(port, args)
    }

    /// The master name the sentinels monitor.
    pub fn master_name(&self) -> &'static str {
        MASTER_NAME
    }

    /// The master's port as the sentinels report it now.
    ///
    /// # Panics
    /// When no sentinel answers.
    pub fn master_port(&self) -> u16 {
        self.sentinels
            .iter()
            .find_map(|s| master_addr(s.port))
            .expect("a sentinel reports the master")
    }

    /// `redis://127.0.0.1:{port}` of the master the sentinels report now.
    pub fn master_url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.master_port())
    }

    /// Asks the sentinels for a failover (`SENTINEL FAILOVER`) and waits until the replica is
    /// master and every sentinel says so (the old master is made its replica soon after).
    /// Returns the new master's port.
    ///
    /// # Panics
    /// When the failover does not complete within 30 s.
    pub fn failover(&self) -> u16 {
        let old = self.master_port();
        let asked = process::command(
            self.sentinels[0].port,
            &["SENTINEL", "FAILOVER", MASTER_NAME],
        );
        assert!(
            asked.as_deref() == Some("+OK"),
            "SENTINEL FAILOVER answered {asked:?}"
        );
        self.wait_new_master(old, Duration::from_secs(30))
    }

    /// Kills the master (`SIGKILL`) and waits until the sentinels promoted the replica.
    /// Returns the new master's port. The old master stays down until
    /// [`restart_old_master`](Self::restart_old_master).
    ///
    /// # Panics
    /// When no promotion happens within 30 s.
    pub fn kill_master(&mut self) -> u16 {
        let old = self.master_port();
        let node = self
            .data
            .iter_mut()
            .find(|n| n.port == old)
            .expect("a data node");
        if let Some(p) = node.process.take() {
            p.stop(true);
        }
        self.wait_new_master(old, Duration::from_secs(30))
    }

    /// Restarts a killed data node (empty; the sentinels make it a replica of the current
    /// master) and waits until it is in sync.
    ///
    /// # Panics
    /// When it does not come back in sync within 30 s.
    pub fn restart_old_master(&mut self) {
        let master = self.master_port();
        for node in &mut self.data {
            if node.process.is_none() {
                let args = [
                    "--replicaof".to_owned(),
                    "127.0.0.1".to_owned(),
                    master.to_string(),
                ];
                let argv: Vec<&str> = args.iter().map(String::as_str).collect();
                let mut p = process::spawn(node.port, &node.dir, &argv);
                assert!(
                    process::wait_ready(node.port, &mut p, Duration::from_secs(10)),
                    "the old master did not restart"
                );
                node.process = Some(p);
            }
        }
        self.wait_ready(Duration::from_secs(30));
    }

    /// Brings the setup back to a master with a synced replica that every sentinel knows:
    /// a demoted master is made the new one's replica at once (the sentinels would do it
    /// on their next look, up to 10 s later). Call it before a failover that needs a
    /// replica to promote.
    ///
    /// # Panics
    /// When the setup does not settle within 30 s.
    pub fn heal(&self) {
        let master = self.master_port();
        for node in self
            .data
            .iter()
            .filter(|n| n.process.is_some() && n.port != master)
        {
            if role(node.port).as_deref() == Some("master") {
                let port = master.to_string();
                process::command(node.port, &["REPLICAOF", "127.0.0.1", &port]);
            }
        }
        self.wait_ready(Duration::from_secs(30));
    }

    /// Runs one command against the current master.
    pub fn master_command(&self, args: &[&str]) -> Option<String> {
        process::command(self.master_port(), args)
    }

    fn wait_new_master(&self, old: u16, limit: Duration) -> u16 {
        let deadline = Instant::now() + limit;
        loop {
            // Every live sentinel names the new master, and it says it is one.
            let named: Vec<Option<u16>> = self
                .sentinels
                .iter()
                .filter(|s| s.process.is_some())
                .map(|s| master_addr(s.port))
                .collect();
            if let Some(Some(port)) = named.first().copied()
                && port != old
                && named.iter().all(|n| *n == Some(port))
                && role(port).as_deref() == Some("master")
            {
                return port;
            }
            assert!(Instant::now() < deadline, "no failover within {limit:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every live replica in sync with the master, and every sentinel agreeing on the master
    /// and seeing the other sentinels and the live replicas.
    fn wait_ready(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if self.is_ready() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the sentinel setup did not settle within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn is_ready(&self) -> bool {
        let Some(master) = master_addr(self.sentinels[0].port) else {
            return false;
        };
        if role(master).as_deref() != Some("master") {
            return false;
        }
        let live_replicas = self
            .data
            .iter()
            .filter(|n| n.process.is_some() && n.port != master)
            .count();
        let synced = process::command(master, &["INFO", "replication"]).is_some_and(|info| {
            info.lines()
                .filter(|l| l.starts_with("slave") && l.contains("state=online"))
                .count()
                >= live_replicas
        });
        synced
            && self.sentinels.iter().all(|s| {
                master_addr(s.port) == Some(master)
                    && process::command(s.port, &["SENTINEL", "MASTER", MASTER_NAME]).is_some()
                    && sentinel_field(s.port, "num-other-sentinels") == Some(2)
                    && sentinel_field(s.port, "num-slaves").is_some_and(|n| n >= live_replicas)
            })
    }
}

/// The master's port as the sentinel on `port` reports it.
fn master_addr(port: u16) -> Option<u16> {
    let mut conn = redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .ok()?
        .get_connection_with_timeout(Duration::from_secs(1))
        .ok()?;
    let (_, master_port): (String, u16) = redis::cmd("SENTINEL")
        .arg("get-master-addr-by-name")
        .arg(MASTER_NAME)
        .query(&mut conn)
        .ok()?;
    Some(master_port)
}

/// A numeric field of `SENTINEL MASTER` on the sentinel at `port`.
fn sentinel_field(port: u16, field: &str) -> Option<usize> {
    let mut conn = redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .ok()?
        .get_connection_with_timeout(Duration::from_secs(1))
        .ok()?;
    let fields: Vec<String> = redis::cmd("SENTINEL")
        .arg("MASTER")
        .arg(MASTER_NAME)
        .query(&mut conn)
        .ok()?;
    fields
        .chunks(2)
        .find(|kv| kv[0] == field)
        .and_then(|kv| kv.get(1)?.parse().ok())
}

/// `master` or `slave`, from `ROLE` on the server at `port`.
fn role(port: u16) -> Option<String> {
    let mut conn = redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .ok()?
        .get_connection_with_timeout(Duration::from_secs(1))
        .ok()?;
    let role: Vec<redis::Value> = redis::cmd("ROLE").query(&mut conn).ok()?;
    match role.first()? {
        redis::Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

impl Drop for RedisSentinel {
    fn drop(&mut self) {
        for node in self.sentinels.iter_mut().chain(self.data.iter_mut()) {
            match node.process.take() {
                Some(p) => p.stop(false),
                None => {
                    let _ = std::fs::remove_dir_all(&node.dir);
                }
            }
        }
    }
}

impl std::fmt::Debug for RedisSentinel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSentinel")
            .field(
                "data",
                &self.data.iter().map(|n| n.port).collect::<Vec<_>>(),
            )
            .field(
                "sentinels",
                &self.sentinels.iter().map(|n| n.port).collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sentinels_fail_over_when_asked() {
        let setup = RedisSentinel::start();
        let first = setup.master_port();
        assert_eq!(setup.sentinel_urls().len(), 3);
        let second = setup.failover();
        assert_ne!(first, second);
    }

    #[test]
    fn the_sentinels_promote_the_replica_when_the_master_dies() {
        let mut setup = RedisSentinel::start();
        let first = setup.master_port();
        let second = setup.kill_master();
        assert_ne!(first, second);
        setup.restart_old_master();
        assert_eq!(role(first).as_deref(), Some("slave"));
    }
}
