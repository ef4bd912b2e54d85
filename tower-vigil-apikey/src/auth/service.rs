//! [`ApiKey`]: the authentication middleware service. It reads the credential, asks the
//! [`ApiKeyCache`] what the key is ([`KeyStatus`]) and turns every answer but a valid key into
//! an [`ApiKeyRejection`].

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;
use tower_vigil_core::Backend;
use tower_vigil_core::http::{ResponseBody, is_grpc};

use super::future::{ResponseFuture, authenticated};
use super::layer::Settings;
use crate::{
    ApiKeyCache, ApiKeyRejection, ApiKeyRejectionKind, Authenticated, KeyStatus, KeyStore,
};

/// Authenticates each request's API key before calling the inner service; built by
/// [`ApiKeyLayer`](crate::ApiKeyLayer).
pub struct ApiKey<S, B, K: KeyStore> {
    inner: S,
    cache: ApiKeyCache<B, K>,
    settings: Arc<Settings>,
}

impl<S, B, K: KeyStore> ApiKey<S, B, K> {
    pub(super) fn new(inner: S, cache: ApiKeyCache<B, K>, settings: Arc<Settings>) -> Self {
        Self {
            inner,
            cache,
            settings,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, consuming the middleware.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, B, K: KeyStore> Clone for ApiKey<S, B, K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            cache: self.cache.clone(),
            settings: Arc::clone(&self.settings),
        }
    }
}

impl<S: std::fmt::Debug, B: Backend, K: KeyStore> std::fmt::Debug for ApiKey<S, B, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("inner", &self.inner)
            .field("cache", &self.cache)
            .field("extractor", &self.settings.extractor)
            .field("realm", &self.settings.realm)
            .finish_non_exhaustive()
    }
}

/// The rejection for every answer but a valid key.
fn decide<T>(status: KeyStatus<T>) -> Result<Authenticated<T>, ApiKeyRejectionKind> {
    match status {
        KeyStatus::Valid(who) => Ok(who),
        KeyStatus::InvalidFormat => Err(ApiKeyRejectionKind::InvalidFormat),
        KeyStatus::Unknown => Err(ApiKeyRejectionKind::UnknownKey),
        KeyStatus::Expired(_) => Err(ApiKeyRejectionKind::Expired),
        KeyStatus::Unavailable(_) => Err(ApiKeyRejectionKind::Unavailable),
    }
}

impl<S, B, K, ReqBody, ResBody> Service<Request<ReqBody>> for ApiKey<S, B, K>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    B: Backend,
    K: KeyStore,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, ResBody, K::Extra>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let grpc = is_grpc(req.headers());
        let settings = &self.settings;
        let key = match settings.extractor.extract(req.headers()) {
            Ok(key) => key,
            Err((kind, detail)) => {
                let rejection =
                    ApiKeyRejection::new(kind, &settings.realm, grpc).with_detail(detail);
                return ResponseFuture::rejected(settings.responder.respond(rejection));
            }
        };
        if settings.extractor.strip {
            settings.extractor.strip(req.headers_mut());
        }
        // An L1 hit (or a malformed key) is decided here: no future of the layer's own, and
        // the ready inner service is called directly.
        if let Some(status) = self.cache.check_key_now(&key) {
            return match decide(status) {
                Ok(who) => {
                    authenticated(&mut req, who, settings);
                    ResponseFuture::calling(self.inner.call(req))
                }
                Err(kind) => ResponseFuture::rejected(
                    settings
                        .responder
                        .respond(ApiKeyRejection::new(kind, &settings.realm, grpc)),
                ),
            };
        }
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let cache = self.cache.clone();
        let realm = settings.realm.clone();
        let auth = Box::pin(async move {
            decide(cache.check_key(&key).await)
                .map_err(|kind| ApiKeyRejection::new(kind, &realm, grpc))
        });
        ResponseFuture::authenticating(auth, req, inner, Arc::clone(settings))
    }
}
