//! `/console`: the web console. Server-rendered HTML (askama templates in `templates/console/`,
//! checked at compile time and escaped by default), no JavaScript, plain forms:
//!
//! ```text
//! GET  /console                        → /console/sessions, or the sign-in form
//! GET  /console/login, POST /console/login, POST /console/logout
//! GET  /console/sessions               my devices: created, last active, user agent
//! POST /console/sessions/end           end one (its id hash in the form)
//! POST /console/sessions/end-others    end all but this one
//! GET  /console/api-keys               (admin) every key, its quota and live usage
//! POST /console/api-keys               (admin) create: the raw key shown once
//! POST /console/api-keys/{id}/revoke   (admin)
//! POST /console/api-keys/{id}/quota    (admin)
//! GET  /console/health                 the probe, and recent rate-limit decisions
//! GET  /console/style.css
//! ```
//!
//! Every route sits inside the session layer, behind [`CrossSiteLayer`]: a state-changing
//! request must come from this origin by the browser's word (`Sec-Fetch-Site`, or a trusted
//! `Origin`), and once signed in it must also carry the session's token in its form
//! (`require_token(true)`), so a page on another site (or another origin of this one) that
//! posts a form here is refused with a 403 before any handler runs. The sign-in form needs no
//! token, so a visitor has no session until signing in: anonymous visits store nothing. Pages carry headers that forbid
//! framing, scripts and caching (`page::security_headers`).

pub mod activity;
mod chart;
mod devices;
mod health;
mod keys;
mod page;
mod signin;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tower_vigil_core::{Backend, ConfigError};
use tower_vigil_ratelimit::RateLimitLayer;
use tower_vigil_session::CrossSiteLayer;

use crate::state::Shared;

/// The console's routes, for the caller to put inside the session layer. `login_limit` is
/// the per-IP failed-login limit `POST /login` has (the same bucket: a wrong password counts
/// the same from either).
pub fn router<B: Backend>(
    login_limit: RateLimitLayer<B>,
    trusted_origins: &[String],
) -> Result<Router<Shared<B>>, ConfigError> {
    let cross_site = |require_token| {
        CrossSiteLayer::builder()
            .trusted_origins(trusted_origins.iter().cloned())
            .require_token(require_token)
            .build()
    };
    // Signing in: the browser's word alone (`Sec-Fetch-Site`, or a trusted `Origin`; a request
    // with neither needs a session's token, which a visitor does not have, so it is refused).
    // No token means no session before signing in: an anonymous visit stores nothing, so a
    // flood of them costs the store nothing.
    let sign_in = Router::new()
        .route(
            "/console/login",
            get(signin::form::<B>).merge(post(signin::submit::<B>).route_layer(login_limit)),
        )
        .layer(cross_site(false)?);
    // Everything behind a session: the browser's word and the session's token in the form.
    let signed_in = Router::new()
        .route(
            "/console",
            get(|| async { Redirect::to("/console/sessions") }),
        )
        .route("/console/logout", post(signin::logout))
        .route("/console/sessions", get(devices::list::<B>))
        .route("/console/sessions/end", post(devices::end::<B>))
        .route(
            "/console/sessions/end-others",
            post(devices::end_others::<B>),
        )
        .route(
            "/console/api-keys",
            get(keys::list::<B>).post(keys::create::<B>),
        )
        .route("/console/api-keys/{id}/revoke", post(keys::revoke::<B>))
        .route("/console/api-keys/{id}/quota", post(keys::set_quota::<B>))
        .route("/console/health", get(health::page::<B>))
        .route("/console/style.css", get(style))
        .layer(cross_site(true)?);
    Ok(sign_in
        .merge(signed_in)
        .layer(axum::middleware::map_response(page::security_headers)))
}

/// The stylesheet, built into the binary.
async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../templates/console/style.css"),
    )
        .into_response()
}
