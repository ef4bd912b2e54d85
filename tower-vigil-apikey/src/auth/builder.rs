//! [`ApiKeyLayerBuilder`]: where the credential is read from, the realm the challenges name
//! and how rejections are answered; checked by [`build`](ApiKeyLayerBuilder::build).
//!
//! ```
//! use tower_vigil_apikey::{ApiKeyCache, ApiKeyLayer, StaticKeyStore};
//! use tower_vigil_core::MemoryBackend;
//!
//! let cache = ApiKeyCache::new(MemoryBackend::new(), StaticKeyStore::<()>::new());
//! let layer = ApiKeyLayer::builder(cache.clone())
//!     .header_name("x-vigil-key")
//!     .realm("vigil")
//!     .strip_credentials(true)
//!     .build()
//!     .unwrap();
//! # drop(layer);
//!
//! // Authorization is read through `bearer(true)`, never as the key header.
//! let err = ApiKeyLayer::builder(cache).header_name("authorization").build().unwrap_err();
//! assert_eq!(err.field(), "header_name");
//! ```

use http::HeaderName;
use http::header::AUTHORIZATION;
use tower_vigil_core::{Backend, ConfigError, DefaultResponse, RejectionResponse};

use super::credential::Extractor;
use super::layer::ApiKeyLayer;
use crate::ApiKeyRejection;
use crate::rejection::{DEFAULT_REALM, Realm, Responder};
use crate::{ApiKeyCache, KeyStore};

/// The header the key is read from by default.
const DEFAULT_HEADER: &str = "x-api-key";

impl<B: Backend, K: KeyStore> ApiKeyLayer<B, K> {
    /// Reads `X-API-Key` and `Authorization: Bearer`, leaves the headers in place, and
    /// answers rejections with [`DefaultResponse`] (each rejection's
    /// [`default_response`](tower_vigil_core::Rejection::default_response)) in realm `api`.
    ///
    /// The layer takes the [`ApiKeyCache`], not a backend: the cache is the object the
    /// application keeps to revoke keys, and one cache (one in-process tier, one invalidation
    /// subscription) serves every layer built from it.
    pub fn new(cache: ApiKeyCache<B, K>) -> Self {
        Self::from_parts(
            cache,
            Extractor::default(),
            Realm::default(),
            Responder::new(DefaultResponse),
        )
    }

    /// A builder over `cache`, for other settings.
    pub fn builder(cache: ApiKeyCache<B, K>) -> ApiKeyLayerBuilder<B, K> {
        ApiKeyLayerBuilder {
            cache,
            header_name: DEFAULT_HEADER.to_owned(),
            bearer: true,
            strip_credentials: false,
            realm: DEFAULT_REALM.to_owned(),
            response: Responder::new(DefaultResponse),
        }
    }
}

/// Builds an [`ApiKeyLayer`]. Every setter stores its value; [`build`](Self::build) checks
/// them.
#[must_use]
pub struct ApiKeyLayerBuilder<B, K: KeyStore> {
    cache: ApiKeyCache<B, K>,
    header_name: String,
    bearer: bool,
    strip_credentials: bool,
    realm: String,
    response: Responder,
}

impl<B: Backend, K: KeyStore> std::fmt::Debug for ApiKeyLayerBuilder<B, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyLayerBuilder")
            .field("cache", &self.cache)
            .field("header_name", &self.header_name)
            .field("bearer", &self.bearer)
            .field("strip_credentials", &self.strip_credentials)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl<B: Backend, K: KeyStore> ApiKeyLayerBuilder<B, K> {
    /// The header the key is read from (default `x-api-key`; a valid header name other than
    /// `authorization`, which is read through [`bearer`](Self::bearer)).
    pub fn header_name(mut self, name: impl Into<String>) -> Self {
        self.header_name = name.into();
        self
    }

    /// Whether `Authorization: Bearer <key>` is accepted too (default true).
    pub fn bearer(mut self, accept: bool) -> Self {
        self.bearer = accept;
        self
    }

    /// Whether the credential headers are removed before the inner service sees the request
    /// (default false).
    pub fn strip_credentials(mut self, strip: bool) -> Self {
        self.strip_credentials = strip;
        self
    }

    /// The realm the default response's `WWW-Authenticate` challenges name (default `api`;
    /// 1 to 64 printable ASCII characters without `"` or `\`). A
    /// [`RequirePermissionLayer`](crate::RequirePermissionLayer) behind this layer names it too.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Answers rejections with `response`: a
    /// [`RejectionResponse<ApiKeyRejection>`](RejectionResponse), such as a closure
    /// `Fn(&ApiKeyRejection) -> Response<Bytes>`, instead of [`DefaultResponse`]. The
    /// rejection is put in the response's extensions either way.
    pub fn response(mut self, response: impl RejectionResponse<ApiKeyRejection>) -> Self {
        self.response = Responder::new(response);
        self
    }

    /// The layer, or the first setting that is not valid.
    pub fn build(self) -> Result<ApiKeyLayer<B, K>, ConfigError> {
        let header = HeaderName::try_from(self.header_name.as_str())
            .map_err(|_| ConfigError::new("header_name", "not a valid header name"))?;
        if header == AUTHORIZATION {
            return Err(ConfigError::new(
                "header_name",
                "Authorization is read through bearer(true)",
            ));
        }
        let realm = Realm::new(&self.realm)?;
        let extractor = Extractor {
            header,
            bearer: self.bearer,
            strip: self.strip_credentials,
        };
        Ok(ApiKeyLayer::from_parts(
            self.cache,
            extractor,
            realm,
            self.response,
        ))
    }
}
