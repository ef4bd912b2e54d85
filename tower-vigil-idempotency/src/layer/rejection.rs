//! [`Rejection`]: why the layer answered itself instead of running (or replaying) the
//! request. It becomes a response through the layer's
//! [`ResponseForRejection`](crate::ResponseForRejection) (see [`response`](super::response))
//! and is put in that response's extensions, so outer layers can tell what happened.
//!
//! ```
//! use http::StatusCode;
//! use tower_vigil_idempotency::Rejection;
//!
//! assert_eq!(Rejection::Mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
//! assert_eq!(Rejection::Unavailable.retry_after_secs(), Some(1));
//! ```

use std::fmt;
use std::time::Duration;

use http::StatusCode;
use tower_vigil_core::http::GrpcCode;

use crate::key::KeyError;
use crate::record::NotReplayableReason;

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
    fn retry_after_never_overflows() {
        let r = Rejection::InFlight {
            retry_after: Duration::MAX,
        };
        assert_eq!(r.retry_after_secs(), Some(u64::MAX));
    }
}
