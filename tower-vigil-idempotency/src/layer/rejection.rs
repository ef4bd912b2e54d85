//! [`IdempotencyRejection`]: why the layer answered by itself instead of running (or
//! replaying) the request, with its [`kind`](IdempotencyRejection::kind) and the
//! [`Rejection`] contract every tower-vigil layer follows. The layer answers it through its
//! configured [`RejectionResponse`](tower_vigil_core::RejectionResponse) (by default
//! [`DefaultResponse`](tower_vigil_core::DefaultResponse): problem+json, or a gRPC status for
//! gRPC requests) and puts it in the response's extensions, so outer layers can tell what
//! happened.
//!
//! ```
//! use http::{Request, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_vigil_core::{MemoryBackend, Rejection};
//! use tower_vigil_idempotency::{
//!     IdempotencyLayer, IdempotencyRejection, IdempotencyRejectionKind, RequestBody,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let layer = IdempotencyLayer::builder(MemoryBackend::new()).required(true).build()?;
//! let svc = ServiceBuilder::new().layer(layer).service_fn(
//!     |_req: Request<RequestBody<String>>| async {
//!         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//!     },
//! );
//! let res = svc.oneshot(Request::post("/pay").body(String::new())?).await?;
//! let rejection = res.extensions().get::<IdempotencyRejection>().unwrap();
//! assert_eq!(rejection.kind(), IdempotencyRejectionKind::MissingKey);
//! assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
//! assert_eq!(res.headers()["content-type"], "application/problem+json");
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use http::StatusCode;
use tower_vigil_core::Rejection;
use tower_vigil_core::http::{GrpcCode, Problem, retry_after_secs};

use crate::key::KeyError;
use crate::record::NotReplayableReason;

/// Where the problem types of this crate are documented.
const TYPE_BASE: &str = "https://docs.rs/tower-vigil-idempotency/latest/tower_vigil_idempotency/enum.IdempotencyRejectionKind.html";

/// How long a client is told to wait when the store is down (`Retry-After` of a `503`).
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The category of an [`IdempotencyRejection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdempotencyRejectionKind {
    /// The key is required on this method and was not sent (400).
    MissingKey,
    /// The `Idempotency-Key` header is malformed or repeated (400); see
    /// [`key_error`](IdempotencyRejection::key_error).
    InvalidKey,
    /// The request carries a key but no scope could be found for it (no
    /// [`Principal`](tower_vigil_core::Principal) in its extensions, no answer from the scope
    /// closure), and the layer refuses unscoped requests, as it does by default (401, problem
    /// type `…/enum.IdempotencyRejectionKind.html#variant.Unscoped`). The client must
    /// authenticate; the operator must put a layer that publishes a principal in front.
    Unscoped,
    /// The request body is larger than the buffering limit (413); see
    /// [`body_limit`](IdempotencyRejection::body_limit).
    BodyTooLarge,
    /// The request body could not be read (400).
    BodyUnreadable,
    /// A request with this key is still being processed (409, with `Retry-After`).
    InFlight,
    /// The key was used with a different request (422).
    Mismatch,
    /// A request with this key already ran to completion, but its response could not be kept
    /// for replay (409, problem type `…/enum.IdempotencyRejectionKind.html#variant.NotReplayable`,
    /// with the members `originalStatus` and `cause`, and no `Retry-After`: retrying cannot
    /// help). 409 rather than 422: the request is the same one, and what conflicts is the
    /// state of the key (spent) — 422 would tell the client its request differs.
    NotReplayable,
    /// The stored response for this key cannot be read (500); the request is not run again.
    UnreadableRecord,
    /// The store is unavailable and the layer fails closed (503, with `Retry-After`).
    Unavailable,
}

impl IdempotencyRejectionKind {
    /// A short machine-readable name (`missing_key`, `in_flight`, ...): the problem's `reason`
    /// member.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingKey => "missing_key",
            Self::InvalidKey => "invalid_key",
            Self::Unscoped => "unscoped",
            Self::BodyTooLarge => "body_too_large",
            Self::BodyUnreadable => "body_unreadable",
            Self::InFlight => "in_flight",
            Self::Mismatch => "mismatch",
            Self::NotReplayable => "not_replayable",
            Self::UnreadableRecord => "unreadable_record",
            Self::Unavailable => "unavailable",
        }
    }
}

impl fmt::Display for IdempotencyRejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request was refused, with what each kind knows. Internal: the layer decides the
/// cause, then the request's gRPC-ness makes it an [`IdempotencyRejection`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cause {
    MissingKey,
    InvalidKey(KeyError),
    Unscoped,
    BodyTooLarge {
        limit: usize,
    },
    BodyUnreadable,
    InFlight {
        retry_after: Duration,
    },
    Mismatch,
    NotReplayable {
        status: StatusCode,
        reason: NotReplayableReason,
    },
    UnreadableRecord,
    Unavailable,
}

/// Why the layer answered by itself: its [`kind`](Self::kind), what that kind knows (the key
/// error, the body limit, the original status), and the [`Rejection`] contract (`status`,
/// `grpc_code`, `retry_after`, `detail`, `is_grpc`, `problem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRejection {
    cause: Cause,
    grpc: bool,
}

impl IdempotencyRejection {
    /// A rejection for `cause`; `grpc` when the request was gRPC (decided once, with
    /// [`is_grpc`](tower_vigil_core::http::is_grpc)).
    pub(crate) fn new(cause: Cause, grpc: bool) -> Self {
        Self { cause, grpc }
    }

    /// The category.
    pub fn kind(&self) -> IdempotencyRejectionKind {
        use IdempotencyRejectionKind as K;
        match self.cause {
            Cause::MissingKey => K::MissingKey,
            Cause::InvalidKey(_) => K::InvalidKey,
            Cause::Unscoped => K::Unscoped,
            Cause::BodyTooLarge { .. } => K::BodyTooLarge,
            Cause::BodyUnreadable => K::BodyUnreadable,
            Cause::InFlight { .. } => K::InFlight,
            Cause::Mismatch => K::Mismatch,
            Cause::NotReplayable { .. } => K::NotReplayable,
            Cause::UnreadableRecord => K::UnreadableRecord,
            Cause::Unavailable => K::Unavailable,
        }
    }

    /// What is wrong with the `Idempotency-Key` header, for
    /// [`InvalidKey`](IdempotencyRejectionKind::InvalidKey).
    pub fn key_error(&self) -> Option<KeyError> {
        match self.cause {
            Cause::InvalidKey(e) => Some(e),
            _ => None,
        }
    }

    /// The request body limit in bytes, for
    /// [`BodyTooLarge`](IdempotencyRejectionKind::BodyTooLarge).
    pub fn body_limit(&self) -> Option<usize> {
        match self.cause {
            Cause::BodyTooLarge { limit } => Some(limit),
            _ => None,
        }
    }

    /// The status the first request was answered with, for
    /// [`NotReplayable`](IdempotencyRejectionKind::NotReplayable).
    pub fn original_status(&self) -> Option<StatusCode> {
        match self.cause {
            Cause::NotReplayable { status, .. } => Some(status),
            _ => None,
        }
    }

    /// Why the first request's response was not kept, for
    /// [`NotReplayable`](IdempotencyRejectionKind::NotReplayable).
    pub fn not_replayable_reason(&self) -> Option<NotReplayableReason> {
        match self.cause {
            Cause::NotReplayable { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

impl fmt::Display for IdempotencyRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail())
    }
}

impl Rejection for IdempotencyRejection {
    fn reason(&self) -> &'static str {
        self.kind().as_str()
    }

    fn status(&self) -> StatusCode {
        match self.cause {
            Cause::MissingKey | Cause::InvalidKey(_) | Cause::BodyUnreadable => {
                StatusCode::BAD_REQUEST
            }
            Cause::Unscoped => StatusCode::UNAUTHORIZED,
            Cause::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Cause::InFlight { .. } | Cause::NotReplayable { .. } => StatusCode::CONFLICT,
            Cause::Mismatch => StatusCode::UNPROCESSABLE_ENTITY,
            Cause::UnreadableRecord => StatusCode::INTERNAL_SERVER_ERROR,
            Cause::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn grpc_code(&self) -> GrpcCode {
        match self.cause {
            Cause::MissingKey
            | Cause::InvalidKey(_)
            | Cause::BodyTooLarge { .. }
            | Cause::BodyUnreadable => GrpcCode::InvalidArgument,
            Cause::Unscoped => GrpcCode::Unauthenticated,
            Cause::InFlight { .. } => GrpcCode::Aborted,
            Cause::Mismatch => GrpcCode::FailedPrecondition,
            Cause::NotReplayable { .. } => GrpcCode::AlreadyExists,
            Cause::UnreadableRecord => GrpcCode::Internal,
            Cause::Unavailable => GrpcCode::Unavailable,
        }
    }

    /// For a request in flight, the layer's `retry_after` (never more than the lease left);
    /// for a store outage, one second; otherwise `None`: retrying the same request cannot help.
    fn retry_after(&self) -> Option<Duration> {
        match self.cause {
            Cause::InFlight { retry_after } => Some(retry_after),
            Cause::Unavailable => Some(UNAVAILABLE_RETRY_AFTER),
            _ => None,
        }
    }

    fn detail(&self) -> Cow<'_, str> {
        Cow::Borrowed(match &self.cause {
            Cause::MissingKey => "an Idempotency-Key header is required",
            Cause::InvalidKey(e) => e.describe(),
            Cause::Unscoped => "idempotent requests require an authenticated caller",
            Cause::BodyTooLarge { limit } => {
                return Cow::Owned(format!("the request body is larger than {limit} bytes"));
            }
            Cause::BodyUnreadable => "the request body could not be read",
            Cause::InFlight { .. } => {
                "a request with this Idempotency-Key is still being processed"
            }
            Cause::Mismatch => "this Idempotency-Key was used with a different request",
            Cause::NotReplayable { status, reason } => {
                return Cow::Owned(format!(
                    "a request with this Idempotency-Key already completed (status {}) but its \
                     response cannot be replayed ({reason}); it will not run again",
                    status.as_u16()
                ));
            }
            Cause::UnreadableRecord => {
                "the stored response for this Idempotency-Key cannot be read"
            }
            Cause::Unavailable => "the idempotency store is unavailable",
        })
    }

    fn is_grpc(&self) -> bool {
        self.grpc
    }

    /// The family's problem (`title`, `status`, `detail`, `reason`, `retryAfter`), with a
    /// problem `type` for the two kinds a client must tell apart from other 401s and 409s:
    /// [`Unscoped`](IdempotencyRejectionKind::Unscoped), and
    /// [`NotReplayable`](IdempotencyRejectionKind::NotReplayable) with its `originalStatus`
    /// and `cause` (`too-large`, `body-failed`).
    fn problem(&self) -> Problem {
        let mut problem = Problem::new(self.status())
            .title(self.title())
            .detail(self.detail())
            .extension("reason", self.reason());
        if let Some(after) = self.retry_after() {
            problem = problem.extension("retryAfter", retry_after_secs(after));
        }
        match self.cause {
            Cause::Unscoped => problem.type_uri(format!("{TYPE_BASE}#variant.Unscoped")),
            Cause::NotReplayable { status, reason } => problem
                .type_uri(format!("{TYPE_BASE}#variant.NotReplayable"))
                .extension("originalStatus", status.as_u16())
                .extension("cause", reason.as_str()),
            _ => problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_flight(retry_after: Duration) -> IdempotencyRejection {
        IdempotencyRejection::new(Cause::InFlight { retry_after }, false)
    }

    #[test]
    fn retry_after_is_known_only_where_a_retry_can_succeed() {
        let r = in_flight(Duration::from_millis(300));
        assert_eq!(r.retry_after(), Some(Duration::from_millis(300)));
        let unavailable = IdempotencyRejection::new(Cause::Unavailable, false);
        assert_eq!(unavailable.retry_after(), Some(UNAVAILABLE_RETRY_AFTER));
        let mismatch = IdempotencyRejection::new(Cause::Mismatch, false);
        assert_eq!(mismatch.retry_after(), None);
    }

    #[test]
    fn every_kind_has_its_own_reason() {
        let causes = [
            Cause::MissingKey,
            Cause::InvalidKey(KeyError::Empty),
            Cause::Unscoped,
            Cause::BodyTooLarge { limit: 1 },
            Cause::BodyUnreadable,
            Cause::InFlight {
                retry_after: Duration::ZERO,
            },
            Cause::Mismatch,
            Cause::NotReplayable {
                status: StatusCode::OK,
                reason: NotReplayableReason::TooLarge,
            },
            Cause::UnreadableRecord,
            Cause::Unavailable,
        ];
        let mut reasons: Vec<&str> = causes
            .into_iter()
            .map(|c| IdempotencyRejection::new(c, false).reason())
            .collect();
        reasons.sort_unstable();
        reasons.dedup();
        assert_eq!(reasons.len(), 10);
    }
}
