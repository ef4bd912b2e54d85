//! Every metric this crate records, with its description, through the [`metrics`] facade:
//! install any `metrics` recorder (Prometheus exporter, statsd, ...) and these appear.
//! Building an [`ApiKeyCache`](crate::ApiKeyCache) calls [`describe`], so a `/metrics`
//! exporter prints a `# HELP` line for each.
//!
//! Labels are named as in every tower-vigil crate: `kind` (a backend error's kind), `op` (the
//! call timed: `read`, `fill`, `revoke`, `publish` on the backend, `lookup` on the
//! [`KeyStore`](crate::KeyStore)).
//!
//! ```
//! use tower_vigil_apikey::metrics;
//!
//! assert_eq!(metrics::STORE_LOOKUPS_TOTAL, "vigil_apikey_store_lookups_total");
//! assert!(metrics::ALL.iter().all(|(name, _)| name.starts_with("vigil_apikey_")));
//! ```

use std::future::Future;
use tower_vigil_core::metrics::Timer;

/// Requests answered by the in-process cache (positive or negative).
pub const L1_HITS_TOTAL: &str = "vigil_apikey_l1_hits_total";
/// Lookups answered by the shared backend cache.
pub const L2_HITS_TOTAL: &str = "vigil_apikey_l2_hits_total";
/// Lookups answered by a cached "no such key" (in either tier).
pub const NEGATIVE_HITS_TOTAL: &str = "vigil_apikey_negative_hits_total";
/// Invalidations issued through [`ApiKeyCache::invalidate_hash`](crate::ApiKeyCache::invalidate_hash).
pub const INVALIDATIONS_TOTAL: &str = "vigil_apikey_invalidations_total";
/// Lookups that reached the [`KeyStore`](crate::KeyStore).
pub const STORE_LOOKUPS_TOTAL: &str = "vigil_apikey_store_lookups_total";
/// Backend calls that failed (the failure policy answered instead; label `kind`).
pub const BACKEND_ERRORS_TOTAL: &str = "vigil_apikey_backend_errors_total";
/// Keys served from the in-process cache past their freshness because the backend failed.
pub const STALE_SERVED_TOTAL: &str = "vigil_apikey_stale_served_total";
/// Seconds each backend call and key-store lookup took, failed ones included (label `op`).
pub const BACKEND_DURATION_SECONDS: &str = "vigil_apikey_backend_duration_seconds";

/// Every metric this crate records, with the description [`describe`] registers for it.
pub const ALL: [(&str, &str); 8] = [
    (
        L1_HITS_TOTAL,
        "API-key lookups answered by the in-process cache.",
    ),
    (
        L2_HITS_TOTAL,
        "API-key lookups answered by the shared backend cache.",
    ),
    (
        NEGATIVE_HITS_TOTAL,
        "API-key lookups answered by a cached no-such-key entry.",
    ),
    (INVALIDATIONS_TOTAL, "API-key cache invalidations issued."),
    (
        STORE_LOOKUPS_TOTAL,
        "API-key lookups that reached the key store.",
    ),
    (BACKEND_ERRORS_TOTAL, "API-key backend calls that failed."),
    (
        STALE_SERVED_TOTAL,
        "API keys served stale because the backend failed.",
    ),
    (
        BACKEND_DURATION_SECONDS,
        "Duration of API-key backend calls and key-store lookups.",
    ),
];

/// Registers the description (and unit) of every metric in [`ALL`] with the current recorder,
/// so an exporter prints its `# HELP` line. Building a cache calls it; call it yourself when
/// you install the recorder after building caches. Idempotent.
pub fn describe() {
    tower_vigil_core::metrics::describe(&ALL);
}

/// The calls [`timed`] names in its `op` label.
pub(crate) mod op {
    use super::{BACKEND_DURATION_SECONDS, Timer};

    pub(crate) const READ: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "read");
    pub(crate) const FILL: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "fill");
    pub(crate) const REVOKE: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "revoke");
    pub(crate) const PUBLISH: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "publish");
    pub(crate) const LOOKUP: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "lookup");
}

pub(crate) fn inc(name: &'static str) {
    metrics::counter!(name).increment(1);
}

/// Counts one failed backend call, by the error's kind.
pub(crate) fn backend_error(kind: String) {
    metrics::counter!(BACKEND_ERRORS_TOTAL, "kind" => kind).increment(1);
}

/// Runs one backend or key-store call, recording how long it took under `op`.
pub(crate) async fn timed<T>(op: &'static Timer, call: impl Future<Output = T>) -> T {
    tower_vigil_core::metrics::timed(op, call).await
}
