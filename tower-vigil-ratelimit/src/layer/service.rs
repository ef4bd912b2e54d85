//! [`RateLimit`]: the service.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower_service::Service;
use tower_vigil_core::http::{ResponseBody, is_grpc};
use tracing::Instrument;

use super::config::Config;
use super::engine::{Checked, Source};
use super::future::ResponseFuture;
use super::headers;
use super::missing_key::{MissingKey, SHARED_KEY};
use super::rejection::RateLimitRejection;
use crate::decision::Decision;
use crate::key::RequestHead;
use crate::metrics;
use crate::quota::Policy;
use tower_vigil_core::Backend;

/// Rate-limits requests to `S`; made by [`RateLimitLayer`](crate::RateLimitLayer).
pub struct RateLimit<S, B> {
    pub(crate) inner: S,
    pub(crate) config: Arc<Config<B>>,
}

impl<S, B> RateLimit<S, B> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, consuming this one.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, B> Clone for RateLimit<S, B> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            config: self.config.clone(),
        }
    }
}

impl<S: std::fmt::Debug, B> std::fmt::Debug for RateLimit<S, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B, ReqBody, ResBody> Service<Request<ReqBody>> for RateLimit<S, B>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Backend,
    ReqBody: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Quota is never reserved here: only a request that is actually sent is counted.
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // The ready service handles this request; the clone waits for the next poll_ready.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let config = self.config.clone();
        let span = tracing::debug_span!(
            "ratelimit",
            allowed = tracing::field::Empty,
            source = tracing::field::Empty
        );
        ResponseFuture::new(run(config, inner, req).instrument(span))
    }
}

fn layer_made<Body>(res: Response<Bytes>) -> Response<ResponseBody<Body>> {
    res.map(ResponseBody::full)
}

async fn run<S, B, ReqBody, ResBody>(
    config: Arc<Config<B>>,
    mut inner: S,
    req: Request<ReqBody>,
) -> Result<Response<ResponseBody<ResBody>>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    B: Backend,
{
    // Whether the call is gRPC (`is_grpc`) is read only where a rejection is built: the
    // allowed path reads no header it does not need.
    let head = RequestHead::new(&req);
    let key = match config.key.extract(&head) {
        Some(key) => key,
        None => {
            let action = config.missing_key;
            metrics::missing_key(action.as_str());
            match action {
                MissingKey::Allow => {
                    return Ok(inner.call(req).await?.map(ResponseBody::inner));
                }
                MissingKey::Shared => SHARED_KEY.to_owned(),
                MissingKey::Reject => {
                    let rejection = RateLimitRejection::missing_key(is_grpc(req.headers()));
                    return Ok(layer_made(config.response.respond(rejection)));
                }
            }
        }
    };
    let chosen = config.chosen_policies(&head);
    let policies: &[Policy] = chosen.as_deref().unwrap_or(&config.policies);
    let cost = config.cost_of(&head);
    // In process (the memory backend, a cached denial) the check makes no future.
    let checked = match config.check_now(&key, policies, cost) {
        Some(checked) => checked,
        // Boxed, so the in-process path's future (this one) does not carry its size.
        None => Box::pin(config.check_remote(&key, policies, cost)).await,
    };
    let (decision, source) = match checked {
        Checked::Decided(d, source) => (d, source),
        Checked::Unchecked => {
            tracing::Span::current().record("source", "failed_open");
            metrics::failed_open();
            return Ok(inner.call(req).await?.map(ResponseBody::inner));
        }
        Checked::Unavailable => {
            metrics::unavailable();
            let rejection = RateLimitRejection::unavailable(is_grpc(req.headers()));
            return Ok(layer_made(config.response.respond(rejection)));
        }
    };
    let span = tracing::Span::current();
    span.record("allowed", decision.allowed());
    span.record("source", tracing::field::debug(source));
    if decision.allowed() {
        metrics::allowed(config.shadow);
    } else {
        let denying = decision
            .policies()
            .iter()
            .find(|p| !p.allowed())
            .map_or("", |p| p.policy().name());
        metrics::limited(denying.to_owned(), config.shadow);
        if !config.shadow {
            let rejection = RateLimitRejection::limited(decision.clone(), is_grpc(req.headers()));
            let mut res = config.response.respond(rejection);
            headers::insert(
                res.headers_mut(),
                &decision,
                &config.headers,
                chosen.is_none(),
            );
            res.extensions_mut().insert(decision);
            return Ok(layer_made(res));
        }
    }
    serve(
        &config,
        inner,
        req,
        decision,
        source,
        (&key, policies, cost),
    )
    .await
}

/// Calls the inner service, refunds a response that does not count, and adds the headers and
/// the decision.
async fn serve<S, B, ReqBody, ResBody>(
    config: &Config<B>,
    mut inner: S,
    req: Request<ReqBody>,
    decision: Decision,
    source: Source,
    (key, policies, cost): (&str, &[Policy], u32),
) -> Result<Response<ResponseBody<ResBody>>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    B: Backend,
{
    let mut res = inner.call(req).await?.map(ResponseBody::inner);
    // A refunded response describes the state after its unit was given back. Most responses
    // count: they make no refund future at all.
    let decision = if config.refunds(&decision, res.status()) {
        config
            .settle(key, policies, cost, &decision, source, res.status())
            .await
            .unwrap_or(decision)
    } else {
        decision
    };
    headers::insert(
        res.headers_mut(),
        &decision,
        &config.headers,
        // The configured policies are passed by reference, never copied: same address.
        std::ptr::eq(policies, &*config.policies),
    );
    res.extensions_mut().insert(decision);
    Ok(res)
}
