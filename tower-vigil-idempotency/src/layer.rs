//! [`IdempotencyLayer`]: the builder and `tower::Layer`.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use http::request::Parts;
use tower_layer::Layer;
use tower_vigil_core::backend::{MAX_TTL, check_ttl};
use tower_vigil_core::{ConfigError, FailurePolicy};

use crate::config::{Config, ServerErrors, Unscoped};
use crate::response::{DefaultResponse, ResponseForRejection};
use crate::service::Idempotency;
use crate::store::IdempotencyStore;

/// Applies [`Idempotency`] to a service. Build it with [`new`](Self::new) and the setters;
/// settings that can be wrong fail here, never per request.
///
/// ```
/// use std::time::Duration;
/// use http::Method;
/// use tower_vigil_core::{FailurePolicy, MemoryBackend};
/// use tower_vigil_idempotency::IdempotencyLayer;
///
/// # fn main() -> Result<(), tower_vigil_core::ConfigError> {
/// let layer = IdempotencyLayer::new(MemoryBackend::new())
///     .methods([Method::POST, Method::PUT, Method::PATCH])?
///     .required()
///     .retention(Duration::from_secs(3600))?
///     .lease(Duration::from_secs(30))?
///     .wait_for_in_flight(Duration::from_secs(5))
///     .failure_policy(FailurePolicy::Open);
/// assert!(IdempotencyLayer::new(MemoryBackend::new()).lease(Duration::ZERO).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct IdempotencyLayer<St, R = DefaultResponse> {
    store: St,
    config: Config,
    responder: R,
}

/// The longest body limit accepted (records store lengths as 32-bit numbers).
const MAX_BODY_LIMIT: usize = u32::MAX as usize;

impl<St: IdempotencyStore> IdempotencyLayer<St> {
    /// A layer storing in `store`, with the defaults: POST and PATCH, key optional, 60 s
    /// lease renewed for at most 10 minutes, records kept 24 h, 1 MiB request and response
    /// limits, fail closed (503), 409 on a request in flight.
    pub fn new(store: St) -> Self {
        // Every layer, not once per process: a recorder installed after an earlier layer
        // still gets its HELP lines, and a few describe calls cost nothing at startup.
        crate::metrics::describe();
        Self {
            store,
            config: Config::default(),
            responder: DefaultResponse,
        }
    }
}

impl<St: IdempotencyStore, R: ResponseForRejection> IdempotencyLayer<St, R> {
    /// The methods the layer applies to (default POST and PATCH). Others pass through.
    pub fn methods(
        mut self,
        methods: impl IntoIterator<Item = Method>,
    ) -> Result<Self, ConfigError> {
        let methods: Vec<Method> = methods.into_iter().collect();
        if methods.is_empty() {
            return Err(ConfigError::new("methods", "at least one method is needed"));
        }
        self.config.methods = methods;
        Ok(self)
    }

    /// Refuses requests of those methods that carry no key (400).
    pub fn required(mut self) -> Self {
        self.config.required = true;
        self
    }

    /// How long an in-flight marker lives without renewal (default 60 s, at least 30 ms, at
    /// most [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL)); it is renewed every third of it
    /// while the handler runs, up to [`max_hold`](Self::max_hold).
    pub fn lease(mut self, lease: Duration) -> Result<Self, ConfigError> {
        let lease = check_ttl("lease", lease)?;
        if lease < Duration::from_millis(30) {
            return Err(ConfigError::new("lease", "must be at least 30 ms"));
        }
        self.config.lease = lease;
        Ok(self)
    }

    /// The longest a handler may hold a key by renewing its lease (default 10 minutes). After
    /// it, renewals stop and the key frees, even if the handler still runs (the last renewal
    /// is shortened to end at the maximum hold; a first lease longer than it still runs out).
    /// Positive and at most [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL).
    pub fn max_hold(mut self, max_hold: Duration) -> Result<Self, ConfigError> {
        self.config.max_hold = check_ttl("max_hold", max_hold)?;
        Ok(self)
    }

    /// How long completed responses are kept for replay (default 24 h; at least 1 ms, at
    /// most [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL)).
    pub fn retention(mut self, ttl: Duration) -> Result<Self, ConfigError> {
        let ttl = check_ttl("retention", ttl)?;
        if ttl < Duration::from_millis(1) {
            return Err(ConfigError::new("retention", "must be at least 1 ms"));
        }
        self.config.ttl = ttl;
        Ok(self)
    }

    /// The largest request body buffered for fingerprinting (default 1 MiB); larger → 413.
    pub fn max_request_body(mut self, bytes: usize) -> Result<Self, ConfigError> {
        self.config.max_request_body = body_limit("max_request_body", bytes)?;
        Ok(self)
    }

    /// The largest response body captured for replay (default 1 MiB). A larger response
    /// streams to the client unchanged and is recorded as completed but not replayable: a
    /// retry with the key gets `409` (see [`Rejection::NotReplayable`](crate::Rejection)),
    /// never a second execution. A body whose size is known and fits is stored before it is
    /// sent; any other body is forwarded frame by frame as the handler produces it.
    pub fn max_response_body(mut self, bytes: usize) -> Result<Self, ConfigError> {
        self.config.max_response_body = body_limit("max_response_body", bytes)?;
        Ok(self)
    }

    /// What to do when the store fails: `Closed` (default) answers 503; `Open` runs the
    /// request without idempotency (counted in `vigil_idempotency_backend_errors_total`);
    /// `Local` acts as `Closed`, there being no local state to fall back on.
    pub fn failure_policy(mut self, policy: FailurePolicy) -> Self {
        self.config.failure_policy = policy;
        self
    }

    /// Instead of answering 409 at once, waits up to `max` for the request in flight to
    /// finish and replays its response (or runs this one, if the first freed the key).
    /// Waiters are woken by the store's announcements (Redis pub/sub, on one connection per
    /// layer) and poll with backoff (20 ms doubling to 500 ms) in case one is missed. With
    /// waiting on, each completion or release publishes one announcement.
    /// A wait longer than [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL) is cut to it (so no
    /// deadline can overflow the clock).
    pub fn wait_for_in_flight(mut self, max: Duration) -> Self {
        self.config.wait_for_in_flight = (!max.is_zero()).then_some(max.min(MAX_TTL));
        self
    }

    /// The `Retry-After` of a 409 in flight (default 1 s; never more than the lease left; cut
    /// to [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL)).
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.config.retry_after = after.min(MAX_TTL);
        self
    }

    /// Chooses each request's scope with `f` instead of the
    /// [`Principal`](tower_vigil_core::Principal) in its extensions. `None` means unscoped.
    pub fn scope<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    {
        self.config.scope = Some(Arc::new(f));
        self
    }

    /// What to do with keyed requests that have no scope (default: refuse them with `401`).
    /// [`Unscoped::SharedUnsafe`] puts them all in one shared scope; see [`Unscoped`].
    pub fn unscoped(mut self, unscoped: Unscoped) -> Self {
        self.config.unscoped = unscoped;
        self
    }

    /// What to do with responses that say the server failed (default: store and replay them
    /// like any other, [`ServerErrors::Replay`]). See [`ServerErrors`].
    pub fn server_errors(mut self, server_errors: ServerErrors) -> Self {
        self.config.server_errors = server_errors;
        self
    }

    /// Answers rejections with `responder` (a [`ResponseForRejection`] or a closure
    /// `Fn(&Rejection, bool) -> Response<Bytes>`).
    pub fn responder<R2: ResponseForRejection>(self, responder: R2) -> IdempotencyLayer<St, R2> {
        IdempotencyLayer {
            store: self.store,
            config: self.config,
            responder,
        }
    }
}

fn body_limit(field: &'static str, bytes: usize) -> Result<usize, ConfigError> {
    if bytes == 0 || bytes > MAX_BODY_LIMIT {
        return Err(ConfigError::new(field, "must be between 1 byte and 4 GiB"));
    }
    Ok(bytes)
}

impl<S, St: Clone, R: Clone> Layer<S> for IdempotencyLayer<St, R> {
    type Service = Idempotency<S, St, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Idempotency::new(
            inner,
            Arc::new(crate::shared::Shared {
                store: self.store.clone(),
                config: self.config.clone(),
                responder: self.responder.clone(),
                waiters: crate::waiters::Waiters::default(),
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_vigil_core::MemoryBackend;

    fn layer() -> IdempotencyLayer<MemoryBackend> {
        IdempotencyLayer::new(MemoryBackend::new())
    }

    #[test]
    fn absurd_ttls_are_config_errors_not_overflows() {
        for too_long in [Duration::MAX, MAX_TTL + Duration::from_millis(1)] {
            assert_eq!(layer().lease(too_long).unwrap_err().field(), "lease");
            assert_eq!(layer().max_hold(too_long).unwrap_err().field(), "max_hold");
            assert_eq!(
                layer().retention(too_long).unwrap_err().field(),
                "retention"
            );
        }
        assert_eq!(
            layer().max_hold(Duration::ZERO).unwrap_err().field(),
            "max_hold"
        );
        assert_eq!(
            layer().retention(Duration::ZERO).unwrap_err().field(),
            "retention"
        );
        assert!(layer().lease(MAX_TTL).is_ok());
        assert!(layer().max_hold(MAX_TTL).is_ok());
        assert!(layer().retention(MAX_TTL).is_ok());
    }

    #[test]
    fn absurd_waits_are_cut_to_the_longest_ttl() {
        let l = layer()
            .wait_for_in_flight(Duration::MAX)
            .retry_after(Duration::MAX);
        assert_eq!(l.config.wait_for_in_flight, Some(MAX_TTL));
        assert_eq!(l.config.retry_after, MAX_TTL);
    }
}
