//! Counter names, through the `metrics` facade: install any `metrics` recorder (Prometheus
//! exporter, ...) and they appear.
//!
//! ```
//! use tower_vigil_ratelimit::layer::metrics;
//!
//! assert_eq!(metrics::LIMITED_TOTAL, "vigil_ratelimit_limited_total");
//! ```

/// Requests admitted (label `shadow`: `true` when in shadow mode).
pub const ALLOWED_TOTAL: &str = "vigil_ratelimit_allowed_total";
/// Requests over a limit (labels `policy`: the first denying policy, `shadow`).
pub const LIMITED_TOTAL: &str = "vigil_ratelimit_limited_total";
/// Store calls that failed or timed out (labels `failure_policy`, `kind`).
pub const BACKEND_ERRORS_TOTAL: &str = "vigil_ratelimit_backend_errors_total";
/// Requests let through without a decision because the store failed (and no local fallback
/// decided): with [`ALLOWED_TOTAL`], [`LIMITED_TOTAL`] and [`UNAVAILABLE_TOTAL`], every
/// request with a key is counted exactly once. [`BACKEND_ERRORS_TOTAL`] is no substitute: it
/// also counts failed refunds and store failures a local fallback then decided.
pub const FAILED_OPEN_TOTAL: &str = "vigil_ratelimit_failed_open_total";
/// Requests answered 503 because the store failed under `FailurePolicy::Closed`.
pub const UNAVAILABLE_TOTAL: &str = "vigil_ratelimit_unavailable_total";
/// Denials answered from the in-process deny cache, without a store call.
pub const DENY_CACHE_HITS_TOTAL: &str = "vigil_ratelimit_deny_cache_hits_total";
/// Requests whose key could not be extracted (label `action`: `reject`, `allow`, `shared`).
pub const UNIDENTIFIED_TOTAL: &str = "vigil_ratelimit_unidentified_total";
