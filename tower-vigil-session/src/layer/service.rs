//! [`SessionManager`]: the middleware.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;
use tower_vigil_core::Principal;
use tower_vigil_core::http::{ResponseBody, is_grpc};

use super::future::{Finish, ResponseFuture};
use super::response::Responder;
use crate::config::Config;
use crate::session::Session;

/// The middleware built by [`SessionManagerLayer`](super::SessionManagerLayer).
#[derive(Clone)]
pub struct SessionManager<S> {
    inner: S,
    config: Arc<Config>,
    responder: Responder,
}

impl<S> SessionManager<S> {
    pub(super) fn new(inner: S, config: Arc<Config>, responder: Responder) -> Self {
        Self {
            inner,
            config,
            responder,
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

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionManager<S>
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
        let config = Arc::clone(&self.config);
        let (token, carrier) = config.extract(req.headers());
        let has_token = token.is_some();
        let session = Session::new(config.clone(), token);
        req.extensions_mut().insert(session.clone());
        let finish = Finish {
            session: session.clone(),
            responder: self.responder.clone(),
            carrier,
            grpc: is_grpc(req.headers()),
        };
        if !(config.eager_principal && has_token) {
            return ResponseFuture::direct(inner.call(req), finish);
        }
        ResponseFuture::eager(
            Box::pin(async move {
                // Loads the session now; a failure is the 503 `ResponseFuture` answers.
                let user = session.user_id().await.ok()?;
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

impl<S: std::fmt::Debug> std::fmt::Debug for SessionManager<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
