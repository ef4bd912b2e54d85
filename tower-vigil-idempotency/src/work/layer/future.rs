//! [`ResponseFuture`]: the claim, the run and the record of one message.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;

use crate::work::{Done, WorkError};

/// The future of [`ExactlyOnce`](super::ExactlyOnce): its claim, the inner service's call
/// and its completion are store round trips, so it is boxed once per message.
pub struct ResponseFuture<T, E> {
    inner: BoxFuture<'static, Result<Done<T>, WorkError<E>>>,
}

impl<T, E> ResponseFuture<T, E> {
    pub(super) fn new(inner: BoxFuture<'static, Result<Done<T>, WorkError<E>>>) -> Self {
        Self { inner }
    }
}

impl<T, E> Future for ResponseFuture<T, E> {
    type Output = Result<Done<T>, WorkError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<T, E> fmt::Debug for ResponseFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
