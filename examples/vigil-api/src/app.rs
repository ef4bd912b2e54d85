//! The router: which layers guard which routes, stacked the way a real service would.
//!
//! ```text
//! POST /v1/analyze, POST /v1/analyze/jobs
//!                    RateLimit (per client IP, failed authentications only) → ApiKey
//!                    → require("analyze") → RateLimit (per key, the key's own quota)
//!                    → Idempotency (scoped per key) → handler
//! GET /v1/analyze/jobs/{id}
//!                    the same without Idempotency (a read has nothing to replay)
//! POST /login        Session → RateLimit (per client IP, failed logins only) → handler
//! GET /me, POST /logout, DELETE /users/{id}/sessions, DELETE /admin/api-keys/{id},
//! PUT /admin/api-keys/{id}/rate-limit
//!                    Session → handler
//! /console/...      Session → CrossSite (Sec-Fetch-Site / Origin, and the session's token
//!                    in every form) → handler; the failed-login limit on its sign-in
//! GET /health/redis, GET /metrics
//! ```
//!
//! The client IP is the peer's, or the client behind `[server] trusted_proxies`
//! ([`ClientIp`](vigil_api::client_ip::ClientIp)). The three analysis routes share one
//! stack, built once: one per-key quota covers them all, and a job's status read is as
//! closed to key guessing as a submission.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, post, put};
use tower::ServiceBuilder;
use tower_vigil_apikey::{ApiKeyData, ApiKeyLayer, require};
use tower_vigil_core::{Backend, ConfigError};
use tower_vigil_idempotency::IdempotencyLayer;
use tower_vigil_ratelimit::key::{KeyExtractor, PrincipalKey, RequestHead};
use tower_vigil_ratelimit::{Policy, Quota, RateLimitBuilder, RateLimitLayer};
use tower_vigil_session::SessionManagerLayer;

use crate::config::Settings;
use crate::routes::{admin, analyze, auth, jobs, ops};
use crate::state::Shared;

/// The most `/v1/analyze` and `/v1/analyze/jobs` read of a request body.
pub const MAX_ANALYZE_BODY: usize = 64 * 1024;

/// The whole application.
pub fn router<B: Backend>(
    state: Shared<B>,
    settings: &Settings,
    sessions: SessionManagerLayer,
) -> Result<Router, ConfigError> {
    let limits = &settings.limits;
    let window = limits.window;
    let per_key = RateLimitLayer::builder(state.backend.clone(), limits.per_key_default)
        .algorithm(limits.algorithm)
        .key(QuotaKey(PrincipalKey::new()))
        .quota_for(move |req| Some(Quota::new(clamp_u32(key_rate_limit(req)?), window)))
        .failure_policy(settings.failure_policy)
        .build()?;
    let api_key = ApiKeyLayer::new(state.api_keys.clone());
    let verified = api_key.clone();
    let authenticated = ServiceBuilder::new()
        // No rate-limit headers of its own (a 429 still has `Retry-After`): on these routes
        // they describe the key's quota, which is what a client paces itself by.
        .layer(
            per_ip_failures(&state, settings, limits.auth_failures.clone())
                .ietf_headers(false)
                .legacy_headers(false)
                // A key this instance has already verified is no guess: it is refused while
                // the IP is over, like any request, but holds no unit while it runs, so a
                // busy client with many requests in flight never fills the failures limit.
                .known_good(move |req| verified.knows_valid(req.headers()))
                .build()?,
        )
        .layer(api_key)
        .layer(require("analyze")?)
        .layer(per_key);
    let idempotent = authenticated.clone().layer(
        IdempotencyLayer::builder(state.backend.clone())
            .max_request_body(MAX_ANALYZE_BODY)
            .build()?,
    );

    // Failed logins per client IP; a correct password is refused too once the IP is over.
    let login_limit = per_ip_failures(&state, settings, limits.login.clone()).build()?;

    let console =
        crate::console::router(login_limit.clone(), &settings.config.server.console_origins)?;
    let session_routes = Router::new()
        .route("/login", post(auth::login::<B>).route_layer(login_limit))
        .route("/me", get(auth::me::<B>))
        .route("/logout", post(auth::logout))
        .route(
            "/users/{user_id}/sessions",
            delete(admin::revoke_user_sessions::<B>),
        )
        .route("/admin/api-keys/{id}", delete(admin::delete_api_key::<B>))
        .route(
            "/admin/api-keys/{id}/rate-limit",
            put(admin::set_api_key_rate_limit::<B>),
        )
        .merge(console)
        .layer(sessions);

    Ok(Router::new()
        .route(
            "/v1/analyze",
            limit_body(post(analyze::handler).route_layer(idempotent.clone())),
        )
        .route(
            "/v1/analyze/jobs",
            limit_body(post(jobs::submit::<B>).route_layer(idempotent)),
        )
        .route(
            "/v1/analyze/jobs/{id}",
            get(jobs::status::<B>).route_layer(authenticated),
        )
        .merge(session_routes)
        .route("/health/redis", get(ops::health_redis::<B>))
        .route("/metrics", get(ops::metrics::<B>))
        .fallback(|| async {
            crate::problem::ApiError::new(StatusCode::NOT_FOUND, "no such route")
        })
        // Outermost, per route: the time through every layer and the handler.
        .layer(axum::middleware::from_fn(crate::request_metrics::record))
        .with_state(state))
}

/// A limit on the 401s one client IP may cause per window under `policy`: the password check
/// for `/login`, the API-key caches and the database for `/v1/analyze`. Only failures count,
/// so a heavy but legitimate caller is never slowed by it; once an IP is over, every request
/// from it is refused until the window allows more, the correct credential included (else
/// the limit would still let an attacker learn when a guess is right).
fn per_ip_failures<B: Backend>(
    state: &Shared<B>,
    settings: &Settings,
    policy: Policy,
) -> RateLimitBuilder<B> {
    RateLimitLayer::builder(state.backend.clone(), policy.quota())
        .name(policy.name())
        .algorithm(policy.algorithm())
        .key(settings.limits.client_ip.clone())
        .charge_when(|status| status == StatusCode::UNAUTHORIZED)
        .failure_policy(settings.failure_policy)
}

/// The analysis body limit on `route`, with [`close_after_too_large`] on its 413.
fn limit_body<S: Clone + Send + Sync + 'static>(route: MethodRouter<S>) -> MethodRouter<S> {
    route
        .layer(DefaultBodyLimit::max(MAX_ANALYZE_BODY))
        .layer(axum::middleware::map_response(close_after_too_large))
}

/// A 413 is sent before the oversized body was read; hyper then closes the connection rather
/// than drain it. Saying so (`Connection: close`) keeps clients from reusing it for their next
/// request, which would otherwise fail with the connection closed under it.
async fn close_after_too_large(mut res: Response) -> Response {
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// The `rate_limit` of the API key the request authenticated with.
fn key_rate_limit(req: &RequestHead<'_>) -> Option<u64> {
    req.extensions().get::<Arc<ApiKeyData>>()?.rate_limit
}

/// The per-key limit's bucket: the key's principal and its current quota
/// (`p:apikey:k-demo#100`). A quota changed at runtime (`PUT /admin/api-keys/{id}/rate-limit`)
/// so starts a bucket of its own, on every instance at once: GCRA's state is a time (the
/// theoretical arrival time), and one reached under 3 a minute would read under 10 a minute
/// as still over the limit, so a raised quota would not admit more until the old debt ran
/// out. A fresh bucket gives the new quota whole. (The deny cache compares quotas too, so no
/// denial under the old quota outlives the change either.)
struct QuotaKey(PrincipalKey);

impl KeyExtractor for QuotaKey {
    fn extract(&self, req: &RequestHead<'_>) -> Option<String> {
        let principal = self.0.extract(req)?;
        Some(quota_bucket(principal, key_rate_limit(req)))
    }

    fn check(&self) -> Result<(), ConfigError> {
        self.0.check()
    }
}

/// The bucket of `principal` (as `PrincipalKey` names it) under the quota `rate_limit`.
fn quota_bucket(principal: String, rate_limit: Option<u64>) -> String {
    match rate_limit {
        Some(limit) => format!("{principal}#{limit}"),
        None => principal,
    }
}

/// The per-key limit's bucket for the API key `key_id` with quota `rate_limit`, as the layer
/// names it for a request with that key: what the console peeks at to show a key's usage.
pub fn per_key_bucket(key_id: &str, rate_limit: u64) -> Option<String> {
    let mut req = http::Request::new(());
    req.extensions_mut()
        .insert(tower_vigil_core::Principal::api_key(key_id));
    let principal = PrincipalKey::new().extract(&RequestHead::new(&req))?;
    Some(quota_bucket(principal, Some(rate_limit)))
}

fn clamp_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX).max(1)
}
