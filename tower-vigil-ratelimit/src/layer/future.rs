//! [`ResponseFuture`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The response future of [`RateLimit`](super::RateLimit): the backend call, the inner service
/// and any refund after the response, in one boxed future (the backend call is async anyway).
pub struct ResponseFuture<T, E> {
    inner: BoxFuture<Result<T, E>>,
}

impl<T, E> ResponseFuture<T, E> {
    pub(crate) fn new(fut: impl Future<Output = Result<T, E>> + Send + 'static) -> Self {
        Self {
            inner: Box::pin(fut),
        }
    }
}

impl<T, E> Future for ResponseFuture<T, E> {
    type Output = Result<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<T, E> fmt::Debug for ResponseFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
