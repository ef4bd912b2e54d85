//! The layer's checked settings ([`Config`], built by the layer's builder), shared by every
//! clone of the service, and the [`ServerErrors`] option.

use std::fmt;
use std::time::Duration;

use http::Method;
use tower_vigil_core::FailurePolicy;

use crate::scope::{ScopeFn, Unscoped};

/// What to do with a response that says the server failed (a `5xx`, or a gRPC status that
/// means a server failure: UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED,
/// INTERNAL, UNAVAILABLE, DATA_LOSS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ServerErrors {
    /// Store and replay it like any other response (the default, as Stripe does): the
    /// handler may have had side effects before it failed, so a retry must not run it again.
    #[default]
    Replay,
    /// Free the key so a retry runs the handler again (`Idempotency-Status: not-stored`).
    /// Only for handlers whose failures undo their side effects (one database transaction
    /// rolled back on error): otherwise a retry after a `5xx` repeats the work.
    Release,
}

/// The shortest lease: renewals come every third of it, and a few milliseconds of round
/// trip must fit in that.
const MIN_LEASE: Duration = Duration::from_millis(30);

/// The times every holder of a key is configured with, checked the same way by the HTTP
/// layer's builder and the work ledger's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Times {
    pub(crate) lease: Duration,
    pub(crate) max_hold: Duration,
    pub(crate) retention: Duration,
}

impl Times {
    /// Checks a lease (at least 30 ms), a maximum hold and a retention (at least 1 ms), each
    /// at most [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL); the error names the first
    /// refused.
    pub(crate) fn check(
        lease: Duration,
        max_hold: Duration,
        retention: Duration,
    ) -> Result<Self, tower_vigil_core::ConfigError> {
        use tower_vigil_core::{ConfigError, backend::check_ttl};
        let lease = check_ttl("lease", lease)?;
        if lease < MIN_LEASE {
            return Err(ConfigError::new("lease", "must be at least 30 ms"));
        }
        let max_hold = check_ttl("max_hold", max_hold)?;
        let retention = check_ttl("retention", retention)?;
        if retention < Duration::from_millis(1) {
            return Err(ConfigError::new("retention", "must be at least 1 ms"));
        }
        Ok(Self {
            lease,
            max_hold,
            retention,
        })
    }
}

/// The settings, checked.
pub(crate) struct Config {
    pub(crate) methods: Vec<Method>,
    pub(crate) required: bool,
    pub(crate) lease: Duration,
    pub(crate) max_hold: Duration,
    pub(crate) ttl: Duration,
    pub(crate) max_request_body: usize,
    pub(crate) max_response_body: usize,
    pub(crate) failure_policy: FailurePolicy,
    pub(crate) wait_for_in_flight: Option<Duration>,
    pub(crate) retry_after: Duration,
    pub(crate) scope: Option<ScopeFn>,
    pub(crate) unscoped: Unscoped,
    pub(crate) server_errors: ServerErrors,
}

impl Config {
    pub(crate) fn applies_to(&self, method: &Method) -> bool {
        self.methods.contains(method)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("methods", &self.methods)
            .field("required", &self.required)
            .field("lease", &self.lease)
            .field("max_hold", &self.max_hold)
            .field("ttl", &self.ttl)
            .field("max_request_body", &self.max_request_body)
            .field("max_response_body", &self.max_response_body)
            .field("failure_policy", &self.failure_policy)
            .field("wait_for_in_flight", &self.wait_for_in_flight)
            .field("custom_scope", &self.scope.is_some())
            .field("unscoped", &self.unscoped)
            .field("server_errors", &self.server_errors)
            .finish()
    }
}
