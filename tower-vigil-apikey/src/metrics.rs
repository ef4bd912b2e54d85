//! Metric names, recorded through the [`metrics`] facade.

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

pub(crate) fn inc(name: &'static str) {
    metrics::counter!(name).increment(1);
}
