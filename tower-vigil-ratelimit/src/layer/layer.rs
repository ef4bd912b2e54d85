//! [`RateLimitLayer`].

use std::sync::Arc;

use tower_layer::Layer;

use super::RateLimit;
use super::builder::RateLimitBuilder;
use super::config::Config;
use crate::store::RateLimitStore;

/// Applies [`RateLimit`] to a service. Cheap to clone: every clone (and every service it
/// makes) shares one configuration, deny cache and local fallback.
pub struct RateLimitLayer<St> {
    pub(crate) config: Arc<Config<St>>,
}

impl<St: RateLimitStore> RateLimitLayer<St> {
    /// A builder deciding with `store` (a `MemoryBackend`, a `RedisBackend`, or your own
    /// [`RateLimitStore`]).
    pub fn builder(store: St) -> RateLimitBuilder<St> {
        RateLimitBuilder::new(store)
    }
}

impl<St> Clone for RateLimitLayer<St> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
        }
    }
}

impl<St> std::fmt::Debug for RateLimitLayer<St> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("policies", &self.config.policies)
            .field("failure", &self.config.failure)
            .field("shadow", &self.config.shadow)
            .finish_non_exhaustive()
    }
}

impl<S, St> Layer<S> for RateLimitLayer<St> {
    type Service = RateLimit<S, St>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            config: self.config.clone(),
        }
    }
}
