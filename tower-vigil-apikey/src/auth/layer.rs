//! [`ApiKeyLayer`]: the authentication middleware's configuration, built by
//! [`ApiKeyLayer::new`] or [`ApiKeyLayer::builder`].

use std::sync::Arc;

use tower_layer::Layer;
use tower_vigil_core::Backend;

use super::credential::Extractor;
use super::service::ApiKey;
use crate::rejection::{Realm, Responder};
use crate::{ApiKeyCache, KeyStore};

/// Authenticates requests by API key through an [`ApiKeyCache`]. Cheap to clone.
#[must_use]
pub struct ApiKeyLayer<B, K: KeyStore> {
    cache: ApiKeyCache<B, K>,
    settings: Arc<Settings>,
}

/// What the layer's builder checked, shared by the layer, its services and the futures of
/// their requests (one reference count per request, whatever the response).
#[derive(Debug)]
pub(super) struct Settings {
    pub(super) extractor: Extractor,
    pub(super) realm: Realm,
    pub(super) responder: Responder,
}

impl<B, K: KeyStore> ApiKeyLayer<B, K> {
    pub(crate) fn from_parts(
        cache: ApiKeyCache<B, K>,
        extractor: Extractor,
        realm: Realm,
        responder: Responder,
    ) -> Self {
        Self {
            cache,
            settings: Arc::new(Settings {
                extractor,
                realm,
                responder,
            }),
        }
    }

    /// The cache this layer looks keys up in.
    pub fn cache(&self) -> &ApiKeyCache<B, K> {
        &self.cache
    }
}

impl<B: Backend, K: KeyStore> ApiKeyLayer<B, K> {
    /// True when a request with these headers carries, where this layer reads it, a key the
    /// cache already knows as valid ([`ApiKeyCache::knows_valid`]): no backend or store
    /// call. `false` for a request without one, with an unusable one, or with a key not
    /// known (yet). Use it to exempt verified callers from a rule meant for guesses, such as
    /// a failed-authentications rate limit in front of this layer.
    pub fn knows_valid(&self, headers: &http::HeaderMap) -> bool {
        self.settings
            .extractor
            .extract(headers)
            .is_ok_and(|key| self.cache.knows_valid(&key))
    }
}

impl<B, K: KeyStore> Clone for ApiKeyLayer<B, K> {
    fn clone(&self) -> Self {
        Self {
            cache: self.cache.clone(),
            settings: Arc::clone(&self.settings),
        }
    }
}

impl<B: Backend, K: KeyStore> std::fmt::Debug for ApiKeyLayer<B, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyLayer")
            .field("cache", &self.cache)
            .field("extractor", &self.settings.extractor)
            .field("realm", &self.settings.realm)
            .finish_non_exhaustive()
    }
}

impl<S, B: Backend, K: KeyStore> Layer<S> for ApiKeyLayer<B, K> {
    type Service = ApiKey<S, B, K>;

    fn layer(&self, inner: S) -> Self::Service {
        ApiKey::new(inner, self.cache.clone(), Arc::clone(&self.settings))
    }
}
