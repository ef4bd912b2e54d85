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

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::Response;
use http_body::Body;
use tower_vigil_core::RejectionResponse;
use tower_vigil_core::http::ResponseBody;

use super::rejection::{Cause, IdempotencyRejection};
use crate::body::IdempotencyBody;

/// The response type of the layer for an inner body `B`.
pub(crate) type Answer<B> = Response<ResponseBody<IdempotencyBody<B>>>;

type ResponseFn = dyn Fn(&IdempotencyRejection) -> Response<Bytes> + Send + Sync;

/// The configured [`RejectionResponse`], erased once at build time so the layer, its service
/// and its future are one type whatever the response (a rejection is the cold path: one
/// dynamic call).
#[derive(Clone)]
pub(crate) struct Responder(Arc<ResponseFn>);

impl Responder {
    pub(crate) fn new(response: impl RejectionResponse<IdempotencyRejection>) -> Self {
        Self(Arc::new(move |r: &IdempotencyRejection| {
            response.response(r)
        }))
    }

    /// The answer to a request refused for `cause` (`grpc` when it is a gRPC call), with the
    /// typed rejection in its extensions.
    pub(crate) fn reject<B: Body>(&self, cause: Cause, grpc: bool) -> Answer<B> {
        let rejection = IdempotencyRejection::new(cause, grpc);
        let mut res = (self.0)(&rejection).map(ResponseBody::full);
        res.extensions_mut().insert(rejection);
        res
    }
}

impl fmt::Debug for Responder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Responder(..)")
    }
}
