//! What every clone of the service shares (the store, the settings, the response to
//! rejections and the waiters), and the rejection answer built from it. A module of its own
//! so the request path (`flow`), the run of a claimed request (`execute`) and the service
//! itself all depend on it and not on each other.

use std::sync::Arc;

use http::Response;
use http_body::Body;
use tower_vigil_core::http::ResponseBody;

use crate::body::IdempotencyBody;
use crate::config::Config;
use crate::layer::rejection::Rejection;
use crate::layer::response::ResponseForRejection;
use crate::waiters::Waiters;

/// The response type of the layer for an inner body `B`.
pub(crate) type Answer<B> = Response<ResponseBody<IdempotencyBody<B>>>;

pub(crate) struct Shared<St, R> {
    pub(crate) store: St,
    pub(crate) config: Arc<Config>,
    pub(crate) response: R,
    pub(crate) waiters: Waiters,
}

/// The rejection's response, with the typed rejection in its extensions.
pub(crate) fn reject<St, R: ResponseForRejection, B: Body>(
    shared: &Shared<St, R>,
    rejection: Rejection,
    grpc: bool,
) -> Answer<B> {
    let mut res = shared
        .response
        .response(&rejection, grpc)
        .map(ResponseBody::full);
    res.extensions_mut().insert(rejection);
    res
}
