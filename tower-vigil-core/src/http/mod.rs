//! HTTP pieces every layer shares: the response body type that carries either the inner
//! service's body or a rejection, `application/problem+json` rejections, and gRPC statuses for
//! gRPC requests.
//!
//! ```
//! use http::StatusCode;
//! use tower_vigil_core::http::{Problem, ResponseBody};
//!
//! let res: http::Response<ResponseBody<String>> = Problem::new(StatusCode::TOO_MANY_REQUESTS)
//!     .title("Too Many Requests")
//!     .detail("Rate limit exceeded; retry in 3 seconds")
//!     .extension("retryAfter", 3)
//!     .into_response();
//! assert_eq!(res.status(), 429);
//! assert_eq!(res.headers()["content-type"], "application/problem+json");
//! ```

use std::time::Duration;

mod body;
mod grpc;
mod problem;

pub use self::body::ResponseBody;
pub use self::grpc::{GrpcCode, grpc_response, is_grpc};
pub use self::problem::{PROBLEM_JSON, Problem};

/// Whole seconds for a `Retry-After` header or a `retryAfter` member: rounded up (a client that
/// waits the figure it is given must find the wait over), at least 1 (`0` would invite an
/// immediate retry that fails again).
///
/// ```
/// use std::time::Duration;
/// use tower_vigil_core::http::retry_after_secs;
///
/// assert_eq!(retry_after_secs(Duration::ZERO), 1);
/// assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
/// assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
/// ```
pub fn retry_after_secs(after: Duration) -> u64 {
    let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
    secs.max(1)
}
