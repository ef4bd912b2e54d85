//! The layer's own answers: an [`IdempotencyRejection`] turned into a response by the
//! configured [`RejectionResponse`] (by default [`DefaultResponse`](tower_vigil_core::DefaultResponse):
//! problem+json, or a gRPC status for gRPC requests, with `Retry-After` where a retry can
//! succeed), with the rejection in the response's extensions.
//!
//! ```
//! use bytes::Bytes;
//! use http::Response;
//! use tower_vigil_core::{MemoryBackend, Rejection};
//! use tower_vigil_idempotency::{IdempotencyLayer, IdempotencyRejection};
//!
//! # fn main() -> Result<(), tower_vigil_core::ConfigError> {
//! // Plain text instead of problem+json.
//! let layer = IdempotencyLayer::builder(MemoryBackend::new())
//!     .response(|r: &IdempotencyRejection| {
//!         let mut res = Response::new(Bytes::from(r.to_string()));
//!         *res.status_mut() = r.status();
//!         res
//!     })
//!     .build()?;
//! # Ok(())
//! # }
//! ```

use http::Response;
use http_body::Body;
use tower_vigil_core::RejectionResponse;
use tower_vigil_core::http::ResponseBody;

use super::rejection::{Cause, IdempotencyRejection};
use crate::body::IdempotencyBody;

/// The response type of the layer for an inner body `B`.
pub(crate) type Answer<B> = Response<ResponseBody<IdempotencyBody<B>>>;

/// The answer to a request refused for `cause` (`grpc` when it is a gRPC call), with the
/// typed rejection in its extensions.
pub(crate) fn reject<R, B>(response: &R, cause: Cause, grpc: bool) -> Answer<B>
where
    R: RejectionResponse<IdempotencyRejection>,
    B: Body,
{
    let rejection = IdempotencyRejection::new(cause, grpc);
    let mut res = response.response(&rejection).map(ResponseBody::full);
    res.extensions_mut().insert(rejection);
    res
}
