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
//! Every route sits inside the session layer, behind [`CrossSiteLayer`] with
//! `require_token(true)`: a state-changing request must come from this origin by the
//! browser's word (`Sec-Fetch-Site`, or a trusted `Origin`) **and** carry the session's token
//! in its form, so a page on another site (or another origin of this one) that posts a form
//! here is refused with a 403 before any handler runs. Pages carry headers that forbid
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
    let cross_site = CrossSiteLayer::builder()
        .trusted_origins(trusted_origins.iter().cloned())
        .require_token(true)
        .build()?;
    Ok(Router::new()
        .route(
            "/console",
            get(|| async { Redirect::to("/console/sessions") }),
        )
        .route(
            "/console/login",
            get(signin::form::<B>).merge(post(signin::submit::<B>).route_layer(login_limit)),
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
        .layer(cross_site)
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
