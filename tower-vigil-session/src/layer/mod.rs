//! The middleware: [`SessionManagerLayer`] (and its builder), the [`SessionManager`] service,
//! its [`ResponseFuture`], and the [`SessionRejection`] (answered through the builder's
//! [`response`](SessionManagerLayerBuilder::response)).
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response, header};
//! use tower::{Service, ServiceBuilder, ServiceExt, service_fn};
//! use tower_vigil_core::MemoryBackend;
//! use tower_vigil_session::{Session, SessionManagerLayer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let layer = SessionManagerLayer::new(MemoryBackend::new());
//! let mut app = ServiceBuilder::new().layer(layer).service(service_fn(|req: Request<String>| async move {
//!     let session = req.extensions().get::<Session>().unwrap().clone();
//!     if req.uri().path() == "/login" {
//!         session.cycle_id().await.unwrap();
//!         session.set_user_id("alice").await.unwrap();
//!     }
//!     let user = session.user_id().await.unwrap();
//!     Ok::<_, Infallible>(Response::new(format!("{user:?}")))
//! }));
//!
//! let login = Request::get("/login").body(String::new()).unwrap();
//! let res = app.ready().await.unwrap().call(login).await.unwrap();
//! let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
//! let pair = cookie.split(';').next().unwrap().to_owned();
//!
//! let me = Request::get("/me").header(header::COOKIE, pair).body(String::new()).unwrap();
//! let res = app.ready().await.unwrap().call(me).await.unwrap();
//! assert!(res.headers().get(header::SET_COOKIE).is_none()); // nothing changed
//! # }
//! ```

mod builder;
mod future;
#[allow(clippy::module_inception)]
mod layer;
mod rejection;
mod response;
mod service;

pub use self::builder::SessionManagerLayerBuilder;
pub use self::future::ResponseFuture;
pub use self::layer::SessionManagerLayer;
pub use self::rejection::{SessionRejection, SessionRejectionKind};
pub use self::service::SessionManager;
