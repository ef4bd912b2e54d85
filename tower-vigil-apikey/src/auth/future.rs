//! [`ResponseFuture`]: the key lookup, then the inner service's response.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_service::Service;
use tower_vigil_core::http::ResponseBody;

use super::layer::Settings;
use crate::{ApiKeyRejection, Authenticated};

type AuthFuture<T> =
    Pin<Box<dyn Future<Output = Result<Authenticated<T>, ApiKeyRejection>> + Send>>;

pin_project! {
    /// The response future of [`ApiKey`](crate::ApiKey).
    pub struct ResponseFuture<S, ReqBody, ResBody, T>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    {
        #[pin]
        state: State<S, ReqBody, ResBody, T>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, ReqBody, ResBody, T>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    {
        Rejected { response: Option<Response<ResponseBody<ResBody>>> },
        Authenticating {
            auth: AuthFuture<T>,
            request: Option<Request<ReqBody>>,
            inner: Option<S>,
            // The realm for the request's extensions, the responder for a rejection.
            settings: Arc<Settings>,
        },
        Calling { #[pin] future: S::Future },
    }
}

impl<S, ReqBody, ResBody, T> ResponseFuture<S, ReqBody, ResBody, T>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    pub(super) fn rejected(response: Response<ResponseBody<ResBody>>) -> Self {
        Self {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }

    /// Authenticated already (an L1 hit): the inner service's future.
    pub(super) fn calling(future: S::Future) -> Self {
        Self {
            state: State::Calling { future },
        }
    }

    pub(super) fn authenticating(
        auth: AuthFuture<T>,
        request: Request<ReqBody>,
        inner: S,
        settings: Arc<Settings>,
    ) -> Self {
        Self {
            state: State::Authenticating {
                auth,
                request: Some(request),
                inner: Some(inner),
                settings,
            },
        }
    }
}

/// Puts who the request is into its extensions: the key's data, principal and permissions,
/// the whole [`Authenticated`], and the realm (for a `RequirePermission` further in: its
/// challenges name it).
pub(super) fn authenticated<B, T: Send + Sync + 'static>(
    req: &mut Request<B>,
    who: Authenticated<T>,
    settings: &Settings,
) {
    let ext = req.extensions_mut();
    ext.insert(Arc::clone(who.data()));
    ext.insert(who.principal().clone());
    ext.insert(who.permissions().clone());
    ext.insert(who);
    ext.insert(settings.realm.clone());
}

impl<S, ReqBody, ResBody, T> Future for ResponseFuture<S, ReqBody, ResBody, T>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    T: Send + Sync + 'static,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Rejected { response } => {
                    return Poll::Ready(Ok(response.take().expect("polled after completion")));
                }
                StateProj::Authenticating {
                    auth,
                    request,
                    inner,
                    settings,
                } => {
                    let outcome = ready!(auth.as_mut().poll(cx));
                    match outcome {
                        Ok(who) => {
                            let mut req = request.take().expect("polled after completion");
                            authenticated(&mut req, who, settings);
                            let mut svc = inner.take().expect("polled after completion");
                            let future = svc.call(req);
                            this.state.set(State::Calling { future });
                        }
                        Err(rejection) => {
                            return Poll::Ready(Ok(settings.responder.respond(rejection)));
                        }
                    }
                }
                StateProj::Calling { future } => {
                    let res = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(res.map(ResponseBody::inner)));
                }
            }
        }
    }
}
