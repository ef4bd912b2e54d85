//! Every metric this crate records, with its description, through the [`metrics`] facade:
//! install any `metrics` recorder (Prometheus exporter, statsd, ...) and these appear.
//! [`SessionManagerLayerBuilder::build`](crate::SessionManagerLayerBuilder::build) calls [`describe`], so a `/metrics`
//! exporter prints a `# HELP` line for each.
//!
//! Labels are named as in every tower-vigil crate: `kind` (a backend error's kind, or a
//! cross-site rejection's reason), `op` (the store call: `load`, `create`, `write`, `destroy`,
//! `index_add`, `index_remove`, `index_members`).
//!
//! ```
//! use tower_vigil_session::metrics;
//!
//! assert_eq!(metrics::LOADS_TOTAL, "vigil_session_loads_total");
//! assert!(metrics::ALL.iter().all(|(name, _)| name.starts_with("vigil_session_")));
//! ```

use std::future::Future;
use tower_vigil_core::metrics::Timer;

use tower_vigil_core::BackendResult;

/// Sessions read from the store for a request.
pub const LOADS_TOTAL: &str = "vigil_session_loads_total";
/// Sessions created or changed by a request's save.
pub const SAVES_TOTAL: &str = "vigil_session_saves_total";
/// Session TTLs extended (a save with no change, due for refresh).
pub const REFRESHES_TOTAL: &str = "vigil_session_refreshes_total";
/// Sessions a request ended (a logout, or the old id of a cycle).
pub const DESTROYS_TOTAL: &str = "vigil_session_destroys_total";
/// Sessions ended through [`SessionAdmin`](crate::SessionAdmin) (revoke one or all of a
/// user's sessions).
pub const REVOCATIONS_TOTAL: &str = "vigil_session_revocations_total";
/// Store calls that failed (labels `op`, `kind`).
pub const BACKEND_ERRORS_TOTAL: &str = "vigil_session_backend_errors_total";
/// State-changing requests the [`CrossSiteLayer`](crate::CrossSiteLayer) refused (label
/// `kind`: the rejection's reason, e.g. `cross_site`, `untrusted_origin`, `bad_csrf_token`).
pub const CROSS_SITE_REJECTIONS_TOTAL: &str = "vigil_session_cross_site_rejections_total";
/// Seconds each store call took, failed ones included (label `op`).
pub const BACKEND_DURATION_SECONDS: &str = "vigil_session_backend_duration_seconds";

/// Every metric this crate records, with the description [`describe`] registers for it.
pub const ALL: [(&str, &str); 8] = [
    (LOADS_TOTAL, "Sessions loaded from the store."),
    (SAVES_TOTAL, "Sessions created or changed by a save."),
    (REFRESHES_TOTAL, "Session TTLs extended."),
    (
        DESTROYS_TOTAL,
        "Sessions ended by a request (logout or id cycle).",
    ),
    (
        REVOCATIONS_TOTAL,
        "Sessions revoked through the session manager.",
    ),
    (BACKEND_ERRORS_TOTAL, "Session store calls that failed."),
    (BACKEND_DURATION_SECONDS, "Duration of session store calls."),
    (
        CROSS_SITE_REJECTIONS_TOTAL,
        "State-changing requests refused as possibly cross-site, by kind.",
    ),
];

/// Registers the description (and unit) of every metric in [`ALL`] with the current recorder,
/// so an exporter prints its `# HELP` line. Building a layer calls it; call it yourself when
/// you install the recorder after building layers. Idempotent.
pub fn describe() {
    tower_vigil_core::metrics::describe(&ALL);
}

/// The store calls [`observed`] names in its `op` label.
pub(crate) mod op {
    use super::{BACKEND_DURATION_SECONDS, Timer};

    pub(crate) const LOAD: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "load");
    pub(crate) const CREATE: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "create");
    pub(crate) const WRITE: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "write");
    pub(crate) const DESTROY: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "destroy");
    pub(crate) const INDEX_ADD: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "index_add");
    pub(crate) const INDEX_REMOVE: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "index_remove");
    pub(crate) const INDEX_MEMBERS: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "index_members");
}

pub(crate) fn loaded() {
    metrics::counter!(LOADS_TOTAL).increment(1);
}

pub(crate) fn saved() {
    metrics::counter!(SAVES_TOTAL).increment(1);
}

pub(crate) fn refreshed() {
    metrics::counter!(REFRESHES_TOTAL).increment(1);
}

pub(crate) fn destroyed() {
    metrics::counter!(DESTROYS_TOTAL).increment(1);
}

pub(crate) fn cross_site_refused(kind: &'static str) {
    metrics::counter!(CROSS_SITE_REJECTIONS_TOTAL, "kind" => kind).increment(1);
}

pub(crate) fn revoked(n: u64) {
    metrics::counter!(REVOCATIONS_TOTAL).increment(n);
}

/// Runs one store call: records how long it took under `op` and counts it when it fails.
/// Every store call goes through here (the object-safe store view), so a failure is counted
/// once, where it happened, whatever the caller then makes of it.
pub(crate) async fn observed<T>(
    op: &'static Timer,
    call: impl Future<Output = BackendResult<T>>,
) -> BackendResult<T> {
    let out = tower_vigil_core::metrics::timed(op, call).await;
    if let Err(e) = &out {
        metrics::counter!(BACKEND_ERRORS_TOTAL, "op" => op.op(), "kind" => e.kind().to_string())
            .increment(1);
    }
    out
}
