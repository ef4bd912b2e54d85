//! [`IdempotencyLayer`]: the `tower::Layer`, built by [`new`](IdempotencyLayer::new) or
//! [`builder`](IdempotencyLayer::builder) (in [`builder`](super::builder)).

use std::sync::Arc;

use tower_layer::Layer;

use super::response::DefaultResponse;
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
pub struct IdempotencyLayer<St, R = DefaultResponse> {
    store: St,
    config: Arc<Config>,
    response: R,
}

impl<St, R> IdempotencyLayer<St, R> {
    /// A layer of checked settings (what the builder produces).
    pub(crate) fn from_parts(store: St, config: Config, response: R) -> Self {
        Self {
            store,
            config: Arc::new(config),
            response,
        }
    }

    #[cfg(test)]
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }
}

impl<S, St: Clone, R: Clone> Layer<S> for IdempotencyLayer<St, R> {
    type Service = Idempotency<S, St, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Idempotency::new(
            inner,
            Arc::new(Shared {
                store: self.store.clone(),
                config: Arc::clone(&self.config),
                response: self.response.clone(),
                // One subscription to the store's announcements per layered service.
                waiters: Waiters::default(),
            }),
        )
    }
}
