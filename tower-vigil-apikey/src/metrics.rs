//! Metric names, recorded through the [`metrics`] facade: install any `metrics` recorder
//! (Prometheus exporter, statsd, ...) and these counters appear.
//!
//! ```
//! use tower_vigil_apikey::metrics;
//!
//! assert_eq!(metrics::STORE_LOOKUPS, "vigil_apikey_store_lookups_total");
//! assert!(metrics::ALL.iter().all(|name| name.starts_with("vigil_apikey_")));
//! ```

/// Requests answered by the in-process cache (positive or negative).
pub const L1_HITS: &str = "vigil_apikey_l1_hits_total";
/// Lookups answered by the shared backend cache.
pub const L2_HITS: &str = "vigil_apikey_l2_hits_total";
/// Lookups answered by a cached "no such key" (in either tier).
pub const NEGATIVE_HITS: &str = "vigil_apikey_negative_hits_total";
/// Invalidations issued through [`ApiKeyCache::invalidate_hash`](crate::ApiKeyCache::invalidate_hash).
pub const INVALIDATIONS: &str = "vigil_apikey_invalidations_total";
/// Lookups that reached the [`KeyStore`](crate::KeyStore).
pub const STORE_LOOKUPS: &str = "vigil_apikey_store_lookups_total";
/// Backend calls that failed (the failure policy answered instead).
pub const BACKEND_ERRORS: &str = "vigil_apikey_backend_errors_total";
/// Keys served from the in-process cache past their freshness because the backend failed.
pub const STALE_SERVED: &str = "vigil_apikey_stale_served_total";

/// Every counter this crate records.
pub const ALL: [&str; 7] = [
    L1_HITS,
    L2_HITS,
    NEGATIVE_HITS,
    INVALIDATIONS,
    STORE_LOOKUPS,
    BACKEND_ERRORS,
    STALE_SERVED,
];

pub(crate) fn inc(name: &'static str) {
    metrics::counter!(name).increment(1);
}
