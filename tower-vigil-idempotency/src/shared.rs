//! What every clone of the service shares: the backend, the settings, the response to
//! rejections and the waiters. A module of its own so the request path (`flow`), the run of
//! a claimed request (`execute`) and the service itself all depend on it and not on each
//! other.

use std::sync::Arc;

use crate::config::Config;
use crate::layer::response::Responder;
use crate::waiters::Waiters;

pub(crate) struct Shared<B> {
    pub(crate) backend: B,
    pub(crate) config: Arc<Config>,
    pub(crate) response: Responder,
    pub(crate) waiters: Waiters,
}
