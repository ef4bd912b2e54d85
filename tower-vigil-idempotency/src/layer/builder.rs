//! [`IdempotencyLayerBuilder`]: every setting of an [`IdempotencyLayer`], stored as given by
//! infallible setters and checked together by [`build`](IdempotencyLayerBuilder::build), so
//! the order of the setter calls never matters.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use http::request::Parts;
use tower_vigil_core::backend::MAX_TTL;
use tower_vigil_core::{Backend, ConfigError, DefaultResponse, FailurePolicy, RejectionResponse};

use super::layer::IdempotencyLayer;
use super::rejection::IdempotencyRejection;
use super::response::Responder;
use crate::config::{Config, ServerErrors, Times};
use crate::scope::{ScopeFn, Unscoped};

/// The longest body limit accepted (records store lengths as 32-bit numbers).
const MAX_BODY_LIMIT: usize = u32::MAX as usize;

impl<B: Backend> IdempotencyLayer<B> {
    /// A layer keeping its records in `backend`, with the defaults: POST and PATCH, key optional, 60 s
    /// lease renewed for at most 10 minutes, records kept 24 h, 1 MiB request and response
    /// limits, fail closed (503), 409 at once on a request in flight, keyed requests without
    /// a scope refused (401), server errors stored and replayed.
    pub fn new(backend: B) -> Self {
        match Self::builder(backend).build() {
            Ok(layer) => layer,
            // The defaults are constants the builder's checks accept (a unit test holds it).
            Err(e) => unreachable!("the default idempotency settings are valid: {e}"),
        }
    }

    /// A builder starting from the defaults of [`new`](Self::new).
    pub fn builder(backend: B) -> IdempotencyLayerBuilder<B> {
        IdempotencyLayerBuilder {
            backend,
            methods: vec![Method::POST, Method::PATCH],
            required: false,
            lease: crate::DEFAULT_LEASE,
            max_hold: crate::DEFAULT_MAX_HOLD,
            retention: crate::DEFAULT_TTL,
            max_request_body: crate::DEFAULT_BODY_LIMIT,
            max_response_body: crate::DEFAULT_BODY_LIMIT,
            failure_policy: FailurePolicy::Closed,
            wait_for_in_flight: Duration::ZERO,
            retry_after: Duration::from_secs(1),
            scope: None,
            unscoped: Unscoped::Reject,
            server_errors: ServerErrors::Replay,
            response: Responder::new(DefaultResponse),
        }
    }
}

/// Builds an [`IdempotencyLayer`]: start with [`IdempotencyLayer::builder`], change what you
/// need, then [`build`](Self::build), which checks every setting at once.
///
/// ```
/// use std::time::Duration;
/// use tower_vigil_core::MemoryBackend;
/// use tower_vigil_idempotency::{IdempotencyLayer, ServerErrors};
///
/// # fn main() -> Result<(), tower_vigil_core::ConfigError> {
/// let layer = IdempotencyLayer::builder(MemoryBackend::new())
///     .max_request_body(64 * 1024)
///     .server_errors(ServerErrors::Release)
///     .build()?;
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct IdempotencyLayerBuilder<B> {
    backend: B,
    methods: Vec<Method>,
    required: bool,
    lease: Duration,
    max_hold: Duration,
    retention: Duration,
    max_request_body: usize,
    max_response_body: usize,
    failure_policy: FailurePolicy,
    wait_for_in_flight: Duration,
    retry_after: Duration,
    scope: Option<ScopeFn>,
    unscoped: Unscoped,
    server_errors: ServerErrors,
    response: Responder,
}

impl<B: Backend> IdempotencyLayerBuilder<B> {
    /// The methods the layer applies to (default POST and PATCH; at least one). Others pass
    /// through.
    pub fn methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        self.methods = methods.into_iter().collect();
        self
    }

    /// Whether requests of those methods must carry a key (default `false`); when `true`,
    /// one without is refused with `400`.
    pub fn required(mut self, required: bool) -> Self {
        self.required = required;
        self
    }

    /// How long an in-flight marker lives without renewal (default 60 s, at least 30 ms, at
    /// most [`MAX_TTL`]); it is renewed every third of it while the handler runs, up to
    /// [`max_hold`](Self::max_hold).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The longest a handler may hold a key by renewing its lease (default 10 minutes). After
    /// it, renewals stop and the key frees, even if the handler still runs (the last renewal
    /// is shortened to end at the maximum hold; a first lease longer than it still runs out).
    /// Positive and at most [`MAX_TTL`].
    pub fn max_hold(mut self, max_hold: Duration) -> Self {
        self.max_hold = max_hold;
        self
    }

    /// How long completed responses are kept for replay (default 24 h; at least 1 ms, at
    /// most [`MAX_TTL`]).
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// The largest request body buffered for fingerprinting (default 1 MiB, at least 1 byte,
    /// at most 4 GiB); larger → 413.
    pub fn max_request_body(mut self, bytes: usize) -> Self {
        self.max_request_body = bytes;
        self
    }

    /// The largest response body captured for replay (default 1 MiB, at least 1 byte, at most
    /// 4 GiB). A larger response streams to the client unchanged and is recorded as completed
    /// but not replayable: a retry with the key gets `409` (see
    /// [`IdempotencyRejectionKind::NotReplayable`](crate::IdempotencyRejectionKind::NotReplayable)), never a second
    /// execution. A body whose size is known and fits is stored before it is sent; any other
    /// body is forwarded frame by frame as the handler produces it.
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// What to do when the store fails: `Closed` (default) answers 503; `Open` runs the
    /// request without idempotency (counted in `vigil_idempotency_backend_errors_total`);
    /// `Local` acts as `Closed`, there being no local state to fall back on.
    pub fn failure_policy(mut self, policy: FailurePolicy) -> Self {
        self.failure_policy = policy;
        self
    }

    /// Instead of answering 409 at once, waits up to `max` for the request in flight to
    /// finish and replays its response (or runs this one, if the first freed the key). Zero
    /// (the default) does not wait.
    ///
    /// Waiters are woken by the store's announcements (Redis pub/sub, on one connection per
    /// layer) and poll with backoff (20 ms doubling to 500 ms) in case one is missed. With
    /// waiting on, each completion or release publishes one announcement. A wait longer than
    /// [`MAX_TTL`] is cut to it (so no deadline can overflow the clock).
    pub fn wait_for_in_flight(mut self, max: Duration) -> Self {
        self.wait_for_in_flight = max;
        self
    }

    /// The `Retry-After` of a 409 in flight (default 1 s; never more than the lease left; cut
    /// to [`MAX_TTL`]).
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = after;
        self
    }

    /// Chooses each request's scope with `f` instead of the
    /// [`Principal`](tower_vigil_core::Principal) in its extensions. `None` means unscoped.
    pub fn scope<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    {
        self.scope = Some(Arc::new(f));
        self
    }

    /// What to do with keyed requests that have no scope (default: refuse them with `401`).
    /// [`Unscoped::SharedUnsafe`] puts them all in one shared scope; see [`Unscoped`].
    pub fn unscoped(mut self, unscoped: Unscoped) -> Self {
        self.unscoped = unscoped;
        self
    }

    /// What to do with responses that say the server failed (default: store and replay them
    /// like any other, [`ServerErrors::Replay`]). See [`ServerErrors`].
    pub fn server_errors(mut self, server_errors: ServerErrors) -> Self {
        self.server_errors = server_errors;
        self
    }

    /// Answers the layer's rejections with `response` (a
    /// [`RejectionResponse`] or a closure `Fn(&IdempotencyRejection) -> Response<Bytes>`)
    /// instead of [`DefaultResponse`]. The rejection is put in the response's extensions
    /// either way.
    pub fn response(mut self, response: impl RejectionResponse<IdempotencyRejection>) -> Self {
        self.response = Responder::new(response);
        self
    }

    /// Checks every setting and builds the layer; the error names the first setting refused.
    pub fn build(self) -> Result<IdempotencyLayer<B>, ConfigError> {
        if self.methods.is_empty() {
            return Err(ConfigError::new("methods", "at least one method is needed"));
        }
        let Times {
            lease,
            max_hold,
            retention: ttl,
        } = Times::check(self.lease, self.max_hold, self.retention)?;
        let config = Config {
            methods: self.methods,
            required: self.required,
            lease,
            max_hold,
            ttl,
            max_request_body: body_limit("max_request_body", self.max_request_body)?,
            max_response_body: body_limit("max_response_body", self.max_response_body)?,
            failure_policy: self.failure_policy,
            wait_for_in_flight: (!self.wait_for_in_flight.is_zero())
                .then(|| self.wait_for_in_flight.min(MAX_TTL)),
            retry_after: self.retry_after.min(MAX_TTL),
            scope: self.scope,
            unscoped: self.unscoped,
            server_errors: self.server_errors,
        };
        // Described at every build, not once per process: a recorder installed after an
        // earlier layer still gets its HELP lines, and a few describe calls cost nothing.
        crate::metrics::describe();
        Ok(IdempotencyLayer::from_parts(
            self.backend,
            config,
            self.response,
        ))
    }
}

impl<B: std::fmt::Debug> std::fmt::Debug for IdempotencyLayerBuilder<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotencyLayerBuilder")
            .field("backend", &self.backend)
            .field("methods", &self.methods)
            .field("required", &self.required)
            .field("lease", &self.lease)
            .field("max_hold", &self.max_hold)
            .field("retention", &self.retention)
            .field("max_request_body", &self.max_request_body)
            .field("max_response_body", &self.max_response_body)
            .field("failure_policy", &self.failure_policy)
            .field("wait_for_in_flight", &self.wait_for_in_flight)
            .field("retry_after", &self.retry_after)
            .field("custom_scope", &self.scope.is_some())
            .field("unscoped", &self.unscoped)
            .field("server_errors", &self.server_errors)
            .finish_non_exhaustive()
    }
}

fn body_limit(field: &'static str, bytes: usize) -> Result<usize, ConfigError> {
    if bytes == 0 || bytes > MAX_BODY_LIMIT {
        return Err(ConfigError::new(field, "must be between 1 byte and 4 GiB"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use tower_vigil_core::MemoryBackend;

    use super::*;

    #[test]
    fn the_defaults_build() {
        let layer = IdempotencyLayer::new(MemoryBackend::new());
        assert_eq!(layer.config().lease, crate::DEFAULT_LEASE);
        assert_eq!(layer.config().wait_for_in_flight, None);
    }

    #[test]
    fn absurd_waits_are_cut_to_the_longest_ttl() {
        let layer = IdempotencyLayer::builder(MemoryBackend::new())
            .wait_for_in_flight(Duration::MAX)
            .retry_after(Duration::MAX)
            .build()
            .unwrap();
        assert_eq!(layer.config().wait_for_in_flight, Some(MAX_TTL));
        assert_eq!(layer.config().retry_after, MAX_TTL);
    }
}
