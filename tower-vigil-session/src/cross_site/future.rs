//! [`ResponseFuture`]: the inner service's response, or the layer's refusal.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::future::BoxFuture;
use http::Response;
use pin_project_lite::pin_project;
use tower_vigil_core::http::ResponseBody;

/// The token check, then the inner service: its output, or the refusal.
pub(crate) type CheckFuture<O, B> = BoxFuture<'static, Result<O, Response<ResponseBody<B>>>>;

pin_project! {
    /// The response future of [`CrossSite`](super::CrossSite).
    pub struct ResponseFuture<F: Future, B> {
        #[pin]
        kind: Kind<F, B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F: Future, B> {
        // The headers let the request through: the inner service runs.
        Inner { #[pin] fut: F },
        // The token is being checked (maybe a form body read), then the inner service runs.
        Checking { fut: CheckFuture<F::Output, B> },
        // Refused by the headers alone.
        Refused { res: Option<Response<ResponseBody<B>>> },
    }
}

impl<F: Future, B> ResponseFuture<F, B> {
    pub(crate) fn inner(fut: F) -> Self {
        Self {
            kind: Kind::Inner { fut },
        }
    }

    pub(crate) fn checking(fut: CheckFuture<F::Output, B>) -> Self {
        Self {
            kind: Kind::Checking { fut },
        }
    }

    pub(crate) fn refused(res: Response<ResponseBody<B>>) -> Self {
        Self {
            kind: Kind::Refused { res: Some(res) },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { fut } => {
                Poll::Ready(ready!(fut.poll(cx)).map(|r| r.map(ResponseBody::inner)))
            }
            KindProj::Checking { fut } => Poll::Ready(match ready!(fut.as_mut().poll(cx)) {
                Ok(out) => out.map(|r| r.map(ResponseBody::inner)),
                Err(refused) => Ok(refused),
            }),
            KindProj::Refused { res } => {
                Poll::Ready(Ok(res.take().expect("polled after completion")))
            }
        }
    }
}

impl<F: Future, B> std::fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
