//! The layer's counters, through the `metrics` facade.

pub(crate) fn replay() {
    metrics::counter!("vigil_idempotency_replays_total").increment(1);
}

pub(crate) fn conflict() {
    metrics::counter!("vigil_idempotency_conflicts_total").increment(1);
}

pub(crate) fn mismatch() {
    metrics::counter!("vigil_idempotency_mismatches_total").increment(1);
}

pub(crate) fn stored() {
    metrics::counter!("vigil_idempotency_stored_total").increment(1);
}

pub(crate) fn backend_error(policy: tower_vigil_core::FailurePolicy) {
    metrics::counter!("vigil_idempotency_backend_errors_total", "policy" => policy.as_str())
        .increment(1);
}

pub(crate) fn not_replayable() {
    metrics::counter!("vigil_idempotency_not_replayable_total").increment(1);
}
