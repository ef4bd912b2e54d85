//! Health probes: is the backend answering, how fast, how full.
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

use crate::backend::{Backend, BackendKind};

/// What [`check`] found. Serialises as the original system's probe body:
/// `{"status", "backend", "latencyMs", "usedMemory", "keyCount", "connected"}` when healthy and
/// `{"status": "unhealthy", "backend", "error", "connected": false}` otherwise.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HealthReport {
    /// `healthy` or `unhealthy`.
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
    /// Why the backend is unhealthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn kind_str<S: serde::Serializer>(k: &BackendKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

impl HealthReport {
    /// True when the backend answered.
    pub fn is_healthy(&self) -> bool {
        self.connected
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
        error: Some(error),
    };
    let latency = match backend.ping().await {
        Ok(latency) => latency,
        Err(e) => return unhealthy(e.to_string()),
    };
    match backend.info().await {
        Ok(info) => HealthReport {
            status: "healthy",
            backend: kind,
            connected: true,
            latency_ms: Some(millis(latency)),
            used_memory: Some(info.used_memory_human),
            key_count: Some(info.key_count),
            error: None,
        },
        Err(e) => unhealthy(e.to_string()),
    }
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}
