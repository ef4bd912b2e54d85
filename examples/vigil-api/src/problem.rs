//! The application's own error responses, as problem+json like every layer's.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::de::DeserializeOwned;
use tower_vigil_core::http::Problem;

/// A problem+json response.
pub struct ApiError(Problem);

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self(Problem::new(status).detail(detail))
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, detail)
    }

    /// A server-side failure: logged in full, answered without internals.
    pub fn internal(what: &str, e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "{what}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{what} failed"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0
            .into_response::<axum::body::Body>()
            .map(axum::body::Body::new)
    }
}

/// `Json<T>` whose rejections are problem+json: 413 past the body limit, 415 without a JSON
/// content type, 400 for malformed JSON, 422 for JSON of the wrong shape.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(match rejection {
                JsonRejection::JsonDataError(e) => {
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.body_text())
                }
                JsonRejection::JsonSyntaxError(e) => {
                    ApiError::new(StatusCode::BAD_REQUEST, e.body_text())
                }
                JsonRejection::MissingJsonContentType(_) => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "expected Content-Type: application/json",
                ),
                JsonRejection::BytesRejection(e) => {
                    let status = e.status();
                    let detail = if status == StatusCode::PAYLOAD_TOO_LARGE {
                        "the request body is larger than allowed".to_owned()
                    } else {
                        e.body_text()
                    };
                    ApiError::new(status, detail)
                }
                other => ApiError::new(other.status(), other.body_text()),
            }),
        }
    }
}
