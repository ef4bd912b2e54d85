//! `info()`: used memory and key count (summed over the masters of a cluster), and each
//! server's `maxmemory`, `maxmemory-policy` and `evicted_keys`, so the health probe can warn
//! when a full Redis would evict locks and idempotency records.
//!
//! One plain `INFO` per server (its default sections include `memory` and `stats`; asking for
//! two sections at once needs Redis 7, and we support 6.2).

use redis::Value;
use redis::cluster_routing::{AggregateOp, MultipleNodeRoutingInfo, ResponsePolicy, RoutingInfo};

use super::RedisBackend;
use super::connection::Conn;
use crate::backend::{BackendInfo, BackendResult, EvictionPolicy, NodeMemory};
use crate::error::BackendError;

pub(crate) async fn info(backend: &RedisBackend) -> BackendResult<BackendInfo> {
    match &backend.conn {
        Conn::Standalone(_) => {
            let text: String = backend.query(&redis::cmd("INFO")).await?;
            let keys: u64 = backend.query(&redis::cmd("DBSIZE")).await?;
            let node = node_memory(&standalone_name(backend), &text)?;
            let mut info = BackendInfo::new(node.used_memory, keys);
            if let Some(human) = field(&text, "used_memory_human") {
                info.used_memory_human = human.to_owned();
            }
            Ok(info.with_node(node))
        }
        Conn::Cluster(conn) => {
            let mut c = conn.current();
            let reply = backend
                .bounded(c.route_command(
                    redis::cmd("INFO"),
                    RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None)),
                ))
                .await?;
            let mut nodes = Vec::new();
            for (i, (name, text)) in texts(reply).into_iter().enumerate() {
                let name = name.unwrap_or_else(|| format!("master {i}"));
                nodes.push(node_memory(&name, &text)?);
            }
            nodes.sort_by(|a, b| a.node.cmp(&b.node));
            let mut c = conn.current();
            let keys = backend
                .bounded(c.route_command(
                    redis::cmd("DBSIZE"),
                    RoutingInfo::MultiNode((
                        MultipleNodeRoutingInfo::AllMasters,
                        Some(ResponsePolicy::Aggregate(AggregateOp::Sum)),
                    )),
                ))
                .await?;
            let keys = match keys {
                Value::Int(n) => u64::try_from(n).unwrap_or(0),
                other => {
                    return Err(BackendError::protocol(format!("DBSIZE answered {other:?}")));
                }
            };
            let used = nodes.iter().map(|n| n.used_memory).sum();
            Ok(nodes
                .into_iter()
                .fold(BackendInfo::new(used, keys), BackendInfo::with_node))
        }
    }
}

/// `host:port` of a standalone server, as configured, or `sentinel:<master name>`.
fn standalone_name(backend: &RedisBackend) -> String {
    match &backend.shared.pubsub {
        super::PubsubTarget::Nodes(clients) => clients.first().map_or_else(
            || "redis".to_owned(),
            |c| c.get_connection_info().addr().to_string(),
        ),
        super::PubsubTarget::Sentinel(t) => format!("sentinel:{}", t.master_name),
    }
}

/// The memory figures of one server from its `INFO` text. A server too old to report
/// `maxmemory_policy` is taken as unlimited and `noeviction` (Redis' defaults).
fn node_memory(name: &str, text: &str) -> BackendResult<NodeMemory> {
    let number = |k: &str| field(text, k).and_then(|v| v.parse::<u64>().ok());
    let used =
        number("used_memory").ok_or_else(|| BackendError::protocol("INFO has no used_memory"))?;
    let policy =
        field(text, "maxmemory_policy").map_or(EvictionPolicy::NoEviction, EvictionPolicy::parse);
    Ok(
        NodeMemory::new(name, used, number("maxmemory").unwrap_or(0), policy)
            .with_evicted_keys(number("evicted_keys").unwrap_or(0)),
    )
}

/// The INFO texts in a reply, with the node each came from when the reply says: one per
/// node (a map of address to text) or a single text.
fn texts(reply: Value) -> Vec<(Option<String>, String)> {
    match reply {
        Value::Map(entries) => entries
            .into_iter()
            .flat_map(|(k, v)| {
                let name = text(k);
                texts(v)
                    .into_iter()
                    .map(move |(inner, t)| (inner.or_else(|| name.clone()), t))
            })
            .collect(),
        Value::Array(items) | Value::Set(items) => items.into_iter().flat_map(texts).collect(),
        other => text(other).map(|t| vec![(None, t)]).unwrap_or_default(),
    }
}

fn text(v: Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Value::SimpleString(s) | Value::VerbatimString { text: s, .. } => Some(s),
        _ => None,
    }
}

/// The value of `name:value` in an INFO text.
fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k == name).then(|| v.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_info_fields() {
        let text = "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n";
        assert_eq!(field(text, "used_memory"), Some("1048576"));
        assert_eq!(field(text, "used_memory_human"), Some("1.00M"));
        assert_eq!(field(text, "used_memory_rss"), None);
    }

    #[test]
    fn collects_per_node_texts() {
        let reply = Value::Map(vec![
            (
                Value::SimpleString("a:1".into()),
                Value::BulkString(b"used_memory:10\r\n".to_vec()),
            ),
            (
                Value::SimpleString("b:2".into()),
                Value::VerbatimString {
                    format: redis::VerbatimFormat::Text,
                    text: "used_memory:5\r\n".into(),
                },
            ),
        ]);
        let texts = texts(reply);
        assert_eq!(texts.len(), 2);
        assert_eq!(texts[0].0.as_deref(), Some("a:1"));
        assert_eq!(texts[1].0.as_deref(), Some("b:2"));
    }

    #[test]
    fn reads_limit_policy_and_evictions() {
        let text = "# Memory\r\nused_memory:1048576\r\nmaxmemory:4194304\r\n\
                    maxmemory_policy:allkeys-lru\r\n# Stats\r\nevicted_keys:7\r\n";
        let node = node_memory("n:1", text).unwrap();
        assert_eq!(node.used_memory, 1 << 20);
        assert_eq!(node.max_memory, 4 << 20);
        assert_eq!(node.eviction_policy, EvictionPolicy::AllKeysLru);
        assert_eq!(node.evicted_keys, 7);
        assert!(node.can_evict());
        // An old server without the fields: Redis' defaults.
        let bare = node_memory("n:1", "used_memory:10\r\n").unwrap();
        assert!(!bare.can_evict());
        assert!(node_memory("n:1", "maxmemory:1\r\n").is_err());
    }
}
