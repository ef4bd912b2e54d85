//! How [`ApiKeyLayer`](crate::ApiKeyLayer) and
//! [`RequirePermissionLayer`](crate::RequirePermissionLayer) answer an [`ApiKeyRejection`]:
//! through the [`RejectionResponse`] set with the builder's `.response(..)` (default
//! [`DefaultResponse`](tower_vigil_core::DefaultResponse)), with the rejection put in the
//! response's extensions.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::Response;
use tower_vigil_core::RejectionResponse;
use tower_vigil_core::http::ResponseBody;

use super::ApiKeyRejection;

type ResponseFn = dyn Fn(&ApiKeyRejection) -> Response<Bytes> + Send + Sync;

/// The configured [`RejectionResponse`], erased once at build time so the layers, their
/// services and futures are one type whatever the response (a rejection is the cold path:
/// one dynamic call).
#[derive(Clone)]
pub(crate) struct Responder(Arc<ResponseFn>);

impl Responder {
    pub(crate) fn new(response: impl RejectionResponse<ApiKeyRejection>) -> Self {
        Self(Arc::new(move |r: &ApiKeyRejection| response.response(r)))
    }

    /// The response for `rejection`, carrying it in its extensions.
    pub(crate) fn respond<B>(&self, rejection: ApiKeyRejection) -> Response<ResponseBody<B>> {
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
