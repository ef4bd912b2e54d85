//! What the layer does when the store fails: with [`FailurePolicy::Open`] the request runs
//! without idempotency; otherwise (`Closed`, the default, and `Local`, there being no local
//! state to fall back on) it is refused with `503`. Every failure is counted.

use tower_vigil_core::{Backend, BackendError, FailurePolicy};

use crate::config::Config;
use crate::metrics::{op, timed};
use crate::store;

/// What to do with a request whose claim failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fallback {
    /// Run it without idempotency.
    RunWithout,
    /// Refuse it (`503`).
    Refuse,
}

/// Counts the failed claim of `owner` on `key`, undoes it in case it landed, and says what to
/// do with the request.
pub(crate) fn claim_failed<B: Backend>(
    backend: &B,
    config: &Config,
    key: &str,
    owner: &str,
    e: &BackendError,
) -> Fallback {
    release_unknown_claim(backend, key, owner);
    crate::metrics::backend_error(config.failure_policy, e);
    if config.failure_policy == FailurePolicy::Open {
        tracing::warn!(error = %e, "idempotency store failed; running the request without it");
        Fallback::RunWithout
    } else {
        tracing::warn!(error = %e, "idempotency store failed; answering 503");
        Fallback::Refuse
    }
}

/// A claim that failed (a timeout, a dropped connection) may still have landed, or land when
/// a stalled request reaches Redis late: its marker would hold the key for a whole lease with
/// nobody running the request, and every retry would get 409. Releasing by this claim's owner
/// token undoes it: sent on the same connection, it runs after the claim, and it never deletes
/// a completed record. Without a runtime (or if this fails too) the lease lapses.
fn release_unknown_claim<B: Backend>(backend: &B, key: &str, owner: &str) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let (backend, key, owner) = (backend.clone(), key.to_owned(), owner.to_owned());
    handle.spawn(async move {
        if let Err(e) = timed(op::RELEASE, store::release(&backend, &key, owner.as_bytes())).await {
            tracing::warn!(error = %e, "releasing a failed idempotency claim failed; its lease will lapse");
        }
    });
}
