//! [`ResponseFuture`]: the future of [`Idempotency`](crate::Idempotency).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::Response;
use tower_vigil_core::http::ResponseBody;

use crate::body::IdempotencyBody;

/// The response future of [`Idempotency`](crate::Idempotency). It is boxed: a keyed request
/// goes through several store calls and waits for the handler's task to hand over the
/// response head, and naming that state machine would cost more than the one allocation.
#[must_use = "futures do nothing unless polled"]
pub struct ResponseFuture<B: http_body::Body, E> {
    inner: BoxFuture<'static, Result<Response<ResponseBody<IdempotencyBody<B>>>, E>>,
}

impl<B: http_body::Body, E> ResponseFuture<B, E> {
    pub(crate) fn new(
        inner: BoxFuture<'static, Result<Response<ResponseBody<IdempotencyBody<B>>>, E>>,
    ) -> Self {
        Self { inner }
    }
}

impl<B: http_body::Body, E> Future for ResponseFuture<B, E> {
    type Output = Result<Response<ResponseBody<IdempotencyBody<B>>>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<B: http_body::Body, E> fmt::Debug for ResponseFuture<B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
