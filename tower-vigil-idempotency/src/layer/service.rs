//! [`Idempotency`]: the middleware service.

use std::error::Error as StdError;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;
use tower_vigil_core::Backend;

use super::future::ResponseFuture;
use crate::body::{IdempotencyBody, RequestBody};
use crate::shared::Shared;

/// Runs each keyed request at most once per (scope, key) and replays its response to
/// duplicates. Built by [`IdempotencyLayer`](crate::IdempotencyLayer).
///
/// The inner service receives a [`RequestBody`] and its response body comes back wrapped in
/// [`IdempotencyBody`] inside a core [`ResponseBody`](tower_vigil_core::http::ResponseBody).
/// The handler runs on its own task (`tokio::spawn`, so the service needs a tokio runtime),
/// so it finishes and its response is recorded even if the client goes away.
pub struct Idempotency<S, B> {
    inner: S,
    shared: Arc<Shared<B>>,
}

impl<S, B> Idempotency<S, B> {
    pub(crate) fn new(inner: S, shared: Arc<Shared<B>>) -> Self {
        Self { inner, shared }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, B> Clone for Idempotency<S, B> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S: std::fmt::Debug, B: std::fmt::Debug> std::fmt::Debug for Idempotency<S, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("inner", &self.inner)
            .field("backend", &self.shared.backend)
            .field("config", &*self.shared.config)
            .finish_non_exhaustive()
    }
}

impl<S, B, ReqBody, ResBody> Service<Request<ReqBody>> for Idempotency<S, B>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Backend,
    ReqBody: Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<Box<dyn StdError + Send + Sync>>,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<crate::stream::BoxError> + Send + 'static,
{
    type Response = Response<tower_vigil_core::http::ResponseBody<IdempotencyBody<ResBody>>>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // The clone may not be ready; the one `poll_ready` readied is the one we use.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::new(Box::pin(crate::flow::handle(
            inner,
            self.shared.clone(),
            req,
        )))
    }
}
