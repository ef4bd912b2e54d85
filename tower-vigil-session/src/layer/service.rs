//! [`SessionService`]: the middleware.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;
use tower_vigil_core::Principal;
use tower_vigil_core::http::{ResponseBody, is_grpc};

use super::future::{Finish, ResponseFuture};
use super::layer::SessionLayer;
use crate::session::Session;

/// The middleware built by [`SessionLayer`].
#[derive(Clone)]
pub struct SessionService<S> {
    inner: S,
    layer: SessionLayer,
}

impl<S> SessionService<S> {
    pub(crate) fn new(inner: S, layer: SessionLayer) -> Self {
        Self { inner, layer }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The clone may not be ready; the one `poll_ready` readied goes into this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let config = self.layer.config.clone();
        let (token, carrier) = config.extract(req.headers());
        let has_token = token.is_some();
        let session = Session::new(config.clone(), token);
        req.extensions_mut().insert(session.clone());
        let finish = Finish {
            session: session.clone(),
            responder: Arc::clone(&self.layer.responder),
            carrier,
            grpc: is_grpc(req.headers()),
        };
        if !(config.eager_principal && has_token) {
            return ResponseFuture::direct(inner.call(req), finish);
        }
        ResponseFuture::eager(
            Box::pin(async move {
                let user = session.load_user().await.ok()?;
                if let Some(u) = user
                    && Principal::from_extensions(req.extensions()).is_none()
                {
                    req.extensions_mut().insert(Principal::user(u));
                }
                Some(inner.call(req).await)
            }),
            finish,
        )
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for SessionService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish()
    }
}
