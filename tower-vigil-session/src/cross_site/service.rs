//! [`CrossSite`]: the middleware.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;
use tower_vigil_core::http::{ResponseBody, is_grpc};

use super::body::{self, CrossSiteBody};
use super::future::ResponseFuture;
use super::layer::{Config, Verdict};
use super::rejection::{CrossSiteRejection, CrossSiteRejectionKind};
use super::response::Responder;
use super::token;
use crate::session::Session;

/// The middleware built by [`CrossSiteLayer`](super::CrossSiteLayer).
#[derive(Clone)]
pub struct CrossSite<S> {
    inner: S,
    config: Arc<Config>,
    responder: Responder,
}

impl<S> CrossSite<S> {
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

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CrossSite<S>
where
    S: Service<Request<CrossSiteBody<ReqBody>>, Response = Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Body<Data = Bytes> + Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let grpc = is_grpc(req.headers());
        match self.config.decide(req.method(), req.headers()) {
            Verdict::Allow => ResponseFuture::inner(self.inner.call(req.map(CrossSiteBody::inner))),
            Verdict::Refuse(kind) => {
                ResponseFuture::refused(self.responder.respond(CrossSiteRejection::new(kind, grpc)))
            }
            Verdict::Token => {
                // The clone may not be ready; the one `poll_ready` readied goes into this call.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let config = Arc::clone(&self.config);
                let responder = self.responder.clone();
                ResponseFuture::checking(Box::pin(async move {
                    match check(&config, req).await {
                        Ok(req) => Ok(inner.call(req).await),
                        Err(kind) => Err(responder.respond(CrossSiteRejection::new(kind, grpc))),
                    }
                }))
            }
        }
    }
}

/// The request, once its token matched the session's; never read from the query string.
async fn check<B: Body<Data = Bytes>>(
    config: &Config,
    req: Request<B>,
) -> Result<Request<CrossSiteBody<B>>, CrossSiteRejectionKind> {
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return Err(CrossSiteRejectionKind::NoSession);
    };
    let (parts, body) = req.into_parts();
    let (presented, body) = if let Some(v) = parts.headers.get(&config.header) {
        (Some(v.as_bytes().to_vec()), CrossSiteBody::inner(body))
    } else if body::is_form(&parts.headers) {
        let (data, trailers) = body::read(body, config.body_limit).await?;
        let value = body::form_value(&data, &config.form_field);
        (value, CrossSiteBody::buffered(data, trailers))
    } else {
        (None, CrossSiteBody::inner(body))
    };
    let presented = presented
        .filter(|p| !p.is_empty())
        .ok_or(CrossSiteRejectionKind::MissingToken)?;
    let stored = session
        .csrf_field()
        .await
        .map_err(|_| CrossSiteRejectionKind::Unavailable)?;
    if !token::matches(&presented, stored.as_deref()) {
        return Err(CrossSiteRejectionKind::BadToken);
    }
    Ok(Request::from_parts(parts, body))
}

impl<S: std::fmt::Debug> std::fmt::Debug for CrossSite<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrossSite")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
