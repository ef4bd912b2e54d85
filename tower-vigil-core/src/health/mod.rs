//! Health probes: is the backend answering, how fast, how full, and can it lose state that
//! guarantees depend on.
//!
//! Every tower-vigil key has a TTL, so a full Redis whose `maxmemory-policy` evicts (any
//! `allkeys-*` **or `volatile-*`** policy) may drop a lock (a second holder), an idempotency
//! record (a second execution) or a session (a logout). The probe reports each server's
//! `maxmemory`, policy and evictions, and answers `degraded` with a warning saying what can
//! break and what to set: `maxmemory-policy noeviction` with enough memory. A full Redis then
//! refuses writes (`OOM`), which every layer answers per its failure policy instead of losing
//! state silently. On a cluster, each master is checked. The memory backend always evicts at its
//! byte budget (it has no `noeviction` mode); it is warned about once it has evicted.
//!
//! ```
//! use tower_vigil_core::{MemoryBackend, health};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let report = health::check(&MemoryBackend::new()).await;
//! assert!(report.connected);
//! assert_eq!(report.backend.as_str(), "memory");
//! println!("{}", serde_json::to_string(&report).unwrap());
//! # }
//! ```

use std::time::Duration;

use serde::Serialize;

mod warning;

use self::warning::warnings;
pub use self::warning::{EVICTED_KEYS, EVICTION_POLICY, HealthWarning};
use crate::backend::{Backend, BackendInfo, BackendKind, NodeMemory};

/// What [`check`] found. Serialises as the original system's probe body:
/// `{"status", "backend", "latencyMs", "usedMemory", "keyCount", "connected"}` when healthy,
/// plus `maxmemory`, `evictionPolicy`, `evictedKeys` and `nodes` (one [`NodeMemory`] per
/// server, cluster master or memory backend) when the backend reports them, and `warnings`
/// with `"status": "degraded"` when it can evict state guarantees depend on;
/// `{"status": "unhealthy", "backend", "error", "connected": false}` when it does not answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HealthReport {
    /// `healthy`, `degraded` (answering, with [`warnings`](Self::warnings)) or `unhealthy`.
    pub status: &'static str,
    /// Which backend answered.
    #[serde(serialize_with = "kind_str")]
    pub backend: BackendKind,
    /// Whether the backend answered a ping.
    pub connected: bool,
    /// Round-trip time of the ping, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Used memory, human-readable as `INFO memory` gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_memory: Option<String>,
    /// Keys stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_count: Option<u64>,
    /// The memory limit in bytes, summed over the nodes; 0 when any node is unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maxmemory: Option<u64>,
    /// The eviction policy of every node, or `mixed` when they differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eviction_policy: Option<String>,
    /// Keys evicted so far, summed over the nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evicted_keys: Option<u64>,
    /// Each node's figures (one for a server or the memory backend, one per cluster master).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeMemory>,
    /// What can break, and what to change; non-empty makes the status `degraded`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<HealthWarning>,
    /// Why the backend is unhealthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn kind_str<S: serde::Serializer>(k: &BackendKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

impl HealthReport {
    /// True when the backend answered (`healthy` or `degraded`: a warning does not stop it
    /// serving).
    pub fn is_healthy(&self) -> bool {
        self.connected
    }

    /// True when the backend answered with warnings.
    pub fn is_degraded(&self) -> bool {
        self.connected && !self.warnings.is_empty()
    }
}

/// Pings the backend and reads its info. Never fails: a backend that does not answer (within
/// its own per-call timeout) gives an unhealthy report.
pub async fn check<B: Backend>(backend: &B) -> HealthReport {
    let kind = backend.kind();
    let unhealthy = |error: String| HealthReport {
        status: "unhealthy",
        backend: kind,
        connected: false,
        latency_ms: None,
        used_memory: None,
        key_count: None,
        maxmemory: None,
        eviction_policy: None,
        evicted_keys: None,
        nodes: Vec::new(),
        warnings: Vec::new(),
        error: Some(error),
    };
    let latency = match backend.ping().await {
        Ok(latency) => latency,
        Err(e) => return unhealthy(e.to_string()),
    };
    match backend.info().await {
        Ok(info) => answered(kind, latency, info),
        Err(e) => unhealthy(e.to_string()),
    }
}

fn answered(kind: BackendKind, latency: Duration, info: BackendInfo) -> HealthReport {
    let nodes = info.nodes;
    let warnings = warnings(kind, &nodes);
    let known = !nodes.is_empty();
    let maxmemory = nodes
        .iter()
        .try_fold(0u64, |sum, n| {
            (n.max_memory > 0).then(|| sum.saturating_add(n.max_memory))
        })
        .unwrap_or(0);
    let policy = nodes.first().map(|first| {
        if nodes
            .iter()
            .all(|n| n.eviction_policy == first.eviction_policy)
        {
            first.eviction_policy.to_string()
        } else {
            "mixed".to_owned()
        }
    });
    HealthReport {
        status: if warnings.is_empty() {
            "healthy"
        } else {
            "degraded"
        },
        backend: kind,
        connected: true,
        latency_ms: Some(millis(latency)),
        used_memory: Some(info.used_memory_human),
        key_count: Some(info.key_count),
        maxmemory: known.then_some(maxmemory),
        eviction_policy: policy,
        evicted_keys: known.then(|| nodes.iter().map(|n| n.evicted_keys).sum()),
        nodes,
        warnings,
        error: None,
    }
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::EvictionPolicy;

    fn node(name: &str, max: u64, policy: &str) -> NodeMemory {
        NodeMemory::new(name, 1 << 20, max, EvictionPolicy::parse(policy))
    }

    fn report(kind: BackendKind, nodes: Vec<NodeMemory>) -> HealthReport {
        let info = nodes
            .into_iter()
            .fold(BackendInfo::new(1 << 20, 3), BackendInfo::with_node);
        answered(kind, Duration::from_millis(1), info)
    }

    #[test]
    fn an_evicting_policy_with_a_limit_degrades_and_says_what_to_set() {
        for policy in [
            "allkeys-lru",
            "volatile-ttl",
            "volatile-lru",
            "allkeys-random",
        ] {
            let r = report(BackendKind::Redis, vec![node("a:1", 4 << 20, policy)]);
            assert_eq!(r.status, "degraded", "{policy}");
            assert!(r.is_healthy() && r.is_degraded());
            let w = &r.warnings[0];
            assert_eq!((w.code, w.node.as_str()), (EVICTION_POLICY, "a:1"));
            assert!(w.message.contains(policy), "{}", w.message);
            assert!(w.message.contains("noeviction"), "{}", w.message);
            assert!(w.message.contains("idempotency"), "{}", w.message);
            let json = serde_json::to_value(&r).unwrap();
            assert_eq!(json["evictionPolicy"], policy);
            assert_eq!(json["maxmemory"], 4 << 20);
            assert_eq!(json["warnings"][0]["code"], "eviction-policy");
            assert_eq!(json["nodes"][0]["evictionPolicy"], policy);
        }
    }

    #[test]
    fn noeviction_or_no_limit_is_healthy() {
        let r = report(BackendKind::Redis, vec![node("a:1", 4 << 20, "noeviction")]);
        assert_eq!((r.status, r.warnings.len()), ("healthy", 0));
        let r = report(BackendKind::Redis, vec![node("a:1", 0, "allkeys-lru")]);
        assert_eq!((r.status, r.warnings.len()), ("healthy", 0));
        assert_eq!(r.maxmemory, Some(0));
        // A backend that reports no nodes: no memory fields at all.
        let json = serde_json::to_value(report(BackendKind::Redis, vec![])).unwrap();
        assert!(json.get("maxmemory").is_none() && json.get("warnings").is_none());
    }

    #[test]
    fn one_unsafe_master_degrades_a_cluster() {
        let r = report(
            BackendKind::RedisCluster,
            vec![
                node("a:1", 4 << 20, "noeviction"),
                node("b:2", 4 << 20, "allkeys-lru"),
                node("c:3", 4 << 20, "noeviction"),
            ],
        );
        assert_eq!(r.status, "degraded");
        assert_eq!(r.eviction_policy.as_deref(), Some("mixed"));
        assert_eq!(r.maxmemory, Some(12 << 20));
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].node, "b:2");
    }

    #[test]
    fn the_memory_backend_is_warned_about_once_it_has_evicted() {
        let fresh = NodeMemory::new("memory", 10, 64 << 10, EvictionPolicy::ConcernFairShare);
        let r = report(BackendKind::Memory, vec![fresh.clone()]);
        assert_eq!(r.status, "healthy");
        assert_eq!(r.eviction_policy.as_deref(), Some("concern-fair-share"));
        let r = report(BackendKind::Memory, vec![fresh.with_evicted_keys(3)]);
        assert_eq!(r.status, "degraded");
        assert_eq!(r.warnings[0].code, EVICTED_KEYS);
        assert!(r.warnings[0].message.contains("max_bytes"));
    }
}
