//! `info()`: used memory and key count, summed over the masters of a cluster.

use redis::Value;
use redis::cluster_routing::{AggregateOp, MultipleNodeRoutingInfo, ResponsePolicy, RoutingInfo};

use super::RedisBackend;
use super::connection::Conn;
use crate::backend::{BackendInfo, BackendResult};
use crate::error::BackendError;

pub(crate) async fn info(backend: &RedisBackend) -> BackendResult<BackendInfo> {
    match &backend.conn {
        Conn::Standalone(_) => {
            let text: String = backend.query(redis::cmd("INFO").arg("memory")).await?;
            let keys: u64 = backend.query(&redis::cmd("DBSIZE")).await?;
            let used = field(&text, "used_memory")
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| BackendError::protocol("INFO memory has no used_memory"))?;
            let mut info = BackendInfo::new(used, keys);
            if let Some(human) = field(&text, "used_memory_human") {
                info.used_memory_human = human.to_owned();
            }
            Ok(info)
        }
        Conn::Cluster(conn) => {
            let mut c = conn.current();
            let reply = backend
                .bounded(c.route_command(
                    redis::cmd("INFO").arg("memory").clone(),
                    RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None)),
                ))
                .await?;
            let mut used = 0u64;
            for text in texts(reply) {
                used += field(&text, "used_memory")
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| BackendError::protocol("INFO memory has no used_memory"))?;
            }
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
            Ok(BackendInfo::new(used, keys))
        }
    }
}

/// The INFO texts in a reply: one per node (a map of address to text) or a single text.
fn texts(reply: Value) -> Vec<String> {
    match reply {
        Value::Map(entries) => entries.into_iter().flat_map(|(_, v)| texts(v)).collect(),
        Value::Array(items) | Value::Set(items) => items.into_iter().flat_map(texts).collect(),
        Value::BulkString(b) => vec![String::from_utf8_lossy(&b).into_owned()],
        Value::SimpleString(s) | Value::VerbatimString { text: s, .. } => vec![s],
        _ => Vec::new(),
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
        assert_eq!(texts(reply).len(), 2);
    }
}
