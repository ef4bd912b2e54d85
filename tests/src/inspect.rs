//! Looking inside a Redis from a test: every key under a prefix, on every node, with its TTL
//! and values — to prove that no secret is stored in plain text and that every key expires.
//!
//! SCAN is for tests only: the crates never enumerate keys.
//!
//! ```no_run
//! # async fn t() {
//! use tower_vigil_tests::{fixtures, inspect};
//!
//! let server = fixtures::shared_server();
//! let keys = inspect::dump(&[server.url()], "myprefix").await;
//! inspect::assert_no_secret(&keys, &[b"vg_live_secret".as_slice()]);
//! # }
//! ```

use redis::AsyncCommands as _;

/// One key as stored.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// The full key, prefix included.
    pub key: String,
    /// `PTTL` in milliseconds (-1: no TTL).
    pub ttl_ms: i64,
    /// The value: a string's bytes; a hash's fields and values in turn; a set's or sorted
    /// set's members.
    pub values: Vec<Vec<u8>>,
}

/// Every key matching `{prefix}:*` on the nodes at `urls` (one URL for a standalone server,
/// every master for a cluster). Keys that vanish mid-scan are skipped.
///
/// # Panics
/// When a node cannot be reached or a key holds a type tower-vigil never writes.
pub async fn dump(urls: &[String], prefix: &str) -> Vec<StoredKey> {
    let mut out = Vec::new();
    for url in urls {
        let client = redis::Client::open(url.as_str()).expect("valid url");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("connecting to a test node");
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{prefix}:*"))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .expect("SCAN");
            for key in keys {
                let kind: String = redis::cmd("TYPE")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
                    .expect("TYPE");
                let values: Vec<Vec<u8>> = match kind.as_str() {
                    "none" => continue,
                    "string" => vec![conn.get(&key).await.expect("GET")],
                    "hash" => redis::cmd("HGETALL")
                        .arg(&key)
                        .query_async(&mut conn)
                        .await
                        .expect("HGETALL"),
                    "set" => conn.smembers(&key).await.expect("SMEMBERS"),
                    "zset" => redis::cmd("ZRANGE")
                        .arg(&key)
                        .arg(0)
                        .arg(-1)
                        .query_async(&mut conn)
                        .await
                        .expect("ZRANGE"),
                    other => panic!("{key} holds a {other}, which tower-vigil never writes"),
                };
                let ttl_ms: i64 = redis::cmd("PTTL")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
                    .expect("PTTL");
                out.push(StoredKey {
                    key,
                    ttl_ms,
                    values,
                });
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
    }
    out
}

/// Fails when any of `secrets` appears in a key name or a value, or when a key has no TTL.
/// Returns how many keys were checked.
///
/// # Panics
/// On the first offending key.
pub fn assert_no_secret(keys: &[StoredKey], secrets: &[&[u8]]) -> usize {
    for k in keys {
        assert!(k.ttl_ms > 0 || k.ttl_ms == -2, "{} has no TTL", k.key);
        for secret in secrets {
            assert!(!secret.is_empty(), "an empty secret matches everything");
            assert!(
                !contains(k.key.as_bytes(), secret),
                "a secret appears in the key name {}",
                k.key
            );
            assert!(
                !k.values.iter().any(|v| contains(v, secret)),
                "a secret appears in the value of {}",
                k.key
            );
        }
    }
    keys.len()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
