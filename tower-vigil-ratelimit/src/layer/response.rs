//! How the layer answers a [`RateLimitRejection`]: through the
//! [`RejectionResponse`] set with the builder's `.response(..)` (default
//! [`DefaultResponse`](tower_vigil_core::DefaultResponse)), with the rejection put in the
//! response's extensions.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::Response;
use tower_vigil_core::RejectionResponse;

use super::rejection::RateLimitRejection;

type ResponseFn = dyn Fn(&RateLimitRejection) -> Response<Bytes> + Send + Sync;

/// The configured [`RejectionResponse`], erased once at build time so the layer and its
/// service are one type whatever the response (a rejection is the cold path).
#[derive(Clone)]
pub(crate) struct Responder(Arc<ResponseFn>);

impl Responder {
    pub(crate) fn new(response: impl RejectionResponse<RateLimitRejection>) -> Self {
        Self(Arc::new(move |r: &RateLimitRejection| response.response(r)))
    }

    /// The response for `rejection`, carrying it in its extensions.
    pub(crate) fn respond(&self, rejection: RateLimitRejection) -> Response<Bytes> {
        let mut res = (self.0)(&rejection);
        res.extensions_mut().insert(rejection);
        res
    }
}

impl fmt::Debug for Responder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Responder(..)")
    }
}
