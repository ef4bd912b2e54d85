//! [`KeyExtractor`]: whose quota a request counts against.
//!
//! Ready impls: [`PeerIp`] (the connection's address), [`TrustedProxies`] (the client behind
//! your proxies), [`HeaderKey`] (a header's value, hashed), [`PrincipalKey`] (the caller an
//! authentication layer put in the extensions), [`GlobalKey`] (one quota for everyone), and any
//! closure `Fn(&RequestHead<'_>) -> Option<String>`.
//!
//! ```
//! use std::net::SocketAddr;
//! use tower_vigil_ratelimit::key::{KeyExtractor, PeerIp, PrincipalKey, RequestHead};
//! use tower_vigil_core::Principal;
//!
//! let mut req = http::Request::new(());
//! req.extensions_mut().insert("203.0.113.9:4711".parse::<SocketAddr>().unwrap());
//! req.extensions_mut().insert(Principal::api_key("k-42"));
//! let head = RequestHead::new(&req);
//! assert_eq!(PeerIp::new().extract(&head).as_deref(), Some("ip:203.0.113.9"));
//! assert_eq!(PrincipalKey::new().extract(&head).as_deref(), Some("p:apikey:k-42"));
//!
//! // Any closure is an extractor too: here, one quota per tenant path segment.
//! let by_tenant = |head: &RequestHead<'_>| {
//!     let tenant = head.uri().path().split('/').nth(1)?;
//!     (!tenant.is_empty()).then(|| format!("tenant:{tenant}"))
//! };
//! assert_eq!(by_tenant.extract(&head), None);
//! ```

mod forwarded;
mod hop;
mod peer;
mod proxy;
mod x_forwarded_for;

use http::{Extensions, HeaderMap, HeaderName, Method, Request, Uri};
use tower_vigil_core::Principal;
use tower_vigil_core::secret::SecretHasher;

pub use self::peer::{DEFAULT_IPV6_PREFIX, MIN_IPV6_PREFIX, PeerIp};
pub use self::proxy::{ForwardedHeader, TrustedProxies};

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

/// Names the quota a request counts against. `None` means the request cannot be identified;
/// the layer then does what [`MissingKey`](crate::MissingKey) says.
pub trait KeyExtractor: Send + Sync + 'static {
    /// The key (any string: it is escaped, and hashed when long, before it reaches a backend).
    fn extract(&self, req: &RequestHead<'_>) -> Option<String>;
}

impl<F> KeyExtractor for F
where
    F: Fn(&RequestHead<'_>) -> Option<String> + Send + Sync + 'static,
{
    fn extract(&self, req: &RequestHead<'_>) -> Option<String> {
        self(req)
    }
}

/// One quota shared by every request (`global`).
#[derive(Debug, Clone, Copy, Default)]
pub struct GlobalKey;

impl KeyExtractor for GlobalKey {
    fn extract(&self, _: &RequestHead<'_>) -> Option<String> {
        Some("global".to_owned())
    }
}

/// The value of a header, as its SHA-256 (the header may carry a credential, which must never
/// be stored in plain text): `h:<name>:<96 bits of hex>`. A missing or empty header gives `None`.
#[derive(Debug, Clone)]
pub struct HeaderKey {
    name: HeaderName,
}

impl HeaderKey {
    /// Keys on the header `name`.
    pub fn new(name: HeaderName) -> Self {
        Self { name }
    }
}

impl KeyExtractor for HeaderKey {
    fn extract(&self, req: &RequestHead<'_>) -> Option<String> {
        let value = req.headers.get(&self.name)?.as_bytes();
        if value.is_empty() {
            return None;
        }
        let hex = SecretHasher::sha256().hash_hex(value);
        Some(format!("h:{}:{}", self.name, &hex[..24]))
    }
}

/// The [`Principal`] an authentication layer (API key, session) put in the extensions:
/// `p:<kind>:<id>`, so each API key or user has its own quota.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrincipalKey {
    organization: bool,
}

impl PrincipalKey {
    /// Keys on the principal itself.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keys on the principal's organization when it has one (one quota per organization),
    /// else on the principal.
    #[must_use]
    pub fn by_organization(mut self) -> Self {
        self.organization = true;
        self
    }
}

impl KeyExtractor for PrincipalKey {
    fn extract(&self, req: &RequestHead<'_>) -> Option<String> {
        let p = Principal::from_extensions(req.extensions)?;
        if self.organization
            && let Some(org) = p.organization_id()
        {
            return Some(format!("org:{org}"));
        }
        Some(format!("p:{}", p.scope()))
    }
}
