//! Every metric this crate records, with its description, through the [`metrics`] facade:
//! install any `metrics` recorder (Prometheus exporter, statsd, ...) and these appear.
//! [`IdempotencyLayer::new`](crate::IdempotencyLayer::new) calls [`describe`], so a `/metrics`
//! exporter prints a `# HELP` line for each.
//!
//! Labels are named as in every tower-vigil crate: `failure_policy` (`open`, `closed`),
//! `kind` (a backend error's kind), `op` (the store call: `claim`, `complete`, `release`,
//! `extend`, `peek`, `announce`); `outcome` for units of work.
//!
//! ```
//! use tower_vigil_idempotency::metrics;
//!
//! assert_eq!(metrics::REPLAYS_TOTAL, "vigil_idempotency_replays_total");
//! assert!(metrics::ALL.iter().all(|(name, _)| name.starts_with("vigil_idempotency_")));
//! ```

use std::future::Future;
use tower_vigil_core::metrics::Timer;

use tower_vigil_core::{BackendError, FailurePolicy};

/// Requests answered from a stored response.
pub const REPLAYS_TOTAL: &str = "vigil_idempotency_replays_total";
/// Requests answered 409 because the same key is in flight.
pub const CONFLICTS_TOTAL: &str = "vigil_idempotency_conflicts_total";
/// Requests answered 422 because the key was used with another request.
pub const MISMATCHES_TOTAL: &str = "vigil_idempotency_mismatches_total";
/// Responses stored for replay.
pub const STORED_TOTAL: &str = "vigil_idempotency_stored_total";
/// Store calls that failed (labels `failure_policy`, `kind`).
pub const BACKEND_ERRORS_TOTAL: &str = "vigil_idempotency_backend_errors_total";
/// Stored records that could not be replayed.
pub const NOT_REPLAYABLE_TOTAL: &str = "vigil_idempotency_not_replayable_total";
/// Units of work through a [`WorkLedger`](crate::work::WorkLedger)'s `run` or an
/// [`ExactlyOnce`](crate::work::ExactlyOnce) service (label `outcome`: `ran`, `replayed`,
/// `in_flight`, `mismatch`, `failed`).
pub const WORK_TOTAL: &str = "vigil_idempotency_work_total";
/// Seconds each store call took, failed ones included (label `op`).
pub const BACKEND_DURATION_SECONDS: &str = "vigil_idempotency_backend_duration_seconds";

/// Every metric this crate records, with the description [`describe`] registers for it.
pub const ALL: [(&str, &str); 8] = [
    (
        REPLAYS_TOTAL,
        "Idempotent requests answered from a stored response.",
    ),
    (
        CONFLICTS_TOTAL,
        "Idempotent requests rejected because the key is in flight.",
    ),
    (
        MISMATCHES_TOTAL,
        "Idempotency keys reused with a different request.",
    ),
    (STORED_TOTAL, "Idempotent responses stored for replay."),
    (BACKEND_ERRORS_TOTAL, "Idempotency store calls that failed."),
    (
        NOT_REPLAYABLE_TOTAL,
        "Stored idempotent responses that could not be replayed.",
    ),
    (
        WORK_TOTAL,
        "Units of work claimed outside HTTP, by outcome.",
    ),
    (
        BACKEND_DURATION_SECONDS,
        "Duration of idempotency store calls.",
    ),
];

/// Registers the description (and unit) of every metric in [`ALL`] with the current recorder,
/// so an exporter prints its `# HELP` line. Building a layer calls it; call it yourself when
/// you install the recorder after building layers. Idempotent.
pub fn describe() {
    tower_vigil_core::metrics::describe(&ALL);
}

/// The store calls [`timed`] names in its `op` label.
pub(crate) mod op {
    use super::{BACKEND_DURATION_SECONDS, Timer};

    pub(crate) const CLAIM: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "claim");
    pub(crate) const COMPLETE: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "complete");
    pub(crate) const RELEASE: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "release");
    pub(crate) const EXTEND: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "extend");
    pub(crate) const PEEK: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "peek");
    pub(crate) const ANNOUNCE: &Timer = &Timer::new(BACKEND_DURATION_SECONDS, "announce");
}

pub(crate) fn replay() {
    metrics::counter!(REPLAYS_TOTAL).increment(1);
}

pub(crate) fn conflict() {
    metrics::counter!(CONFLICTS_TOTAL).increment(1);
}

pub(crate) fn mismatch() {
    metrics::counter!(MISMATCHES_TOTAL).increment(1);
}

pub(crate) fn stored() {
    metrics::counter!(STORED_TOTAL).increment(1);
}

pub(crate) fn backend_error(failure_policy: FailurePolicy, e: &BackendError) {
    metrics::counter!(
        BACKEND_ERRORS_TOTAL,
        "failure_policy" => failure_policy.as_str(),
        "kind" => e.kind().to_string(),
    )
    .increment(1);
}

pub(crate) fn work(outcome: &'static str) {
    metrics::counter!(WORK_TOTAL, "outcome" => outcome).increment(1);
}

pub(crate) fn not_replayable() {
    metrics::counter!(NOT_REPLAYABLE_TOTAL).increment(1);
}

/// Runs one store call, recording how long it took under `op`.
pub(crate) async fn timed<T>(op: &'static Timer, call: impl Future<Output = T>) -> T {
    tower_vigil_core::metrics::timed(op, call).await
}
