//! How a [`Rejection`] becomes a response: a [`ResponseForRejection`], by default
//! [`DefaultResponse`], an `application/problem+json` body (or a gRPC status for gRPC
//! requests) with `Retry-After` where a retry can succeed. Supply your own with a closure.
//!
//! ```
//! use bytes::Bytes;
//! use http::{Response, StatusCode};
//! use tower_vigil_idempotency::{DefaultResponse, Rejection, ResponseForRejection};
//!
//! let res = DefaultResponse.response(&Rejection::Mismatch, false);
//! assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
//! assert_eq!(res.headers()["content-type"], "application/problem+json");
//!
//! // A custom answer: plain text.
//! let custom = |r: &Rejection, _grpc: bool| {
//!     Response::builder().status(r.status()).body(Bytes::from(r.to_string())).unwrap()
//! };
//! assert_eq!(custom.response(&Rejection::MissingKey, false).status(), 400);
//! ```

use bytes::Bytes;
use http::{HeaderValue, Response, header};
use http_body_util::Empty;
use tower_vigil_core::http::{Problem, grpc_response};

use super::rejection::Rejection;

/// Where the problem types of this crate are documented.
const TYPE_BASE: &str =
    "https://docs.rs/tower-vigil-idempotency/latest/tower_vigil_idempotency/enum.Rejection.html";

/// Turns a [`Rejection`] into a response. `grpc` is true for gRPC requests.
pub trait ResponseForRejection: Clone + Send + Sync + 'static {
    /// The response for `rejection`.
    fn response(&self, rejection: &Rejection, grpc: bool) -> Response<Bytes>;
}

/// The default answers: problem+json (gRPC statuses for gRPC requests), with `Retry-After`
/// on 409 and 503.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultResponse;

impl ResponseForRejection for DefaultResponse {
    fn response(&self, rejection: &Rejection, grpc: bool) -> Response<Bytes> {
        let mut res = if grpc {
            grpc_response::<Empty<Bytes>>(rejection.grpc_code(), &rejection.to_string())
                .map(|_| Bytes::new())
        } else {
            let mut problem = Problem::new(rejection.status()).detail(rejection.to_string());
            if let Some(s) = rejection.retry_after_secs() {
                problem = problem.extension("retryAfter", s);
            }
            match rejection {
                Rejection::Unscoped => {
                    problem = problem.type_uri(format!("{TYPE_BASE}#variant.Unscoped"));
                }
                Rejection::NotReplayable { status, reason } => {
                    problem = problem
                        .type_uri(format!("{TYPE_BASE}#variant.NotReplayable"))
                        .extension("originalStatus", status.as_u16())
                        .extension("reason", reason.as_str());
                }
                _ => {}
            }
            let json = problem.to_json();
            problem
                .into_response::<Empty<Bytes>>()
                .map(|_| Bytes::from(json))
        };
        if let Some(s) = rejection.retry_after_secs() {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        res
    }
}

impl<F> ResponseForRejection for F
where
    F: Fn(&Rejection, bool) -> Response<Bytes> + Clone + Send + Sync + 'static,
{
    fn response(&self, rejection: &Rejection, grpc: bool) -> Response<Bytes> {
        self(rejection, grpc)
    }
}
