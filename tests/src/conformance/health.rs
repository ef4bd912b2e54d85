//! The health probe on a live backend.

use std::time::Duration;

use tower_vigil_core::{Backend, health};

use super::{LONG, b};

/// Health: connected, with a latency, memory figure and key count.
pub async fn health_reports_a_live_backend<B: Backend>(backend: B) {
    backend.set("present", b("x"), LONG).await.unwrap();
    let ping = backend.ping().await.unwrap();
    assert!(ping < Duration::from_secs(5));
    let info = backend.info().await.unwrap();
    assert!(info.key_count >= 1);
    assert!(info.used_memory > 0);
    assert!(!info.used_memory_human.is_empty());
    let report = health::check(&backend).await;
    assert!(report.is_healthy(), "{report:?}");
    assert_eq!(report.backend, backend.kind());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["status"], "healthy");
    assert_eq!(json["connected"], true);
    assert!(json["latencyMs"].is_number());
    assert!(json["usedMemory"].is_string());
    assert!(json["keyCount"].is_number());
}
