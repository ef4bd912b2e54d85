//! Cross-site request protection for cookie sessions: [`CrossSiteLayer`] refuses
//! state-changing requests (every method but `GET`, `HEAD`, `OPTIONS`, `TRACE`) that another
//! site may have made with the user's cookie (CSRF).
//!
//! # Decision order
//!
//! Safe methods always pass. For the others:
//!
//! 1. **`Sec-Fetch-Site`** (sent by every current browser): `same-origin` or `none` passes;
//!    `cross-site` is refused ([`CrossSite`](CrossSiteRejectionKind::CrossSite)); `same-site`
//!    is refused ([`SameSiteNotAllowed`](CrossSiteRejectionKind::SameSiteNotAllowed)) unless
//!    [`allow_same_site(true)`](CrossSiteLayerBuilder::allow_same_site); any other value, or
//!    the header twice, is refused ([`UnknownFetchSite`](CrossSiteRejectionKind::UnknownFetchSite)).
//! 2. Without it, **`Origin`**: when present it must be one of the
//!    [`trusted_origins`](CrossSiteLayerBuilder::trusted_origins) (exact
//!    `scheme://host[:port]`, normalised on both sides), else the request is refused
//!    ([`UntrustedOrigin`](CrossSiteRejectionKind::UntrustedOrigin)); `null` never matches.
//! 3. Without either header (old browsers, non-browser clients), the **synchronizer token**
//!    is required: from the header `x-csrf-token` ([`header`](CrossSiteLayerBuilder::header)),
//!    or, for an `application/x-www-form-urlencoded` body, from its field `csrf_token`
//!    ([`form_field`](CrossSiteLayerBuilder::form_field)). Never from the query string (URLs
//!    leak through logs and `Referer`). It is compared in constant time with the token
//!    stored in the session: none sent is
//!    [`MissingToken`](CrossSiteRejectionKind::MissingToken), another one
//!    [`BadToken`](CrossSiteRejectionKind::BadToken). To read a form, the layer buffers the
//!    body up to [`body_limit`](CrossSiteLayerBuilder::body_limit) (64 KiB) and hands the same
//!    bytes on ([`CrossSiteBody`]); a larger body is a `413`
//!    ([`BodyTooLarge`](CrossSiteRejectionKind::BodyTooLarge)), chosen over a `403` because
//!    the client can fix it by sending the token in the header.
//!
//! With [`require_token(true)`](CrossSiteLayerBuilder::require_token) the token is demanded
//! even when step 1 or 2 let the request through (defence in depth). Every refusal is a `403`
//! (except the `413` above, a `400` for an unreadable body and a `503` when the session store
//! fails), problem+json through core's [`DefaultResponse`](tower_vigil_core::DefaultResponse)
//! or the builder's [`response`](CrossSiteLayerBuilder::response), with the
//! [`CrossSiteRejection`] in the response's extensions, and is counted in
//! [`CROSS_SITE_REJECTIONS_TOTAL`](crate::metrics::CROSS_SITE_REJECTIONS_TOTAL) by kind.
//!
//! # The token
//!
//! [`csrf_token`] returns the session's [`CsrfToken`], 32 bytes from the OS CSPRNG made on
//! first use and kept in the session under a reserved field (out of reach of
//! [`Session::get`](crate::Session::get) / [`insert`](crate::Session::insert)). It is stored
//! as is, not hashed: pages must embed it again and again, and it is worthless without the
//! session cookie, whose token the store only ever sees hashed.
//!
//! **Rotation**: [`Session::cycle_id`](crate::Session::cycle_id) (a login, a privilege
//! change) drops the stored token together with the old session token, and the next
//! [`csrf_token`] call makes a new one, so a token obtained before login is refused after it.
//! This fits the crate better than binding the token to the session id (an HMAC of the id):
//! a cycle keeps the session's storage key and replaces only its secret, and the new session
//! token exists only once the response is saved, while a handler that cycles the id
//! must be able to embed the new CSRF token in that very response. Dropping the field rides on
//! the cycle's single atomic write; [`Session::destroy`](crate::Session::destroy) ends it too.
//!
//! # Stacking
//!
//! The layer reads the [`Session`](crate::Session) from the request extensions, so it must
//! sit **inside** [`SessionManagerLayer`](crate::SessionManagerLayer): with `ServiceBuilder`,
//! after it; with axum's `Router::layer`, before it (the last `.layer` is the outermost).
//! Without a session, a request that needs a token is refused
//! ([`NoSession`](CrossSiteRejectionKind::NoSession)), never passed.
//!
//! ```
//! use axum::{Extension, Router, body::Body, routing::get};
//! use http::{Request, StatusCode, header};
//! use http_body_util::BodyExt;
//! use tower::ServiceExt;
//! use tower_vigil_core::MemoryBackend;
//! use tower_vigil_session::{CrossSiteLayer, Session, SessionManagerLayer, csrf_token};
//!
//! async fn form(Extension(session): Extension<Session>) -> Result<String, StatusCode> {
//!     // A real page puts it in a hidden field.
//!     let token = csrf_token(&session).await.map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
//!     Ok(token.into_string())
//! }
//!
//! async fn transfer(body: String) -> String {
//!     format!("done: {body}")
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app = Router::new()
//!     .route("/transfer", get(form).post(transfer))
//!     .layer(CrossSiteLayer::new()) // inner: sees the Session
//!     .layer(SessionManagerLayer::new(MemoryBackend::new())); // outer
//!
//! // The form page: a session with its token.
//! let res = app.clone().oneshot(Request::get("/transfer").body(Body::empty()).unwrap()).await.unwrap();
//! let set_cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
//! let cookie = set_cookie.split(';').next().unwrap().to_owned();
//! let token = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
//!
//! // Another site posting with the user's cookie is refused.
//! let forged = Request::post("/transfer")
//!     .header(header::COOKIE, &cookie)
//!     .header("sec-fetch-site", "cross-site")
//!     .body(Body::from("to=mallory"))
//!     .unwrap();
//! assert_eq!(app.clone().oneshot(forged).await.unwrap().status(), StatusCode::FORBIDDEN);
//!
//! // A same-origin request passes on the browser's word.
//! let mine = Request::post("/transfer")
//!     .header(header::COOKIE, &cookie)
//!     .header("sec-fetch-site", "same-origin")
//!     .body(Body::from("to=bob"))
//!     .unwrap();
//! assert_eq!(app.clone().oneshot(mine).await.unwrap().status(), StatusCode::OK);
//!
//! // Without Fetch Metadata or Origin, the form must carry the token; the handler gets the
//! // whole body.
//! let form = Request::post("/transfer")
//!     .header(header::COOKIE, &cookie)
//!     .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
//!     .body(Body::from(format!("to=bob&csrf_token={token}")))
//!     .unwrap();
//! let res = app.oneshot(form).await.unwrap();
//! assert_eq!(res.status(), StatusCode::OK);
//! let body = res.into_body().collect().await.unwrap().to_bytes();
//! assert_eq!(body, format!("done: to=bob&csrf_token={token}"));
//! # }
//! ```

pub(crate) mod body;
mod builder;
mod future;
#[allow(clippy::module_inception)]
pub(crate) mod layer;
pub(crate) mod origin;
mod rejection;
mod response;
mod service;
mod token;

pub use self::body::CrossSiteBody;
pub use self::builder::{
    CrossSiteLayerBuilder, DEFAULT_BODY_LIMIT, DEFAULT_FORM_FIELD, DEFAULT_TOKEN_HEADER,
    MAX_BODY_LIMIT,
};
pub use self::future::ResponseFuture;
pub use self::layer::CrossSiteLayer;
pub use self::rejection::{CrossSiteRejection, CrossSiteRejectionKind};
pub use self::service::CrossSite;
pub use self::token::{CsrfToken, csrf_token};
