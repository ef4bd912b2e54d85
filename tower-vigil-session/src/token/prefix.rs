//! [`CookiePrefix`]: the `__Host-` / `__Secure-` cookie name prefixes.

use tower_vigil_core::ConfigError;

/// The cookie name prefix that makes the browser enforce the cookie's attributes
/// ([RFC 6265bis "Cookie Name Prefixes"](https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#name-cookie-name-prefixes)).
///
/// A `__Host-` cookie is only accepted from a secure origin, with `Secure`, `Path=/` and no
/// `Domain`: a sibling subdomain or a plain-http response cannot set or overwrite it (no
/// cookie tossing into the session slot). A `__Secure-` cookie must be `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CookiePrefix {
    /// The default: `__Host-` when the cookie is `Secure` with `Path=/` and no `Domain`;
    /// `__Secure-` when it is `Secure` with a `Domain` or another path (the strongest prefix
    /// those attributes allow); none when it is not `Secure` (local http development).
    #[default]
    Auto,
    /// Always `__Host-`: the layer refuses a cookie that is not `Secure`, has a `Domain` or a
    /// path other than `/`.
    Host,
    /// Always `__Secure-`: the layer refuses a cookie that is not `Secure`.
    Secure,
    /// No prefix, as before this setting existed. The browser then lets a sibling subdomain or
    /// a plain-http response plant or overwrite the session cookie; use it only to keep the old
    /// cookie name.
    None,
}

impl CookiePrefix {
    /// The prefix a cookie with these attributes gets.
    pub(crate) fn resolve(self, secure: bool, path: &str, has_domain: bool) -> &'static str {
        let host_ok = secure && path == "/" && !has_domain;
        match self {
            Self::Auto if host_ok => "__Host-",
            Self::Auto if secure => "__Secure-",
            Self::Host => "__Host-",
            Self::Secure => "__Secure-",
            _ => "",
        }
    }

    /// Refuses an explicit prefix the attributes cannot carry (the browser would drop the
    /// cookie).
    pub(crate) fn check(
        self,
        secure: bool,
        path: &str,
        has_domain: bool,
    ) -> Result<(), ConfigError> {
        let host_ok = secure && path == "/" && !has_domain;
        if self == Self::Host && !host_ok {
            return Err(ConfigError::new(
                "cookie.prefix",
                "`__Host-` requires Secure, Path=/ and no Domain (use CookiePrefix::Auto or Secure)",
            ));
        }
        if self == Self::Secure && !secure {
            return Err(ConfigError::new(
                "cookie.prefix",
                "`__Secure-` requires Secure",
            ));
        }
        Ok(())
    }
}
