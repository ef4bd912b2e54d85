//! [`ApiKeyLayer`]: configuration of the authentication middleware.

use std::sync::Arc;

use http::HeaderName;
use tower_layer::Layer;
use tower_vigil_core::ConfigError;

use super::extract::Extractor;
use super::{ApiKey, DefaultRejectionResponse};
use crate::{ApiKeyBackend, ApiKeyCache, KeyStore};

/// Authenticates requests by API key through an [`ApiKeyCache`].
#[must_use]
pub struct ApiKeyLayer<B, K: KeyStore, R = DefaultRejectionResponse> {
    pub(crate) cache: ApiKeyCache<B, K>,
    pub(crate) extractor: Arc<Extractor>,
    pub(crate) response: R,
}

impl<B, K: KeyStore, R: Clone> Clone for ApiKeyLayer<B, K, R> {
    fn clone(&self) -> Self {
        Self {
            cache: self.cache.clone(),
            extractor: Arc::clone(&self.extractor),
            response: self.response.clone(),
        }
    }
}

impl<B: std::fmt::Debug + ApiKeyBackend, K: KeyStore, R> std::fmt::Debug for ApiKeyLayer<B, K, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyLayer")
            .field("cache", &self.cache)
            .field("extractor", &self.extractor)
            .finish_non_exhaustive()
    }
}

impl<B: ApiKeyBackend, K: KeyStore> ApiKeyLayer<B, K> {
    /// Reads `X-API-Key` and `Authorization: Bearer`, answers rejections with
    /// [`DefaultRejectionResponse`] (realm `api`) and leaves the headers in place.
    pub fn new(cache: ApiKeyCache<B, K>) -> Self {
        Self {
            cache,
            extractor: Arc::new(Extractor::default()),
            response: DefaultRejectionResponse::default(),
        }
    }

    /// The realm named in `WWW-Authenticate` challenges (default `api`).
    pub fn realm(mut self, realm: &str) -> Result<Self, ConfigError> {
        self.response = DefaultRejectionResponse::new(realm)?;
        Ok(self)
    }
}

impl<B: ApiKeyBackend, K: KeyStore, R> ApiKeyLayer<B, K, R> {
    /// The header the key is read from (default `x-api-key`; `authorization` is refused,
    /// since Bearer tokens are read from it already).
    pub fn header_name(mut self, name: &str) -> Result<Self, ConfigError> {
        let header = HeaderName::try_from(name)
            .map_err(|_| ConfigError::new("header_name", "not a valid header name"))?;
        if header == http::header::AUTHORIZATION {
            return Err(ConfigError::new(
                "header_name",
                "Authorization is read through bearer(true)",
            ));
        }
        Arc::make_mut(&mut self.extractor).header = header;
        Ok(self)
    }

    /// Whether `Authorization: Bearer <key>` is accepted too (default true).
    pub fn bearer(mut self, accept: bool) -> Self {
        Arc::make_mut(&mut self.extractor).bearer = accept;
        self
    }

    /// Whether the credential headers are removed before the inner service sees the request
    /// (default false).
    pub fn strip_credentials(mut self, strip: bool) -> Self {
        Arc::make_mut(&mut self.extractor).strip = strip;
        self
    }

    /// Answers rejections with `response` instead of [`DefaultRejectionResponse`].
    pub fn response<R2>(self, response: R2) -> ApiKeyLayer<B, K, R2> {
        ApiKeyLayer {
            cache: self.cache,
            extractor: self.extractor,
            response,
        }
    }

    /// The cache this layer looks keys up in.
    pub fn cache(&self) -> &ApiKeyCache<B, K> {
        &self.cache
    }
}

impl<S, B: ApiKeyBackend, K: KeyStore, R: Clone> Layer<S> for ApiKeyLayer<B, K, R> {
    type Service = ApiKey<S, B, K, R>;

    fn layer(&self, inner: S) -> Self::Service {
        ApiKey {
            inner,
            layer: self.clone(),
        }
    }
}
