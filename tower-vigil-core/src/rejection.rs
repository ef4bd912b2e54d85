//! [`Rejection`]: the one contract every tower-vigil layer's rejections follow, and
//! [`RejectionResponse`]: the one way to turn them into responses.
//!
//! Each concern crate has one rejection type (`RateLimitRejection`, `ApiKeyRejection`,
//! `SessionRejection`, `IdempotencyRejection`) with a `kind()` of its own and this trait. Every
//! response a layer produces by itself goes through a [`RejectionResponse`] set with the
//! builder's `.response(..)`: [`DefaultResponse`] (problem+json, or a gRPC status for gRPC
//! requests), or any closure `Fn(&XRejection) -> Response<Bytes>`. The layer then puts the
//! rejection into the response's extensions, so outer layers (logging, metrics) can tell what
//! happened.
//!
//! ```
//! use std::borrow::Cow;
//! use std::time::Duration;
//! use http::StatusCode;
//! use tower_vigil_core::http::GrpcCode;
//! use tower_vigil_core::{DefaultResponse, Rejection, RejectionResponse};
//!
//! #[derive(Debug, Clone)]
//! struct Busy;
//!
//! impl std::fmt::Display for Busy {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("busy")
//!     }
//! }
//!
//! impl Rejection for Busy {
//!     fn reason(&self) -> &'static str { "busy" }
//!     fn status(&self) -> StatusCode { StatusCode::SERVICE_UNAVAILABLE }
//!     fn grpc_code(&self) -> GrpcCode { GrpcCode::Unavailable }
//!     fn retry_after(&self) -> Option<Duration> { Some(Duration::from_millis(1500)) }
//!     fn detail(&self) -> Cow<'_, str> { "try again shortly".into() }
//!     fn is_grpc(&self) -> bool { false }
//! }
//!
//! let res = DefaultResponse.response(&Busy);
//! assert_eq!(res.status(), 503);
//! assert_eq!(res.headers()["retry-after"], "2");
//! assert_eq!(res.headers()["content-type"], "application/problem+json");
//!
//! // Any closure is a response too.
//! let plain = |_: &Busy| http::Response::new(bytes::Bytes::from_static(b"later"));
//! assert_eq!(plain.response(&Busy).body().as_ref(), b"later");
//! ```

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use crate::http::{GrpcCode, Problem, grpc_response, retry_after_secs};

/// Why a layer turned a request away: what every concern's rejection type offers.
pub trait Rejection: fmt::Debug + fmt::Display + Clone + Send + Sync + 'static {
    /// A short machine-readable name of the kind (`rate_limited`, `unknown_key`, ...): the
    /// problem's `reason` member and the `kind` label of the crate's rejection metrics.
    fn reason(&self) -> &'static str;

    /// The HTTP status.
    fn status(&self) -> StatusCode;

    /// The gRPC status code, for gRPC requests.
    fn grpc_code(&self) -> GrpcCode;

    /// How long the caller should wait before retrying, when that is known.
    fn retry_after(&self) -> Option<Duration> {
        None
    }

    /// A short summary; the status's reason phrase unless the kind has a better one.
    fn title(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.status().canonical_reason().unwrap_or("Error"))
    }

    /// What went wrong, safe to show the caller (never a secret).
    fn detail(&self) -> Cow<'_, str>;

    /// True when the request was a gRPC call, which is answered with a gRPC status instead
    /// of an HTTP error body.
    fn is_grpc(&self) -> bool;

    /// Adds what this kind says beyond the common members (a problem `type` URI, extension
    /// members) to the problem [`problem`](Self::problem) built. Nothing by default.
    fn extend_problem(&self, problem: Problem) -> Problem {
        problem
    }

    /// The RFC 9457 problem: `type` (`about:blank`), `title`, `status`, `detail`, `reason`,
    /// `retryAfter` (whole seconds) when [`retry_after`](Self::retry_after) is known, and
    /// whatever [`extend_problem`](Self::extend_problem) adds.
    fn problem(&self) -> Problem {
        let mut problem = Problem::new(self.status())
            .title(self.title())
            .detail(self.detail())
            .extension("reason", self.reason());
        if let Some(after) = self.retry_after() {
            problem = problem.extension("retryAfter", retry_after_secs(after));
        }
        self.extend_problem(problem)
    }

    /// The response [`DefaultResponse`] gives: [`problem`](Self::problem) as
    /// `application/problem+json` with a `Retry-After` header when known; for gRPC requests a
    /// trailers-only gRPC status with the detail in `grpc-message` and the delay in
    /// `grpc-retry-pushback-ms`.
    fn default_response(&self) -> Response<Bytes> {
        if self.is_grpc() {
            let mut res =
                grpc_response::<()>(self.grpc_code(), &self.detail()).map(|_| Bytes::new());
            if let Some(after) = self.retry_after() {
                let ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX).max(1);
                res.headers_mut()
                    .insert("grpc-retry-pushback-ms", HeaderValue::from(ms));
            }
            return res;
        }
        let mut res = self.problem().to_response();
        if let Some(after) = self.retry_after() {
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs(after)),
            );
        }
        res
    }
}

/// Turns a layer's rejection `R` into the response the caller gets. Set with the builder's
/// `.response(..)`; implemented by [`DefaultResponse`] and by every
/// `Fn(&R) -> Response<Bytes> + Clone + Send + Sync`.
pub trait RejectionResponse<R>: Clone + Send + Sync + 'static {
    /// The response for `rejection`.
    fn response(&self, rejection: &R) -> Response<Bytes>;
}

impl<R, F> RejectionResponse<R> for F
where
    F: Fn(&R) -> Response<Bytes> + Clone + Send + Sync + 'static,
{
    fn response(&self, rejection: &R) -> Response<Bytes> {
        self(rejection)
    }
}

/// The default: [`Rejection::default_response`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultResponse;

impl<R: Rejection> RejectionResponse<R> for DefaultResponse {
    fn response(&self, rejection: &R) -> Response<Bytes> {
        rejection.default_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone)]
    struct Limited(bool);

    impl fmt::Display for Limited {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("limited")
        }
    }

    impl Rejection for Limited {
        fn reason(&self) -> &'static str {
            "rate_limited"
        }
        fn status(&self) -> StatusCode {
            StatusCode::TOO_MANY_REQUESTS
        }
        fn grpc_code(&self) -> GrpcCode {
            GrpcCode::ResourceExhausted
        }
        fn retry_after(&self) -> Option<Duration> {
            Some(Duration::from_millis(2100))
        }
        fn detail(&self) -> Cow<'_, str> {
            "slow down".into()
        }
        fn is_grpc(&self) -> bool {
            self.0
        }
    }

    #[test]
    fn http_rejection_is_problem_json_with_retry_after() {
        let res = DefaultResponse.response(&Limited(false));
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()[header::RETRY_AFTER], "3");
        let body: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
        assert_eq!(body["reason"], "rate_limited");
        assert_eq!(body["retryAfter"], 3);
        assert_eq!(body["status"], 429);
        assert_eq!(body["title"], "Too Many Requests");
    }

    #[test]
    fn grpc_rejection_is_a_status_with_pushback() {
        let res = DefaultResponse.response(&Limited(true));
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["grpc-status"], "8");
        assert_eq!(res.headers()["grpc-retry-pushback-ms"], "2100");
        assert!(res.body().is_empty());
    }
}
