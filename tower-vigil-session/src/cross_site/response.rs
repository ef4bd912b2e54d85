//! How the layer answers a [`CrossSiteRejection`]: through the [`RejectionResponse`] set with
//! the builder's `.response(..)` (default
//! [`DefaultResponse`](tower_vigil_core::DefaultResponse)), with the rejection put in the
//! response's extensions, and counted.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::Response;
use tower_vigil_core::RejectionResponse;
use tower_vigil_core::http::ResponseBody;

use super::rejection::CrossSiteRejection;

/// The configured [`RejectionResponse`], erased once at build time.
#[derive(Clone)]
pub(crate) struct Responder(Arc<ResponseFn>);

type ResponseFn = dyn Fn(&CrossSiteRejection) -> Response<Bytes> + Send + Sync;

impl Responder {
    pub(crate) fn new(response: impl RejectionResponse<CrossSiteRejection>) -> Self {
        Self(Arc::new(move |r: &CrossSiteRejection| response.response(r)))
    }

    /// The response for `rejection`, carrying it in its extensions.
    pub(crate) fn respond<B>(&self, rejection: CrossSiteRejection) -> Response<ResponseBody<B>> {
        crate::metrics::cross_site_refused(rejection.kind().reason());
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
