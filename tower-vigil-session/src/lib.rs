//! # tower-vigil-session
//!
//! Server-side sessions for any tower service (axum, tonic, hyper), stored in Redis, Redis
//! Cluster or memory.
//!
//! - **Token**: a 128-bit session id and a 256-bit secret from the OS CSPRNG, base64url, in
//!   a cookie (`__Host-vigil_session`; `HttpOnly; Secure; SameSite=Lax; Path=/`) or a header;
//!   optionally HMAC-signed with key rotation. The backend sees only SHA-256 digests.
//!   Malformed, unsigned or oversized tokens mean "no session", with no backend call;
//!   well-formed but wrong ones find nothing.
//! - **Lazy**: a request without a token costs nothing; one that reads its session loads it
//!   once; only changed fields are written, after the response, and only while the session
//!   exists (a write racing a logout cannot bring it back). A failed save is a 503.
//! - **Expiry**: idle (24 h) and absolute (7 days) timeouts enforced by the store; the TTL is
//!   refreshed at most once per quarter of the idle window, with `lastActivity` as one field.
//! - **Fixation**: [`Session::cycle_id`] gives the session a new secret in one atomic write;
//!   the old token is dead at once.
//! - **Per user**: [`SessionAdmin::destroy_user_sessions`] and
//!   [`SessionAdmin::list_user_sessions`] read a per-user index: O(that user's sessions).
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response, header};
//! use tower::{Service, ServiceBuilder, ServiceExt, service_fn};
//! use tower_vigil_core::MemoryBackend;
//! use tower_vigil_session::{Session, SessionManagerLayer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // `RedisBackend::connect("redis://…")` works the same way.
//! let layer = SessionManagerLayer::new(MemoryBackend::new());
//! let sessions = layer.admin();
//! let mut app = ServiceBuilder::new().layer(layer).service(service_fn(|req: Request<String>| async move {
//!     let session = req.extensions().get::<Session>().unwrap().clone();
//!     session.cycle_id().await.unwrap(); // a login gets a fresh token
//!     session.set_user_id("alice").await.unwrap();
//!     session.insert("theme", "dark").await.unwrap();
//!     Ok::<_, Infallible>(Response::new(String::from("welcome")))
//! }));
//! let res = app.ready().await?.call(Request::new(String::new())).await?;
//! assert!(res.headers()[header::SET_COOKIE].to_str()?.contains("HttpOnly"));
//!
//! assert_eq!(sessions.list_user_sessions("alice").await?.len(), 1);
//! assert_eq!(sessions.destroy_user_sessions("alice").await?, 1); // "log out everywhere"
//! # Ok(())
//! # }
//! ```
//!
//! - **Cross-site requests**: [`CrossSiteLayer`], inside the session layer, refuses
//!   state-changing requests another site may have made (`Sec-Fetch-Site`, trusted `Origin`s,
//!   then a synchronizer token from [`csrf_token`]); see [`cross_site`].
//!
//! Settings (timeouts, cookie, header tokens, signing keys, eager principal, responses) go
//! through [`SessionManagerLayer::builder`]; every setter is infallible and
//! [`build`](SessionManagerLayerBuilder::build) checks them all.
//!
//! Metrics (through the `metrics` facade): loads, saves, refreshes, destroys, revocations,
//! store failures and a latency histogram of store calls; the names and their descriptions
//! are in [`metrics`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// Entry points for the fuzz targets into internal parsers. Not API (see the module).
#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;
/// Internals the crate's own tests reach. Not API: exempt from semver.
#[doc(hidden)]
pub mod __private;
mod admin;
mod config;
pub mod cross_site;
mod error;
#[cfg(feature = "axum")]
pub mod extract;
mod keys;
mod layer;
pub mod metrics;
mod session;
mod store;
mod timeouts;
mod token;

pub use crate::admin::{SessionAdmin, SessionInfo};
pub use crate::cross_site::{
    CrossSite, CrossSiteBody, CrossSiteLayer, CrossSiteLayerBuilder, CrossSiteRejection,
    CrossSiteRejectionKind, CsrfToken, csrf_token,
};
pub use crate::error::{SessionError, SessionErrorKind};
pub use crate::layer::{
    ResponseFuture, SessionManager, SessionManagerLayer, SessionManagerLayerBuilder,
    SessionRejection, SessionRejectionKind,
};
pub use crate::session::Session;
pub use crate::timeouts::{DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT};
pub use crate::token::{CookieConfig, CookiePrefix, SameSite};
