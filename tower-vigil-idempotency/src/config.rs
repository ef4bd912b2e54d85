//! The layer's settings, shared by every clone of the service.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use http::request::Parts;
use tower_vigil_core::{FailurePolicy, Principal};

/// Chooses the scope of a request's key from the request head.
pub(crate) type ScopeFn = Arc<dyn Fn(&Parts) -> Option<String> + Send + Sync>;

/// What to do with a keyed request for which no scope is found (no
/// [`Principal`] in its extensions, or a scope closure that returned `None`).
///
/// The default refuses it: a layer stacked behind an authentication layer that does not
/// publish a [`Principal`] (a session layer without its principal mode, say) would otherwise
/// put every user in one key space, where user B sending user A's key and body gets A's
/// stored response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Unscoped {
    /// Refuse it with `401` and a problem+json body (the default): every idempotent request
    /// must come from an identified caller.
    #[default]
    Reject,
    /// Put every unscoped request in one shared anonymous scope. **Unsafe for multi-user
    /// APIs**: any client that learns or guesses another's key (and body) gets that client's
    /// stored response. Only for APIs whose callers are all anonymous and send unguessable
    /// keys (UUIDv4 or better).
    SharedUnsafe,
}

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

#[derive(Clone)]
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

impl Default for Config {
    fn default() -> Self {
        Self {
            methods: vec![Method::POST, Method::PATCH],
            required: false,
            lease: super::DEFAULT_LEASE,
            max_hold: super::DEFAULT_MAX_HOLD,
            ttl: super::DEFAULT_TTL,
            max_request_body: super::DEFAULT_BODY_LIMIT,
            max_response_body: super::DEFAULT_BODY_LIMIT,
            failure_policy: FailurePolicy::Closed,
            wait_for_in_flight: None,
            retry_after: Duration::from_secs(1),
            scope: None,
            unscoped: Unscoped::Reject,
            server_errors: ServerErrors::Replay,
        }
    }
}

/// The scope part reserved for requests without one; scopes from principals or closures are
/// prefixed with `s:` so they can never equal it.
const ANONYMOUS: &str = "anonymous";

impl Config {
    /// The request's scope: the closure's answer if one is set, else the principal's.
    /// `None` means refuse (the default, [`Unscoped::Reject`]).
    pub(crate) fn scope_of(&self, parts: &Parts) -> Option<String> {
        let found = match &self.scope {
            Some(f) => f(parts),
            None => Principal::from_extensions(&parts.extensions).map(Principal::scope),
        };
        match (found, self.unscoped) {
            (Some(s), _) => Some(format!("s:{s}")),
            (None, Unscoped::SharedUnsafe) => Some(ANONYMOUS.to_owned()),
            (None, Unscoped::Reject) => None,
        }
    }

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
