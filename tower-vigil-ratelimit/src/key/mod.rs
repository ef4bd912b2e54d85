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

mod extractor;
mod forwarded;
mod global;
mod header;
mod hop;
mod peer;
mod principal;
mod proxy;
mod x_forwarded_for;

pub use self::extractor::{KeyExtractor, RequestHead};
pub use self::global::GlobalKey;
pub use self::header::HeaderKey;
pub use self::peer::{DEFAULT_IPV6_PREFIX, MIN_IPV6_PREFIX, PeerIp};
pub use self::principal::PrincipalKey;
pub use self::proxy::{ForwardedHeader, TrustedProxies};
