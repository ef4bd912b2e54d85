//! Failing a master over on a [`RedisCluster::with_replicas`]: find the master of a key, kill
//! it, wait for its replica to take its slots, bring the old master back as a replica, and
//! hold a replica's replication back (so a test can show what an unreplicated write loses).

use std::time::{Duration, Instant};

use crate::RedisCluster;
use crate::process;

/// One line of `CLUSTER NODES`: who a node is, what it is, which slots it serves.
#[derive(Debug)]
struct NodeLine {
    port: u16,
    master: bool,
    failed: bool,
    slots: Vec<(u16, u16)>,
}

fn parse_nodes(text: &str) -> Vec<NodeLine> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _id = fields.next()?;
            let addr = fields.next()?;
            let flags = fields.next()?;
            let port = addr.split('@').next()?.rsplit(':').next()?.parse().ok()?;
            let slots = fields
                .skip(5)
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| match s.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => s.parse().ok().map(|n| (n, n)),
                })
                .collect();
            Some(NodeLine {
                port,
                master: flags.split(',').any(|f| f == "master"),
                failed: flags.split(',').any(|f| f == "fail" || f == "fail?"),
                slots,
            })
        })
        .collect()
}

/// The cluster slot of `key`: CRC16 (XMODEM) of its hash tag (the part between the first `{`
/// and the next `}`, when not empty) or of the whole key, modulo 16384 — as Redis computes it.
pub fn key_slot(key: &str) -> u16 {
    let bytes = key.as_bytes();
    let hashed = bytes
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &bytes[open + 1..];
            let close = rest.iter().position(|&b| b == b'}')?;
            (close > 0).then(|| &rest[..close])
        })
        .unwrap_or(bytes);
    let mut crc: u16 = 0;
    for &b in hashed {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 == 0 {
                crc << 1
            } else {
                (crc << 1) ^ 0x1021
            };
        }
    }
    crc % 16384
}

impl RedisCluster {
    /// The slot of `key` as node 0 (or the first running node) computes it (`CLUSTER
    /// KEYSLOT`); [`key_slot`] computes the same without a round trip.
    pub fn slot_of(&self, key: &str) -> Option<u16> {
        self.live()
            .find_map(|n| process::command(n.port, &["CLUSTER", "KEYSLOT", key]))
            .and_then(|r| r.trim_start_matches(':').parse().ok())
    }

    /// Restarts every killed node as a replica and lets every held-back replica sync again,
    /// so a test starts from a whole, synced cluster.
    pub fn heal(&mut self) {
        for i in 0..self.nodes.len() {
            if self.nodes[i].process.is_none() {
                self.restart_node(i);
            }
            self.resume_replication(i);
        }
        self.wait_replicas_synced(Duration::from_secs(30));
    }

    /// The index of the node serving `slot` as a master, as node `viewer` sees it (`None`
    /// when that node does not answer or knows no healthy master for the slot).
    fn master_seen_by(&self, viewer: usize, slot: u16) -> Option<usize> {
        let text = process::command(self.nodes[viewer].port, &["CLUSTER", "NODES"])?;
        let line = parse_nodes(&text).into_iter().find(|l| {
            l.master && !l.failed && l.slots.iter().any(|&(a, b)| (a..=b).contains(&slot))
        })?;
        self.nodes.iter().position(|n| n.port == line.port)
    }

    /// The slot ranges node `node` serves as a master, as it sees itself.
    pub fn slots_served_by(&self, node: usize) -> Vec<(u16, u16)> {
        let port = self.nodes[node].port;
        process::command(port, &["CLUSTER", "NODES"])
            .map(|text| parse_nodes(&text))
            .unwrap_or_default()
            .into_iter()
            .find(|l| l.port == port && l.master)
            .map(|l| l.slots)
            .unwrap_or_default()
    }

    /// The index of the master serving `slot`, as the running nodes agree on it.
    ///
    /// # Panics
    /// When the running nodes do not agree within 10 s.
    pub fn master_of_slot(&self, slot: u16) -> usize {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(master) = self.agreed_master(slot) {
                return master;
            }
            assert!(
                Instant::now() < deadline,
                "no agreed master for slot {slot}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn agreed_master(&self, slot: u16) -> Option<usize> {
        let live: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].process.is_some())
            .collect();
        let first = self.master_seen_by(*live.first()?, slot)?;
        live.iter()
            .all(|&i| self.master_seen_by(i, slot) == Some(first))
            .then_some(first)
    }

    /// The replica of master `master` (the node whose `INFO replication` names its port).
    pub fn replica_of(&self, master: usize) -> Option<usize> {
        let port = self.nodes[master].port.to_string();
        (0..self.nodes.len()).find(|&i| {
            i != master
                && process::command(self.nodes[i].port, &["INFO", "replication"]).is_some_and(
                    |info| {
                        info.lines()
                            .any(|l| l.trim() == format!("master_port:{port}"))
                    },
                )
        })
    }

    /// Kills master `master` (`SIGKILL`, no goodbye), waits until the running nodes agree
    /// that another node serves `slot` (one `master` served) and report `cluster_state:ok`,
    /// and returns that node's index and how long the promotion took from the kill.
    ///
    /// # Panics
    /// When no replica took over within 30 s.
    pub fn fail_over(&mut self, master: usize, slot: u16) -> (usize, Duration) {
        let killed = Instant::now();
        self.stop_node(master);
        let deadline = killed + Duration::from_secs(30);
        let promoted = loop {
            match self.agreed_master(slot) {
                Some(m) if m != master => break m,
                _ => {}
            }
            assert!(
                Instant::now() < deadline,
                "no replica of node {master} was promoted within 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        self.wait_ok(Duration::from_secs(30));
        (promoted, killed.elapsed())
    }

    /// Restarts node `i` (a killed former master) with its old identity and waits until it
    /// rejoined as a replica and finished syncing from its new master.
    ///
    /// # Panics
    /// When it is not a synced replica within 30 s.
    pub fn rejoin_as_replica(&mut self, i: usize) {
        self.restart_node(i);
        self.wait_replicas_synced(Duration::from_secs(30));
    }

    /// Waits until every running replica's link to its master is up and every running
    /// master has as many connected replicas as it has running replicas.
    pub(crate) fn wait_replicas_synced(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let synced = self.live().all(|n| {
                process::command(n.port, &["INFO", "replication"]).is_some_and(|info| {
                    info.contains("role:master") || info.contains("master_link_status:up")
                })
            });
            if synced {
                return;
            }
            assert!(Instant::now() < deadline, "the replicas did not sync");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Cuts master `master`'s replica off from it and keeps it off: the replica is given a
    /// password the master does not have (`masterauth`), so its link is dropped and every
    /// reconnection fails its handshake. Writes acknowledged from now on exist on the master
    /// only, as in the instant before a master dies with writes not yet shipped — the window
    /// `WAIT` closes. The replica stays eligible for promotion for 30 s
    /// (`cluster-replica-validity-factor`). Returns the replica's index; a restart of the
    /// replica, or [`resume_replication`](Self::resume_replication), undoes it.
    ///
    /// # Panics
    /// When `master` has no replica or the link does not go down within 10 s.
    pub fn hold_back_replication(&self, master: usize) -> usize {
        let replica = self.replica_of(master).expect("the master has a replica");
        let port = self.nodes[replica].port;
        let set = process::command(port, &["CONFIG", "SET", "masterauth", "not-the-password"]);
        assert_eq!(set.as_deref(), Some("+OK"), "CONFIG SET masterauth");
        process::command(port, &["CLIENT", "KILL", "TYPE", "master"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !process::command(self.nodes[master].port, &["INFO", "replication"])
            .is_some_and(|info| info.contains("connected_slaves:0"))
        {
            assert!(Instant::now() < deadline, "the replica stayed connected");
            std::thread::sleep(Duration::from_millis(20));
        }
        replica
    }

    /// Undoes [`hold_back_replication`](Self::hold_back_replication) on node `replica`.
    pub fn resume_replication(&self, replica: usize) {
        process::command(
            self.nodes[replica].port,
            &["CONFIG", "SET", "masterauth", ""],
        );
    }
}
