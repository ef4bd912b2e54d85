//! What the layer does when the backend fails or times out, by its [`FailurePolicy`]: `Open`
//! (serve the request undecided, counted and traced), `Closed` (answer 503), or `Local`
//! (decide with an in-process memory limiter holding the same policies).

use tower_vigil_core::{BackendError, ConfigError, FailurePolicy, MemoryBackend};

use crate::acquire::{Acquire, acquire_now};
use crate::decision::Decision;
use crate::metrics;

/// How many keys the `Local` fallback limiter holds at most.
const LOCAL_MAX_ENTRIES: usize = 100_000;

/// The failure policy and, under `Local`, the limiter it decides with.
pub(crate) struct OnFailure {
    policy: FailurePolicy,
    local: Option<MemoryBackend>,
}

/// What the failure policy made of a request the backend could not decide.
pub(crate) enum Fallback {
    /// The local limiter decided it.
    Decided(Decision),
    /// Serve it undecided (`Open`, or `Local` when even the local limiter failed).
    Open,
    /// Answer 503 (`Closed`).
    Closed,
}

impl OnFailure {
    pub(crate) fn new(policy: FailurePolicy) -> Result<Self, ConfigError> {
        let local = match policy {
            FailurePolicy::Local => Some(
                MemoryBackend::builder()
                    .max_entries(LOCAL_MAX_ENTRIES)
                    .build()?,
            ),
            _ => None,
        };
        Ok(Self { policy, local })
    }

    pub(crate) fn policy(&self) -> FailurePolicy {
        self.policy
    }

    /// The local limiter (`Local` only): a refund of a unit it took goes back to it.
    pub(crate) fn local(&self) -> Option<&MemoryBackend> {
        self.local.as_ref()
    }

    /// Counts and traces the backend's `error`, and applies the policy to `req`.
    pub(crate) fn decide(&self, req: Acquire<'_>, error: &BackendError) -> Fallback {
        self.backend_failed(error, "rate-limit backend call failed");
        match (&self.local, self.policy) {
            // The local limiter is a memory backend: it always answers at once.
            (Some(local), _) => match acquire_now(local, req) {
                Some(Ok(d)) => Fallback::Decided(d),
                _ => Fallback::Open,
            },
            (None, FailurePolicy::Closed) => Fallback::Closed,
            _ => Fallback::Open,
        }
    }

    /// Counts and traces a failed backend call.
    pub(crate) fn backend_failed(&self, error: &BackendError, what: &'static str) {
        metrics::backend_error(self.policy, error);
        tracing::warn!(error = %error, failure_policy = %self.policy, "{what}");
    }
}
