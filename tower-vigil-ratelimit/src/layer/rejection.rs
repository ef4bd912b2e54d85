//! [`RateLimitRejection`]: every request the layer answers by itself, with its
//! [`RateLimitRejectionKind`]. It follows the family's
//! [`Rejection`](tower_vigil_core::Rejection) contract: the builder's `.response(..)` turns it
//! into the response (by default [`DefaultResponse`](tower_vigil_core::DefaultResponse):
//! problem+json, or a gRPC status), and the layer puts it in that response's extensions.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use http::StatusCode;
use tower_vigil_core::Rejection;
use tower_vigil_core::http::{GrpcCode, retry_after_secs};

use crate::decision::Decision;

/// How long a caller is told to wait when the backend failed under `FailurePolicy::Closed`.
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Why the layer answered a request by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RateLimitRejectionKind {
    /// Over a policy's limit: 429 (gRPC `RESOURCE_EXHAUSTED`), with the decision's
    /// retry-after.
    Limited,
    /// The request has no key and [`MissingKey::Reject`](crate::MissingKey::Reject) applies:
    /// 400 (gRPC `INVALID_ARGUMENT`).
    MissingKey,
    /// The backend failed and the failure policy is `Closed`: 503 (gRPC `UNAVAILABLE`), retry
    /// after a second.
    Unavailable,
}

impl RateLimitRejectionKind {
    /// `rate_limited`, `missing_key` or `unavailable`: the problem's `reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Limited => "rate_limited",
            Self::MissingKey => "missing_key",
            Self::Unavailable => "unavailable",
        }
    }
}

impl fmt::Display for RateLimitRejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request the rate limiter answered by itself: why ([`kind`](Self::kind)), the denying
/// [`Decision`] when over a limit, and whether the request was gRPC. It follows the family's
/// [`Rejection`] contract: the builder's
/// [`response`](crate::RateLimitBuilder::response) turns it into the response (by default
/// [`DefaultResponse`](tower_vigil_core::DefaultResponse): problem+json with `Retry-After`, or
/// a gRPC status with `grpc-retry-pushback-ms`), and the layer puts it in that response's
/// extensions.
///
/// ```
/// use tower_vigil_core::{DefaultResponse, Rejection, RejectionResponse};
/// use tower_vigil_ratelimit::{RateLimitRejection, RateLimitRejectionKind};
///
/// let custom = |r: &RateLimitRejection| {
///     let mut res = r.default_response();
///     if r.kind() == RateLimitRejectionKind::Limited {
///         res.headers_mut().insert("x-slow-down", http::HeaderValue::from_static("1"));
///     }
///     res
/// };
/// # fn takes(_: impl RejectionResponse<RateLimitRejection>) {}
/// takes(custom);
/// takes(DefaultResponse);
/// ```
#[derive(Debug, Clone)]
pub struct RateLimitRejection {
    kind: RateLimitRejectionKind,
    decision: Option<Decision>,
    grpc: bool,
}

impl RateLimitRejection {
    /// Denied by `decision`.
    pub(crate) fn limited(decision: Decision, grpc: bool) -> Self {
        Self {
            kind: RateLimitRejectionKind::Limited,
            decision: Some(decision),
            grpc,
        }
    }

    pub(crate) fn missing_key(grpc: bool) -> Self {
        Self {
            kind: RateLimitRejectionKind::MissingKey,
            decision: None,
            grpc,
        }
    }

    pub(crate) fn unavailable(grpc: bool) -> Self {
        Self {
            kind: RateLimitRejectionKind::Unavailable,
            decision: None,
            grpc,
        }
    }

    /// Why.
    pub fn kind(&self) -> RateLimitRejectionKind {
        self.kind
    }

    /// The denying decision ([`Limited`](RateLimitRejectionKind::Limited) only).
    pub fn decision(&self) -> Option<&Decision> {
        self.decision.as_ref()
    }

    /// The name of the first policy that denied the request
    /// ([`Limited`](RateLimitRejectionKind::Limited) only).
    pub fn policy_name(&self) -> Option<&str> {
        self.decision
            .as_ref()?
            .policies()
            .iter()
            .find(|p| !p.allowed())
            .map(|p| p.policy().name())
    }
}

impl fmt::Display for RateLimitRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.policy_name() {
            Some(policy) => write!(f, "{} ({policy})", self.kind),
            None => fmt::Display::fmt(&self.kind, f),
        }
    }
}

impl Rejection for RateLimitRejection {
    fn reason(&self) -> &'static str {
        self.kind.as_str()
    }

    fn status(&self) -> StatusCode {
        match self.kind {
            RateLimitRejectionKind::Limited => StatusCode::TOO_MANY_REQUESTS,
            RateLimitRejectionKind::MissingKey => StatusCode::BAD_REQUEST,
            RateLimitRejectionKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn grpc_code(&self) -> GrpcCode {
        match self.kind {
            RateLimitRejectionKind::Limited => GrpcCode::ResourceExhausted,
            RateLimitRejectionKind::MissingKey => GrpcCode::InvalidArgument,
            RateLimitRejectionKind::Unavailable => GrpcCode::Unavailable,
        }
    }

    /// The decision's retry-after (the longest wait among the denying policies) when limited;
    /// a second when the backend is unavailable.
    fn retry_after(&self) -> Option<Duration> {
        match self.kind {
            RateLimitRejectionKind::Limited => self.decision.as_ref()?.retry_after(),
            RateLimitRejectionKind::MissingKey => None,
            RateLimitRejectionKind::Unavailable => Some(UNAVAILABLE_RETRY_AFTER),
        }
    }

    fn title(&self) -> Cow<'static, str> {
        match self.kind {
            RateLimitRejectionKind::MissingKey => Cow::Borrowed("Missing Rate-Limit Key"),
            _ => Cow::Borrowed(self.status().canonical_reason().unwrap_or("Error")),
        }
    }

    fn detail(&self) -> Cow<'_, str> {
        match self.kind {
            RateLimitRejectionKind::Limited => {
                let secs = retry_after_secs(self.retry_after().unwrap_or_default());
                Cow::Owned(format!(
                    "Rate limit {:?} exceeded; retry in {secs} second{}",
                    self.policy_name().unwrap_or_default(),
                    if secs == 1 { "" } else { "s" }
                ))
            }
            RateLimitRejectionKind::MissingKey => Cow::Borrowed(
                "The request does not say who is calling, so no rate limit applies to it",
            ),
            RateLimitRejectionKind::Unavailable => {
                Cow::Borrowed("The rate limiter's backend is unavailable; try again shortly")
            }
        }
    }

    fn is_grpc(&self) -> bool {
        self.grpc
    }
}
