//! Every metric this crate records, with its description, through the `metrics` facade:
//! install any `metrics` recorder (Prometheus exporter, ...) and they appear. Building a layer
//! calls [`describe`], so a `/metrics` exporter prints a `# HELP` line for each.
//!
//! Labels are named as in every tower-vigil crate: `policy` (a rate-limit policy's name),
//! `failure_policy` (`open`, `closed`, `local`), `kind` (a backend error's kind), `op` (the
//! backend call: `acquire`, `refund`).
//!
//! ```
//! use tower_vigil_ratelimit::metrics;
//!
//! assert_eq!(metrics::LIMITED_TOTAL, "vigil_ratelimit_limited_total");
//! assert!(metrics::ALL.iter().all(|(name, _)| name.starts_with("vigil_ratelimit_")));
//! ```

use std::future::Future;
use tower_vigil_core::metrics::Timer;

use tower_vigil_core::{BackendError, FailurePolicy};

/// Requests admitted (label `shadow`: `true` when in shadow mode).
pub const ALLOWED_TOTAL: &str = "vigil_ratelimit_allowed_total";
/// Requests over a limit (labels `policy`: the first denying policy, `shadow`).
pub const LIMITED_TOTAL: &str = "vigil_ratelimit_limited_total";
/// Backend calls that failed or timed out (labels `failure_policy`, `kind`).
pub const BACKEND_ERRORS_TOTAL: &str = "vigil_ratelimit_backend_errors_total";
/// Requests let through without a decision because the backend failed (and no local fallback
/// decided): with [`ALLOWED_TOTAL`], [`LIMITED_TOTAL`] and [`UNAVAILABLE_TOTAL`], every
/// request with a key is counted exactly once. [`BACKEND_ERRORS_TOTAL`] is no substitute: it
/// also counts failed refunds and backend failures a local fallback then decided.
pub const FAILED_OPEN_TOTAL: &str = "vigil_ratelimit_failed_open_total";
/// Requests answered 503 because the backend failed under `FailurePolicy::Closed`.
pub const UNAVAILABLE_TOTAL: &str = "vigil_ratelimit_unavailable_total";
/// Denials answered from the in-process deny cache, without a backend call.
pub const DENY_CACHE_HITS_TOTAL: &str = "vigil_ratelimit_deny_cache_hits_total";
/// Requests whose key could not be extracted (label `action`: what
/// [`MissingKey`](crate::MissingKey) said to do: `reject`, `allow`, `shared`).
pub const MISSING_KEY_TOTAL: &str = "vigil_ratelimit_missing_key_total";
/// Seconds each backend call took, failed ones included (label `op`: `acquire`, `refund`,
/// `charge`).
pub const BACKEND_DURATION_SECONDS: &str = "vigil_ratelimit_backend_duration_seconds";

/// Every metric this crate records, with the description [`describe`] registers for it.
pub const ALL: [(&str, &str); 8] = [
    (ALLOWED_TOTAL, "Requests admitted by the rate limiter."),
    (
        LIMITED_TOTAL,
        "Requests over a rate limit, by the first denying policy.",
    ),
    (
        BACKEND_ERRORS_TOTAL,
        "Rate-limit backend calls that failed or timed out.",
    ),
    (
        FAILED_OPEN_TOTAL,
        "Requests let through undecided because the backend failed.",
    ),
    (
        UNAVAILABLE_TOTAL,
        "Requests answered 503 because the backend failed (fail closed).",
    ),
    (
        DENY_CACHE_HITS_TOTAL,
        "Denials answered from the in-process deny cache.",
    ),
    (
        MISSING_KEY_TOTAL,
        "Requests whose rate-limit key could not be extracted.",
    ),
    (
        BACKEND_DURATION_SECONDS,
        "Duration of rate-limit backend calls.",
    ),
];

/// Registers the description (and unit) of every metric in [`ALL`] with the current recorder,
/// so an exporter prints its `# HELP` line. Building a layer calls it; call it yourself when
/// you install the recorder after building layers. Idempotent.
pub fn describe() {
    tower_vigil_core::metrics::describe(&ALL);
}

/// The backend calls [`timed`] names in its `op` label.
pub(crate) mod op {
    use super::{BACKEND_DURATION_SECONDS, Timer};

    pub(crate) const ACQUIRE: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "acquire");
    pub(crate) const REFUND: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "refund");
    pub(crate) const CHARGE: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "charge");
}

/// Counts an admitted request. Literal labels: the macros build those keys without allocating.
pub(crate) fn allowed(shadow: bool) {
    if shadow {
        metrics::counter!(ALLOWED_TOTAL, "shadow" => "true").increment(1);
    } else {
        metrics::counter!(ALLOWED_TOTAL, "shadow" => "false").increment(1);
    }
}

/// Counts a request over the limit of `policy`.
pub(crate) fn limited(policy: String, shadow: bool) {
    let shadow = if shadow { "true" } else { "false" };
    metrics::counter!(LIMITED_TOTAL, "policy" => policy, "shadow" => shadow).increment(1);
}

/// Counts a failed backend call, by the failure policy then applied and the error's kind.
pub(crate) fn backend_error(failure_policy: FailurePolicy, e: &BackendError) {
    metrics::counter!(
        BACKEND_ERRORS_TOTAL,
        "failure_policy" => failure_policy.as_str(),
        "kind" => e.kind().to_string(),
    )
    .increment(1);
}

pub(crate) fn failed_open() {
    metrics::counter!(FAILED_OPEN_TOTAL).increment(1);
}

pub(crate) fn unavailable() {
    metrics::counter!(UNAVAILABLE_TOTAL).increment(1);
}

pub(crate) fn deny_cache_hit() {
    metrics::counter!(DENY_CACHE_HITS_TOTAL).increment(1);
}

/// Counts a request without a key, by what was done with it.
pub(crate) fn missing_key(action: &'static str) {
    metrics::counter!(MISSING_KEY_TOTAL, "action" => action).increment(1);
}

/// Runs one backend call, recording how long it took under `op`.
pub(crate) async fn timed<T>(op: &'static Timer, call: impl Future<Output = T>) -> T {
    tower_vigil_core::metrics::timed(op, call).await
}

/// [`timed`] for a call answered on the caller's thread (`None`: it could not be).
pub(crate) fn timed_now<T>(op: &'static Timer, call: impl FnOnce() -> Option<T>) -> Option<T> {
    tower_vigil_core::metrics::timed_now(op, call)
}
