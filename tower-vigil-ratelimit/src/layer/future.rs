//! [`ResponseFuture`]: what [`RateLimit`](super::RateLimit) returns.
//!
//! A request decided in process (the memory backend, a cached denial) makes no future of the
//! layer's own: a rejection is ready at once, and an admitted request's future is the inner
//! service's, with the decision's headers added when it completes. Only a decision that is
//! awaited (Redis), or a refund after a response that does not count, is one boxed future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Response;
use pin_project_lite::pin_project;
use tower_vigil_core::Backend;
use tower_vigil_core::http::ResponseBody;

use super::config::Config;
use super::engine::Source;
use super::headers;
use crate::algorithm::Mode;
use crate::decision::Decision;
use crate::quota::Policy;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pin_project! {
    /// The response future of [`RateLimit`](super::RateLimit).
    pub struct ResponseFuture<F, B, ResBody, E> {
        #[pin]
        kind: Kind<F, B, ResBody, E>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B, ResBody, E> {
        /// Answered by the layer itself: taken on the first poll.
        Ready { response: Option<Response<Bytes>> },
        /// The inner service's future; then, for an admitted request, the decision's headers.
        Inner {
            #[pin]
            fut: F,
            admitted: Option<Admitted<B>>,
            span: tracing::Span,
        },
        /// A decision awaited from the backend, or a refund after the response.
        Boxed { fut: BoxFuture<Result<Response<ResponseBody<ResBody>>, E>> },
    }
}

/// What an admitted request keeps for its response: its decision and what a refund needs.
pub(crate) struct Admitted<B> {
    pub(crate) config: Arc<Config<B>>,
    pub(crate) decision: Decision,
    pub(crate) source: Source,
    pub(crate) key: String,
    /// The request's own policies (a quota chosen per request); `None`: the configured ones.
    pub(crate) chosen: Option<Arc<[Policy]>>,
    pub(crate) cost: u32,
    /// How the decision was made: `Acquire` (the cost taken), or `Peek` (a known-good
    /// request, checked only).
    pub(crate) before: Mode,
}

impl<B: Backend> Admitted<B> {
    fn policies(&self) -> &[Policy] {
        self.chosen.as_deref().unwrap_or(&self.config.policies)
    }

    /// The decision's headers and the decision itself on `res`.
    pub(crate) fn finish<T>(self, res: &mut Response<T>) {
        self.finish_with(res, None);
    }

    /// True when the response needs a settling call (a refund, or a known-good request's
    /// charge) before it is complete.
    pub(crate) fn settles(&self, status: http::StatusCode) -> bool {
        self.config
            .settlement(&self.decision, self.before, status)
            .is_some()
    }

    /// [`finish`](Self::finish) with the decision after a settling call, when there was one.
    fn finish_with<T>(self, res: &mut Response<T>, refunded: Option<Decision>) {
        let decision = refunded.unwrap_or(self.decision);
        headers::insert(
            res.headers_mut(),
            &decision,
            &self.config.headers,
            self.chosen.is_none(),
        );
        res.extensions_mut().insert(decision);
    }

    /// After the response: gives the cost back when the response does not count, or charges
    /// a known-good request whose response does (and describes the state after that call),
    /// then adds the headers.
    pub(crate) async fn settle<T>(self, mut res: Response<T>) -> Response<T> {
        let after = self
            .config
            .settle(
                &self.key,
                self.policies(),
                self.cost,
                (&self.decision, self.source),
                self.before,
                res.status(),
            )
            .await;
        self.finish_with(&mut res, after);
        res
    }
}

impl<F, B, ResBody, E> ResponseFuture<F, B, ResBody, E> {
    pub(crate) fn ready(response: Response<Bytes>) -> Self {
        Self {
            kind: Kind::Ready {
                response: Some(response),
            },
        }
    }

    pub(crate) fn inner(fut: F, admitted: Option<Admitted<B>>, span: tracing::Span) -> Self {
        Self {
            kind: Kind::Inner {
                fut,
                admitted,
                span,
            },
        }
    }

    pub(crate) fn boxed(
        fut: impl Future<Output = Result<Response<ResponseBody<ResBody>>, E>> + Send + 'static,
    ) -> Self {
        Self {
            kind: Kind::Boxed { fut: Box::pin(fut) },
        }
    }
}

impl<F, B, ResBody, E> Future for ResponseFuture<F, B, ResBody, E>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    B: Backend,
    ResBody: Send + 'static,
    E: Send + 'static,
{
    type Output = Result<Response<ResponseBody<ResBody>>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let refund = match self.as_mut().project().kind.project() {
            KindProj::Ready { response } => {
                let res = response
                    .take()
                    .expect("ResponseFuture polled after completion");
                return Poll::Ready(Ok(res.map(ResponseBody::full)));
            }
            KindProj::Boxed { fut } => return fut.as_mut().poll(cx),
            KindProj::Inner {
                fut,
                admitted,
                span,
            } => {
                let _entered = (!span.is_disabled()).then(|| span.enter());
                let mut res = ready!(fut.poll(cx))?.map(ResponseBody::inner);
                let Some(admitted) = admitted.take() else {
                    return Poll::Ready(Ok(res));
                };
                if !admitted.settles(res.status()) {
                    // Most responses need no settling call: no future.
                    admitted.finish(&mut res);
                    return Poll::Ready(Ok(res));
                }
                admitted.settle(res)
            }
        };
        // The refund is awaited: the rest of this future is boxed.
        self.set(Self::boxed(async move { Ok(refund.await) }));
        self.poll(cx)
    }
}

impl<F, B, ResBody, E> fmt::Debug for ResponseFuture<F, B, ResBody, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
