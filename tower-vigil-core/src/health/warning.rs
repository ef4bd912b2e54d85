//! [`HealthWarning`]: what can break although the backend answers, and what to set.

use serde::Serialize;

use crate::backend::{BackendKind, NodeMemory};

/// Something that can break although the backend answers. Serialises as
/// `{"code", "node", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct HealthWarning {
    /// [`EVICTION_POLICY`] or [`EVICTED_KEYS`].
    pub code: &'static str,
    /// The node it is about (`host:port`, or `memory`).
    pub node: String,
    /// What can break and what to set, for a human.
    pub message: String,
}

/// Warning code: a Redis node has a memory limit and a policy that evicts keys with a TTL.
pub const EVICTION_POLICY: &str = "eviction-policy";
/// Warning code: a node has evicted keys.
pub const EVICTED_KEYS: &str = "evicted-keys";

/// What a full store can break, for every warning.
const AT_STAKE: &str = "every tower-vigil key has a TTL, so an evicted lock can be taken by a \
    second holder, an evicted idempotency record lets a retry execute the request again, an \
    evicted session logs its user out, and an evicted rate-limit counter starts over";

/// The warnings `nodes` call for.
pub(super) fn warnings(kind: BackendKind, nodes: &[NodeMemory]) -> Vec<HealthWarning> {
    let mut out = Vec::new();
    for n in nodes {
        // The memory backend always evicts at its budget: warned about once it has.
        if n.can_evict() && kind != BackendKind::Memory {
            out.push(HealthWarning {
                code: EVICTION_POLICY,
                node: n.node.clone(),
                message: format!(
                    "{node} runs maxmemory-policy {policy} with maxmemory {max}: once full it \
                     evicts keys with a TTL; {AT_STAKE}. volatile-* policies evict them as \
                     readily as allkeys-*. Set maxmemory-policy noeviction (and give Redis \
                     enough memory): a full Redis then refuses writes, and each layer answers \
                     per its failure policy instead of losing state",
                    node = n.node,
                    policy = n.eviction_policy,
                    max = n.max_memory_human(),
                ),
            });
        }
        if n.evicted_keys > 0 {
            let fix = if kind == BackendKind::Memory {
                "raise the memory backend's max_bytes / max_entries, or use Redis with \
                 maxmemory-policy noeviction"
            } else {
                "set maxmemory-policy noeviction with enough memory (the count is kept until a \
                 restart or CONFIG RESETSTAT)"
            };
            out.push(HealthWarning {
                code: EVICTED_KEYS,
                node: n.node.clone(),
                message: format!(
                    "{node} has evicted {count} keys at its limit of {max} ({policy}); {AT_STAKE}: \
                     {fix}",
                    node = n.node,
                    count = n.evicted_keys,
                    max = n.max_memory_human(),
                    policy = n.eviction_policy,
                ),
            });
        }
    }
    out
}
