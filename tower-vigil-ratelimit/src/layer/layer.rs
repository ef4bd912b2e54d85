//! [`RateLimitLayer`]. It is made by [`RateLimitLayer::new`] or
//! [`RateLimitLayer::builder`] (in `builder.rs`).

use std::sync::Arc;

use tower_layer::Layer;

use super::config::Config;
use super::service::RateLimit;

/// Applies [`RateLimit`] to a service. Cheap to clone: every clone (and every service it
/// makes) shares one configuration, deny cache and local fallback.
pub struct RateLimitLayer<B> {
    pub(crate) config: Arc<Config<B>>,
}

impl<B> Clone for RateLimitLayer<B> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
        }
    }
}

impl<B> std::fmt::Debug for RateLimitLayer<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("policies", &self.config.policies)
            .field("failure_policy", &self.config.on_failure.policy())
            .field("shadow", &self.config.shadow)
            .finish_non_exhaustive()
    }
}

impl<S, B> Layer<S> for RateLimitLayer<B> {
    type Service = RateLimit<S, B>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            config: self.config.clone(),
        }
    }
}
