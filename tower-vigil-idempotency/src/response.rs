//! Rejections: what the layer answers instead of running the request, and how.
//!
//! Each [`Rejection`] becomes a response through a [`ResponseForRejection`]: by default an
//! `application/problem+json` body (or a gRPC status for gRPC requests), with `Retry-After`
//! where a retry can succeed. Supply your own with a closure. The typed rejection is put in the
//! response's extensions either way, so outer layers can tell what happened.
//!
//! ```
//! use bytes::Bytes;
//! use http::{Response, StatusCode};
//! use tower_vigil_idempotency::{Rejection, ResponseForRejection, DefaultResponse};
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

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Empty;
use tower_vigil_core::http::{GrpcCode, Problem, grpc_response};

use crate::key::KeyError;
use crate::record::NotReplayableReason;

/// Where the problem types of this crate are documented.
const TYPE_BASE: &str =
    "https://docs.rs/tower-vigil-idempotency/latest/tower_vigil_idempotency/enum.Rejection.html";

/// Why the layer answered itself instead of running (or replaying) the request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The key is required on this method and was not sent (400).
    MissingKey,
    /// The `Idempotency-Key` header is malformed or repeated (400).
    InvalidKey(KeyError),
    /// The request carries a key but no scope could be found for it (no
    /// [`Principal`](tower_vigil_core::Principal) in its extensions, no answer from the scope
    /// closure), and the layer refuses unscoped requests, as it does by default (401, problem
    /// type `…/enum.Rejection.html#variant.Unscoped`). The client must authenticate; the
    /// operator must put a layer that publishes a principal in front (for sessions,
    /// `SessionLayer::principal(true)`).
    Unscoped,
    /// The request body is larger than the buffering limit (413).
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request body could not be read (400).
    BodyUnreadable,
    /// A request with this key is still being processed (409).
    InFlight {
        /// When to retry.
        retry_after: Duration,
    },
    /// The key was used with a different request (422).
    Mismatch,
    /// A request with this key already ran to completion, but its response could not be kept
    /// for replay (409, problem type `…/enum.Rejection.html#variant.NotReplayable`, with the
    /// members `originalStatus` and `reason`, and no `Retry-After`: retrying cannot help).
    /// 409 rather than 422: the request is the same one, and what conflicts is the state of
    /// the key (spent) — 422 would tell the client its request differs.
    NotReplayable {
        /// The status the first request was answered with.
        status: StatusCode,
        /// Why its response was not kept.
        reason: NotReplayableReason,
    },
    /// The stored response for this key cannot be read (500); the request is not run again.
    UnreadableRecord,
    /// The store is unavailable and the layer fails closed (503).
    Unavailable,
}

impl Rejection {
    /// The HTTP status of the default response.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingKey | Self::InvalidKey(_) | Self::BodyUnreadable => {
                StatusCode::BAD_REQUEST
            }
            Self::Unscoped => StatusCode::UNAUTHORIZED,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::InFlight { .. } | Self::NotReplayable { .. } => StatusCode::CONFLICT,
            Self::Mismatch => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnreadableRecord => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The gRPC status of the default response to a gRPC request.
    pub fn grpc_code(&self) -> GrpcCode {
        match self {
            Self::MissingKey
            | Self::InvalidKey(_)
            | Self::BodyTooLarge { .. }
            | Self::BodyUnreadable => GrpcCode::InvalidArgument,
            Self::Unscoped => GrpcCode::Unauthenticated,
            Self::InFlight { .. } => GrpcCode::Aborted,
            Self::Mismatch => GrpcCode::FailedPrecondition,
            Self::NotReplayable { .. } => GrpcCode::AlreadyExists,
            Self::UnreadableRecord => GrpcCode::Internal,
            Self::Unavailable => GrpcCode::Unavailable,
        }
    }

    /// Whole seconds to wait before retrying, rounded up, for rejections a retry can fix.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::InFlight { retry_after } => Some(
                retry_after
                    .as_secs()
                    .saturating_add(u64::from(retry_after.subsec_nanos() > 0)),
            ),
            Self::Unavailable => Some(1),
            _ => None,
        }
        .map(|s| s.max(1))
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingKey => f.write_str("an Idempotency-Key header is required"),
            Self::InvalidKey(e) => f.write_str(e.describe()),
            Self::Unscoped => f.write_str("idempotent requests require an authenticated caller"),
            Self::BodyTooLarge { limit } => {
                write!(f, "the request body is larger than {limit} bytes")
            }
            Self::BodyUnreadable => f.write_str("the request body could not be read"),
            Self::InFlight { .. } => {
                f.write_str("a request with this Idempotency-Key is still being processed")
            }
            Self::Mismatch => f.write_str("this Idempotency-Key was used with a different request"),
            Self::NotReplayable { status, reason } => write!(
                f,
                "a request with this Idempotency-Key already completed (status {}) but its \
                 response cannot be replayed ({reason}); it will not run again",
                status.as_u16()
            ),
            Self::UnreadableRecord => {
                f.write_str("the stored response for this Idempotency-Key cannot be read")
            }
            Self::Unavailable => f.write_str("the idempotency store is unavailable"),
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up() {
        let r = Rejection::InFlight {
            retry_after: Duration::from_millis(300),
        };
        assert_eq!(r.retry_after_secs(), Some(1));
        let r = Rejection::InFlight {
            retry_after: Duration::from_millis(2001),
        };
        assert_eq!(r.retry_after_secs(), Some(3));
        assert_eq!(Rejection::Mismatch.retry_after_secs(), None);
    }

    #[test]
    fn grpc_requests_get_a_grpc_status() {
        let res = DefaultResponse.response(&Rejection::Mismatch, true);
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["grpc-status"], "9");
        let res = DefaultResponse.response(&Rejection::Unavailable, true);
        assert_eq!(res.headers()["grpc-status"], "14");
    }

    #[test]
    fn not_replayable_is_a_typed_409_with_the_original_status() {
        let r = Rejection::NotReplayable {
            status: StatusCode::BAD_GATEWAY,
            reason: NotReplayableReason::TooLarge,
        };
        let res = DefaultResponse.response(&r, false);
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert!(res.headers().get(header::RETRY_AFTER).is_none());
        let v: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
        assert_eq!(v["originalStatus"], 502);
        assert_eq!(v["reason"], "too-large");
        assert!(
            v["type"]
                .as_str()
                .unwrap()
                .ends_with("#variant.NotReplayable")
        );
        assert_eq!(
            DefaultResponse.response(&r, true).headers()["grpc-status"],
            "6"
        );
    }

    #[test]
    fn retry_after_never_overflows() {
        let r = Rejection::InFlight {
            retry_after: Duration::MAX,
        };
        assert_eq!(r.retry_after_secs(), Some(u64::MAX));
    }

    #[test]
    fn problem_body_carries_the_detail() {
        let res = DefaultResponse.response(&Rejection::BodyTooLarge { limit: 10 }, false);
        assert_eq!(res.status(), 413);
        let v: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
        assert_eq!(v["status"], 413);
        assert!(v["detail"].as_str().unwrap().contains("10 bytes"));
    }
}
