//! [`RateLimit`]: the service.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower_service::Service;
use tower_vigil_core::http::{ResponseBody, is_grpc};
use tracing::{Instrument, Span};

use super::config::Config;
use super::engine::{Checked, Source};
use super::future::{Admitted, ResponseFuture};
use super::headers;
use super::missing_key::{MissingKey, SHARED_KEY};
use super::rejection::RateLimitRejection;
use crate::algorithm::Mode;
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
    S::Error: Send + 'static,
    B: Backend,
    ReqBody: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, B, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Quota is never reserved here: only a request that is actually sent is counted.
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let config = &self.config;
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
                        return ResponseFuture::inner(self.inner.call(req), None, Span::none());
                    }
                    MissingKey::Shared => SHARED_KEY.to_owned(),
                    MissingKey::Reject => {
                        let rejection = RateLimitRejection::missing_key(is_grpc(req.headers()));
                        return ResponseFuture::ready(config.response.respond(rejection));
                    }
                }
            }
        };
        let chosen = config.chosen_policies(&head);
        let cost = config.cost_of(&head);
        let before = config.outcome.mode_before(&head);
        let span = tracing::debug_span!(
            "ratelimit",
            allowed = tracing::field::Empty,
            source = tracing::field::Empty
        );
        let policies: &[Policy] = chosen.as_deref().unwrap_or(&config.policies);
        // In process (the memory backend, a cached denial), decided here and now.
        let Some(checked) = config.check_now(&key, policies, cost, before) else {
            // Awaited: the ready service goes into the boxed future, and a clone waits for the
            // next `poll_ready`.
            let clone = self.inner.clone();
            let inner = std::mem::replace(&mut self.inner, clone);
            let config = self.config.clone();
            return ResponseFuture::boxed(
                remote(config, inner, req, (key, chosen, cost, before)).instrument(span),
            );
        };
        match verdict(config, checked, &span, &req, chosen.is_none()) {
            Verdict::Respond(res) => ResponseFuture::ready(res),
            Verdict::Pass => {
                let fut = in_span(&span, || self.inner.call(req));
                ResponseFuture::inner(fut, None, span)
            }
            Verdict::Serve(decision, source) => {
                let admitted = Admitted {
                    config: self.config.clone(),
                    decision,
                    source,
                    key,
                    chosen,
                    cost,
                    before,
                };
                let fut = in_span(&span, || self.inner.call(req));
                ResponseFuture::inner(fut, Some(admitted), span)
            }
        }
    }
}

/// Runs `f` in `span`, or just runs it when the span is disabled (no subscriber wants it):
/// entering and leaving even a disabled span is a visible share of this layer's cost.
fn in_span<T>(span: &Span, f: impl FnOnce() -> T) -> T {
    if span.is_disabled() {
        f()
    } else {
        span.in_scope(f)
    }
}

/// What the layer does with a checked request.
enum Verdict {
    /// Answer with this (a 429, a 503).
    Respond(Response<Bytes>),
    /// Serve it undecided (the backend failed and the failure policy lets it through).
    Pass,
    /// Serve it and describe the decision on its response.
    Serve(Decision, Source),
}

/// The verdict on a checked request, counted and recorded on its span.
fn verdict<B: Backend, T>(
    config: &Config<B>,
    checked: Checked,
    span: &Span,
    req: &Request<T>,
    configured_policies: bool,
) -> Verdict {
    let (decision, source) = match checked {
        Checked::Decided(d, source) => (d, source),
        Checked::Unchecked => {
            if !span.is_disabled() {
                span.record("source", "failed_open");
            }
            metrics::failed_open();
            return Verdict::Pass;
        }
        Checked::Unavailable => {
            metrics::unavailable();
            let rejection = RateLimitRejection::unavailable(is_grpc(req.headers()));
            return Verdict::Respond(config.response.respond(rejection));
        }
    };
    if !span.is_disabled() {
        span.record("allowed", decision.allowed());
        span.record("source", tracing::field::debug(source));
    }
    if decision.allowed() {
        metrics::allowed(config.shadow);
        return Verdict::Serve(decision, source);
    }
    let denying = decision
        .policies()
        .iter()
        .find(|p| !p.allowed())
        .map_or("", |p| p.policy().name());
    metrics::limited(denying.to_owned(), config.shadow);
    if config.shadow {
        return Verdict::Serve(decision, source);
    }
    let rejection = RateLimitRejection::limited(decision.clone(), is_grpc(req.headers()));
    let mut res = config.response.respond(rejection);
    headers::insert(
        res.headers_mut(),
        &decision,
        &config.headers,
        configured_policies,
    );
    res.extensions_mut().insert(decision);
    Verdict::Respond(res)
}

/// A request whose decision is awaited from the backend: the whole of it, boxed.
async fn remote<S, B, ReqBody, ResBody>(
    config: Arc<Config<B>>,
    mut inner: S,
    req: Request<ReqBody>,
    (key, chosen, cost, before): (String, Option<Arc<[Policy]>>, u32, Mode),
) -> Result<Response<ResponseBody<ResBody>>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    B: Backend,
{
    let policies = chosen.as_deref().unwrap_or(&config.policies);
    let checked = config.check_remote(&key, policies, cost, before).await;
    let verdict = verdict(&config, checked, &Span::current(), &req, chosen.is_none());
    match verdict {
        Verdict::Respond(res) => Ok(res.map(ResponseBody::full)),
        Verdict::Pass => Ok(inner.call(req).await?.map(ResponseBody::inner)),
        Verdict::Serve(decision, source) => {
            let mut res = inner.call(req).await?.map(ResponseBody::inner);
            let admitted = Admitted {
                config,
                decision,
                source,
                key,
                chosen,
                cost,
                before,
            };
            if admitted.settles(res.status()) {
                return Ok(admitted.settle(res).await);
            }
            admitted.finish(&mut res);
            Ok(res)
        }
    }
}
