//! [`IdempotencyLayer`]: the `tower::Layer`, built by [`new`](IdempotencyLayer::new) or
//! [`builder`](IdempotencyLayer::builder) (in [`builder`](super::builder)).

use std::sync::Arc;

use tower_layer::Layer;

use super::response::Responder;
use super::service::Idempotency;
use crate::config::Config;
use crate::shared::Shared;
use crate::waiters::Waiters;

/// Applies [`Idempotency`] to a service. [`IdempotencyLayer::new`] gives the defaults;
/// [`IdempotencyLayer::builder`] changes them, checked once in
/// [`build`](crate::IdempotencyLayerBuilder::build), never per request.
///
/// ```
/// use std::time::Duration;
/// use http::Method;
/// use tower_vigil_core::{FailurePolicy, MemoryBackend};
/// use tower_vigil_idempotency::IdempotencyLayer;
///
/// # fn main() -> Result<(), tower_vigil_core::ConfigError> {
/// let defaults = IdempotencyLayer::new(MemoryBackend::new());
/// let layer = IdempotencyLayer::builder(MemoryBackend::new())
///     .methods([Method::POST, Method::PUT, Method::PATCH])
///     .required(true)
///     .retention(Duration::from_secs(3600))
///     .lease(Duration::from_secs(30))
///     .wait_for_in_flight(Duration::from_secs(5))
///     .failure_policy(FailurePolicy::Open)
///     .build()?;
/// let refused = IdempotencyLayer::builder(MemoryBackend::new()).lease(Duration::ZERO).build();
/// assert_eq!(refused.unwrap_err().field(), "lease");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct IdempotencyLayer<B> {
    backend: B,
    config: Arc<Config>,
    response: Responder,
}

impl<B> IdempotencyLayer<B> {
    /// A layer of checked settings (what the builder produces).
    pub(crate) fn from_parts(backend: B, config: Config, response: Responder) -> Self {
        Self {
            backend,
            config: Arc::new(config),
            response,
        }
    }

    #[cfg(test)]
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }
}

impl<S, B: Clone> Layer<S> for IdempotencyLayer<B> {
    type Service = Idempotency<S, B>;

    fn layer(&self, inner: S) -> Self::Service {
        Idempotency::new(
            inner,
            Arc::new(Shared {
                backend: self.backend.clone(),
                config: Arc::clone(&self.config),
                response: self.response.clone(),
                // One subscription to the announcements per layered service.
                waiters: Waiters::default(),
            }),
        )
    }
}
