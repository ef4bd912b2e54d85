//! [`KeyExtractor`] and [`RequestHead`], what it reads.

use http::{Extensions, HeaderMap, Method, Request, Uri};
use tower_vigil_core::ConfigError;

/// The parts of a request a key extractor, quota chooser or cost function may read.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    extensions: &'a Extensions,
}

impl<'a> RequestHead<'a> {
    /// A view of `req`'s head.
    pub fn new<B>(req: &'a Request<B>) -> Self {
        Self {
            method: req.method(),
            uri: req.uri(),
            headers: req.headers(),
            extensions: req.extensions(),
        }
    }

    /// The method.
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// The URI.
    pub fn uri(&self) -> &'a Uri {
        self.uri
    }

    /// The headers.
    pub fn headers(&self) -> &'a HeaderMap {
        self.headers
    }

    /// The extensions (where `Principal`, `SocketAddr` and API-key data live).
    pub fn extensions(&self) -> &'a Extensions {
        self.extensions
    }
}

/// Names the quota a request counts against. `None` means the request has no key; the layer
/// then does what [`MissingKey`](crate::MissingKey) says.
pub trait KeyExtractor: Send + Sync + 'static {
    /// The key (any string: it is escaped, and hashed when longer than 128 bytes, before it
    /// reaches a backend).
    fn extract(&self, req: &RequestHead<'_>) -> Option<String>;

    /// Checks the extractor's settings; [`RateLimitBuilder::build`](crate::RateLimitBuilder::build)
    /// calls it, so a bad setting fails when the layer is built. The default accepts. An
    /// extractor wrapping another should return the inner one's `check`.
    fn check(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

impl<F> KeyExtractor for F
where
    F: Fn(&RequestHead<'_>) -> Option<String> + Send + Sync + 'static,
{
    fn extract(&self, req: &RequestHead<'_>) -> Option<String> {
        self(req)
    }
}
