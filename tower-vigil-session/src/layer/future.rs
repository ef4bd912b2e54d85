//! [`ResponseFuture`]: runs the inner service, then saves the session and sets the cookie.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::future::BoxFuture;
use http::header::SET_COOKIE;
use http::{HeaderValue, Response};
use pin_project_lite::pin_project;
use tower_vigil_core::http::ResponseBody;

use super::rejection::{SessionRejection, SessionRejectionKind};
use super::response::Responder;
use crate::config::Carrier;
use crate::session::{SaveOutcome, Session};

/// What the future needs once the inner service responded.
pub(crate) struct Finish {
    pub(crate) session: Session,
    pub(crate) responder: Responder,
    pub(crate) carrier: Carrier,
    pub(crate) grpc: bool,
}

type EagerFuture<O> = BoxFuture<'static, Option<O>>;

pin_project! {
    /// The response future of [`SessionManager`](super::SessionManager).
    pub struct ResponseFuture<F: Future, B> {
        #[pin]
        kind: Kind<F, B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F: Future, B> {
        // The inner service is running.
        Direct { #[pin] fut: F, finish: Option<Finish> },
        // The session is loaded first (eager principal), then the inner service runs.
        Eager { fut: EagerFuture<F::Output>, finish: Option<Finish> },
        // The session is being saved.
        Saving { fut: BoxFuture<'static, Response<ResponseBody<B>>> },
    }
}

impl<F: Future, B> ResponseFuture<F, B> {
    pub(crate) fn direct(fut: F, finish: Finish) -> Self {
        Self {
            kind: Kind::Direct {
                fut,
                finish: Some(finish),
            },
        }
    }

    pub(crate) fn eager(fut: EagerFuture<F::Output>, finish: Finish) -> Self {
        Self {
            kind: Kind::Eager {
                fut,
                finish: Some(finish),
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Send + 'static,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let (res, finish) = match this.kind.as_mut().project() {
                KindProj::Direct { fut, finish } => {
                    let res = ready!(fut.poll(cx))?;
                    (res, finish.take().expect("polled after completion"))
                }
                KindProj::Eager { fut, finish } => {
                    let out = ready!(fut.as_mut().poll(cx));
                    let finish = finish.take().expect("polled after completion");
                    match out {
                        Some(res) => (res?, finish),
                        None => {
                            let kind = SessionRejectionKind::Unavailable;
                            return Poll::Ready(Ok(finish.reject(kind)));
                        }
                    }
                }
                KindProj::Saving { fut } => return Poll::Ready(Ok(ready!(fut.as_mut().poll(cx)))),
            };
            if finish.session.needs_save() == Some(false) {
                return Poll::Ready(Ok(res.map(ResponseBody::inner)));
            }
            this.kind.set(Kind::Saving {
                fut: Box::pin(finish.run(res)),
            });
        }
    }
}

impl Finish {
    fn reject<B>(&self, kind: SessionRejectionKind) -> Response<ResponseBody<B>> {
        self.responder
            .respond(SessionRejection::new(kind, self.grpc))
    }

    /// Saves the session and turns the inner response into the one the client gets.
    async fn run<B>(self, res: Response<B>) -> Response<ResponseBody<B>> {
        if self.session.failed().await {
            return self.reject(SessionRejectionKind::Unavailable);
        }
        let outcome = match self.session.save().await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, "session save failed");
                return self.reject(SessionRejectionKind::Unavailable);
            }
        };
        let config = self.session.config();
        let mut res = match outcome {
            SaveOutcome::Ended => self.reject(SessionRejectionKind::Ended),
            _ => res.map(ResponseBody::inner),
        };
        match outcome {
            SaveOutcome::Unchanged => {}
            SaveOutcome::Issued(token) => {
                let value = config.encode(&token);
                match (&config.cookie, &config.header) {
                    (Some(cookie), _) if self.carrier == Carrier::Cookie => {
                        append(&mut res, SET_COOKIE, &cookie.set_cookie(&value));
                    }
                    (_, Some(header)) => append(&mut res, header.clone(), &value),
                    (Some(cookie), None) => {
                        append(&mut res, SET_COOKIE, &cookie.set_cookie(&value))
                    }
                    (None, None) => {}
                }
            }
            // Only the request that destroyed the session expires its cookie (see
            // `SaveOutcome::Cleared`); `Ended` answers 401 and leaves the cookie alone.
            SaveOutcome::Ended => {}
            SaveOutcome::Cleared => {
                if let (Some(cookie), Carrier::Cookie) = (&config.cookie, self.carrier) {
                    append(&mut res, SET_COOKIE, &cookie.clear_cookie());
                }
            }
        }
        res
    }
}

fn append<B>(res: &mut Response<B>, name: http::HeaderName, value: &str) {
    // Cookie names, attributes and tokens are validated ASCII; a failure here is impossible.
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().append(name, v);
    }
}
