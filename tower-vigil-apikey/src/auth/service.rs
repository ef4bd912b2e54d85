//! [`ApiKey`]: the authentication middleware service.

use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;
use tower_vigil_core::http::ResponseBody;

use super::future::ResponseFuture;
use super::{ApiKeyLayer, ResponseForApiKey};
use crate::{ApiKeyBackend, KeyStore};

/// Authenticates each request's API key before calling the inner service; built by
/// [`ApiKeyLayer`].
pub struct ApiKey<S, B, K: KeyStore, R> {
    pub(crate) inner: S,
    pub(crate) layer: ApiKeyLayer<B, K, R>,
}

impl<S: Clone, B, K: KeyStore, R: Clone> Clone for ApiKey<S, B, K, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S: std::fmt::Debug, B: std::fmt::Debug + ApiKeyBackend, K: KeyStore, R> std::fmt::Debug
    for ApiKey<S, B, K, R>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish()
    }
}

impl<S, B, K, R, ReqBody, ResBody> Service<Request<ReqBody>> for ApiKey<S, B, K, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    B: ApiKeyBackend,
    K: KeyStore,
    R: ResponseForApiKey<ResBody>,
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
        let extractor = &self.layer.extractor;
        let key = match extractor.extract(req.headers()) {
            Ok(key) => key,
            Err(rejection) => {
                return ResponseFuture::rejected(&self.layer.response, rejection, req.headers());
            }
        };
        if extractor.strip {
            extractor.strip(req.headers_mut());
        }
        let cache = self.layer.cache.clone();
        let auth = Box::pin(async move { cache.authenticate(&key).await });
        ResponseFuture::authenticating(auth, req, inner, self.layer.response.clone())
    }
}
