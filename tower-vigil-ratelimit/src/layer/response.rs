//! [`ResponseForRateLimited`]: the 429 (or gRPC `RESOURCE_EXHAUSTED`) a denied request gets,
//! and the layer's other answers: 400 for a missing key, 503 for a failed store under
//! `FailurePolicy::Closed`.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use tower_vigil_core::http::{GrpcCode, PROBLEM_JSON, Problem, grpc_response};

use super::rejection::RateLimited;

/// Builds the response for a denied request. The layer then adds the rate-limit headers and
/// `Retry-After` (unless the response already has them) and the
/// [`Decision`](crate::Decision) extension.
///
/// Any `Fn(&RateLimited) -> Response<Bytes>` is one:
///
/// ```
/// use bytes::Bytes;
/// use tower_vigil_ratelimit::{RateLimited, ResponseForRateLimited};
///
/// let plain = |r: &RateLimited| {
///     http::Response::builder()
///         .status(429)
///         .body(Bytes::from(format!("slow down for {}s", r.retry_after_secs())))
///         .unwrap()
/// };
/// # fn takes(_: impl ResponseForRateLimited) {}
/// takes(plain);
/// ```
pub trait ResponseForRateLimited: Send + Sync + 'static {
    /// The response for `rejected`.
    fn response(&self, rejected: &RateLimited) -> Response<Bytes>;
}

impl<F> ResponseForRateLimited for F
where
    F: Fn(&RateLimited) -> Response<Bytes> + Send + Sync + 'static,
{
    fn response(&self, rejected: &RateLimited) -> Response<Bytes> {
        self(rejected)
    }
}

/// The default: 429 `application/problem+json` with `type` (`about:blank`: the status says
/// it all), `title`, `status`, `detail` and `retryAfter` (seconds); for gRPC requests `RESOURCE_EXHAUSTED` (8) with the delay in
/// `grpc-message` and `grpc-retry-pushback-ms`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRateLimitedResponse;

impl ResponseForRateLimited for DefaultRateLimitedResponse {
    fn response(&self, r: &RateLimited) -> Response<Bytes> {
        let secs = r.retry_after_secs();
        let detail = format!(
            "Rate limit {:?} exceeded; retry in {secs} second{}",
            r.policy_name(),
            if secs == 1 { "" } else { "s" }
        );
        if r.grpc {
            let mut res =
                grpc_response::<()>(GrpcCode::ResourceExhausted, &detail).map(|_| Bytes::new());
            res.headers_mut().insert(
                "grpc-retry-pushback-ms",
                HeaderValue::from(secs.saturating_mul(1000)),
            );
            return res;
        }
        problem(
            Problem::new(StatusCode::TOO_MANY_REQUESTS)
                .title("Too Many Requests")
                .detail(detail)
                .extension("retryAfter", secs),
        )
    }
}

/// A problem as a `Response<Bytes>`.
pub(crate) fn problem(p: Problem) -> Response<Bytes> {
    let mut res = Response::new(Bytes::from(p.to_json()));
    *res.status_mut() = p.status();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    res
}

/// 503 when the store failed under `FailurePolicy::Closed`.
pub(crate) fn unavailable(grpc: bool) -> Response<Bytes> {
    let detail = "The rate limiter's store is unavailable; try again shortly";
    if grpc {
        return grpc_response::<()>(GrpcCode::Unavailable, detail).map(|_| Bytes::new());
    }
    let mut res = problem(Problem::new(StatusCode::SERVICE_UNAVAILABLE).detail(detail));
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

/// 400 when no key could be extracted under `MissingKey::Reject`.
pub(crate) fn missing_key(grpc: bool) -> Response<Bytes> {
    let detail = "The request does not say who is calling, so no rate limit applies to it";
    if grpc {
        return grpc_response::<()>(GrpcCode::InvalidArgument, detail).map(|_| Bytes::new());
    }
    problem(
        Problem::new(StatusCode::BAD_REQUEST)
            .title("Missing Rate-Limit Key")
            .detail(detail),
    )
}
