//! The axum extractor for [`Session`] (feature `axum`).
//!
//! ```
//! use axum::{Router, routing::get};
//! use tower_vigil_core::MemoryBackend;
//! use tower_vigil_session::{Session, SessionManagerLayer};
//!
//! async fn count(session: Session) -> Result<String, tower_vigil_session::SessionError> {
//!     let n: u64 = session.get("n").await?.unwrap_or(0) + 1;
//!     session.insert("n", n).await?;
//!     Ok(n.to_string())
//! }
//!
//! let app: Router = Router::new()
//!     .route("/", get(count))
//!     .layer(SessionManagerLayer::new(MemoryBackend::new()));
//! # let _ = app;
//! ```

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::error::{SessionError, SessionErrorKind};
use crate::session::Session;

/// The [`SessionManagerLayer`](crate::SessionManagerLayer) is missing: a server bug, answered with 500.
#[derive(Debug, Clone, Copy)]
pub struct MissingSessionManagerLayer;

impl IntoResponse for MissingSessionManagerLayer {
    fn into_response(self) -> Response {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "SessionManagerLayer is not installed",
        )
            .into_response()
    }
}

impl<St: Send + Sync> FromRequestParts<St> for Session {
    type Rejection = MissingSessionManagerLayer;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or(MissingSessionManagerLayer)
    }
}

/// A handler can return `Result<_, SessionError>`: a backend failure is a 503 (the layer
/// replaces it with its own 503 anyway), a value that does not fit a 500.
impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        let status = match self.kind() {
            SessionErrorKind::Backend => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, self.to_string()).into_response()
    }
}
