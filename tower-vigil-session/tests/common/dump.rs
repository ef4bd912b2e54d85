//! What a backend holds under the test's prefix: SCAN on every Redis node (test-only; the
//! crate itself never scans), entry counts in memory.

use tower_vigil_core::{Backend, BackendKind, MemoryBackend, RedisBackend};
use tower_vigil_session::SessionStore;
use tower_vigil_tests::fixtures::{shared_cluster, shared_server};

/// A store a conformance case runs on.
pub trait Fixture: SessionStore {
    /// How many keys exist under this test's prefix.
    fn key_count(&self) -> usize;
    /// Every key under the prefix with its values (strings, hash fields and values, set
    /// members) where the backend can be enumerated from outside (Redis); panics on a key
    /// without a TTL.
    fn dump(&self) -> Option<Vec<(String, Vec<Vec<u8>>)>>;
}

impl Fixture for MemoryBackend {
    fn key_count(&self) -> usize {
        self.len()
    }

    fn dump(&self) -> Option<Vec<(String, Vec<Vec<u8>>)>> {
        None
    }
}

fn nodes(b: &RedisBackend) -> Vec<String> {
    match b.backend_kind() {
        BackendKind::RedisCluster => shared_cluster().urls(),
        _ => vec![shared_server().url()],
    }
}

/// Every key under the prefix on one node, with the connection to read it.
fn scan_node(url: &str, pattern: &str) -> (redis::Connection, Vec<String>) {
    let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
    let mut cursor = 0u64;
    let mut keys = Vec::new();
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query(&mut conn)
            .unwrap();
        keys.extend(batch);
        cursor = next;
        if cursor == 0 {
            return (conn, keys);
        }
    }
}

fn pattern(b: &RedisBackend) -> String {
    format!("{}:*", b.prefix().as_str())
}

// Blocking calls in an async test: fine here, nothing else runs on the test's thread meanwhile.
impl Fixture for RedisBackend {
    fn key_count(&self) -> usize {
        nodes(self)
            .iter()
            .map(|url| scan_node(url, &pattern(self)).1.len())
            .sum()
    }

    fn dump(&self) -> Option<Vec<(String, Vec<Vec<u8>>)>> {
        let mut out = Vec::new();
        for url in nodes(self) {
            let (mut c, keys) = scan_node(&url, &pattern(self));
            for k in keys {
                let pttl: i64 = redis::cmd("PTTL").arg(&k).query(&mut c).unwrap();
                assert!(pttl > 0 || pttl == -2, "{k} has no TTL");
                let ty: String = redis::cmd("TYPE").arg(&k).query(&mut c).unwrap();
                let values: Vec<Vec<u8>> = match ty.as_str() {
                    "hash" => redis::cmd("HGETALL").arg(&k).query(&mut c).unwrap(),
                    "set" => redis::cmd("SMEMBERS").arg(&k).query(&mut c).unwrap(),
                    "string" => vec![redis::cmd("GET").arg(&k).query(&mut c).unwrap()],
                    "none" => continue,
                    other => panic!("unexpected type {other} at {k}"),
                };
                out.push((k, values));
            }
        }
        Some(out)
    }
}
