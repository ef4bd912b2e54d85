//! [`ApiKey`]: the authentication middleware service. It reads the credential, asks the
//! [`ApiKeyCache`] what the key is ([`KeyStatus`]) and turns every answer but a valid key into
//! an [`ApiKeyRejection`].

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;
use tower_vigil_core::http::{ResponseBody, is_grpc};
use tower_vigil_core::{Backend, RejectionResponse};

use super::credential::Extractor;
use super::future::ResponseFuture;
use crate::rejection::Realm;
use crate::{
    ApiKeyCache, ApiKeyRejection, ApiKeyRejectionKind, Authenticated, KeyStatus, KeyStore,
};

/// Authenticates each request's API key before calling the inner service; built by
/// [`ApiKeyLayer`](crate::ApiKeyLayer).
pub struct ApiKey<S, B, K: KeyStore, R> {
    inner: S,
    cache: ApiKeyCache<B, K>,
    extractor: Arc<Extractor>,
    realm: Realm,
    response: R,
}

impl<S, B, K: KeyStore, R> ApiKey<S, B, K, R> {
    pub(crate) fn new(
        inner: S,
        cache: ApiKeyCache<B, K>,
        extractor: Arc<Extractor>,
        realm: Realm,
        response: R,
    ) -> Self {
        Self {
            inner,
            cache,
            extractor,
            realm,
            response,
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

impl<S: Clone, B, K: KeyStore, R: Clone> Clone for ApiKey<S, B, K, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            cache: self.cache.clone(),
            extractor: Arc::clone(&self.extractor),
            realm: self.realm.clone(),
            response: self.response.clone(),
        }
    }
}

impl<S: std::fmt::Debug, B: Backend, K: KeyStore, R> std::fmt::Debug for ApiKey<S, B, K, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("inner", &self.inner)
            .field("cache", &self.cache)
            .field("extractor", &self.extractor)
            .field("realm", &self.realm)
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

impl<S, B, K, R, ReqBody, ResBody> Service<Request<ReqBody>> for ApiKey<S, B, K, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    B: Backend,
    K: KeyStore,
    R: RejectionResponse<ApiKeyRejection>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, ResBody, K::Extra, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let grpc = is_grpc(req.headers());
        let key = match self.extractor.extract(req.headers()) {
            Ok(key) => key,
            Err((kind, detail)) => {
                let rejection = ApiKeyRejection::new(kind, &self.realm, grpc).with_detail(detail);
                return ResponseFuture::rejected(&self.response, rejection);
            }
        };
        if self.extractor.strip {
            self.extractor.strip(req.headers_mut());
        }
        let cache = self.cache.clone();
        let realm = self.realm.clone();
        let auth = Box::pin(async move {
            decide(cache.check_key(&key).await)
                .map_err(|kind| ApiKeyRejection::new(kind, &realm, grpc))
        });
        ResponseFuture::authenticating(auth, req, inner, self.realm.clone(), self.response.clone())
    }
}
