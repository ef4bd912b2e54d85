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
