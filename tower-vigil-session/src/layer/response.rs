//! [`ResponseForSession`]: the responses the layer answers with when a session cannot be
//! served.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use tower_vigil_core::http::{GrpcCode, PROBLEM_JSON, Problem, grpc_response};

use super::rejection::{SessionRejection, SessionRejectionKind};

/// Builds the response for a [`SessionRejection`]. Implemented by [`DefaultSessionResponse`]
/// (problem+json, or a gRPC status for gRPC calls) and by any
/// `Fn(&SessionRejection) -> Response<Bytes>`.
///
/// ```
/// use bytes::Bytes;
/// use http::{Response, StatusCode};
/// use tower_vigil_core::MemoryBackend;
/// use tower_vigil_session::{SessionManagerLayer, SessionRejection};
///
/// let layer = SessionManagerLayer::builder(MemoryBackend::new())
///     .response(|r: &SessionRejection| {
///         let mut res = Response::new(Bytes::from_static(b"try again later"));
///         *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
///         res
///     })
///     .build()?;
/// # let _ = layer;
/// # Ok::<(), tower_vigil_core::ConfigError>(())
/// ```
pub trait ResponseForSession: Send + Sync + 'static {
    /// The response for `rejection`.
    fn response(&self, rejection: &SessionRejection) -> Response<Bytes>;
}

/// The default responses: `503` / `401` problem+json, or gRPC `UNAVAILABLE` /
/// `UNAUTHENTICATED`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultSessionResponse;

impl ResponseForSession for DefaultSessionResponse {
    fn response(&self, rejection: &SessionRejection) -> Response<Bytes> {
        let (status, code, title, detail) = match rejection.kind {
            SessionRejectionKind::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                GrpcCode::Unavailable,
                "Session store unavailable",
                "The session could not be read or saved; try again shortly.",
            ),
            SessionRejectionKind::Ended => (
                StatusCode::UNAUTHORIZED,
                GrpcCode::Unauthenticated,
                "Session ended",
                "The session ended while this request was changing it; the change was not saved.",
            ),
        };
        if rejection.grpc {
            return grpc_response::<()>(code, detail).map(|_| Bytes::new());
        }
        let mut res = Response::new(Bytes::from(
            Problem::new(status).title(title).detail(detail).to_json(),
        ));
        *res.status_mut() = status;
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        res
    }
}

impl<F> ResponseForSession for F
where
    F: Fn(&SessionRejection) -> Response<Bytes> + Send + Sync + 'static,
{
    fn response(&self, rejection: &SessionRejection) -> Response<Bytes> {
        self(rejection)
    }
}
