//! [`ApiKeyLayer`]: the authentication middleware's configuration, built by
//! [`ApiKeyLayer::new`] or [`ApiKeyLayer::builder`].

use std::sync::Arc;

use tower_layer::Layer;
use tower_vigil_core::{Backend, DefaultResponse};

use super::credential::Extractor;
use super::service::ApiKey;
use crate::rejection::Realm;
use crate::{ApiKeyCache, KeyStore};

/// Authenticates requests by API key through an [`ApiKeyCache`].
#[must_use]
pub struct ApiKeyLayer<B, K: KeyStore, R = DefaultResponse> {
    cache: ApiKeyCache<B, K>,
    extractor: Arc<Extractor>,
    realm: Realm,
    response: R,
}

impl<B, K: KeyStore, R> ApiKeyLayer<B, K, R> {
    pub(crate) fn from_parts(
        cache: ApiKeyCache<B, K>,
        extractor: Extractor,
        realm: Realm,
        response: R,
    ) -> Self {
        Self {
            cache,
            extractor: Arc::new(extractor),
            realm,
            response,
        }
    }

    /// The cache this layer looks keys up in.
    pub fn cache(&self) -> &ApiKeyCache<B, K> {
        &self.cache
    }
}

impl<B, K: KeyStore, R: Clone> Clone for ApiKeyLayer<B, K, R> {
    fn clone(&self) -> Self {
        Self {
            cache: self.cache.clone(),
            extractor: Arc::clone(&self.extractor),
            realm: self.realm.clone(),
            response: self.response.clone(),
        }
    }
}

impl<B: Backend, K: KeyStore, R> std::fmt::Debug for ApiKeyLayer<B, K, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyLayer")
            .field("cache", &self.cache)
            .field("extractor", &self.extractor)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl<S, B: Backend, K: KeyStore, R: Clone> Layer<S> for ApiKeyLayer<B, K, R> {
    type Service = ApiKey<S, B, K, R>;

    fn layer(&self, inner: S) -> Self::Service {
        ApiKey::new(
            inner,
            self.cache.clone(),
            Arc::clone(&self.extractor),
            self.realm.clone(),
            self.response.clone(),
        )
    }
}
