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

mod body;
mod grpc;
mod problem;

pub use self::body::ResponseBody;
pub use self::grpc::{GrpcCode, grpc_response, is_grpc};
pub use self::problem::{PROBLEM_JSON, Problem};
