//! Reading the session cookie from `Cookie` headers and writing `Set-Cookie`.
//!
//! Parsed by hand: only one cookie name is looked up, and the parser must never fail loudly on
//! hostile input, which a general cookie crate would add nothing to.

use std::time::Duration;

use http::HeaderMap;
use http::header::COOKIE;
use tower_vigil_core::backend::check_ttl;

pub use super::prefix::CookiePrefix;

/// `Cookie` headers longer than this in total are ignored (no session). The session cookie's
/// own value must be a well-formed token (43 characters, 87 signed), so this bound only keeps
/// parsing cheap; it is well above what browsers send for a site (about 4 KiB per cookie).
pub const MAX_COOKIE_HEADER_LEN: usize = 16 * 1024;

/// The cookie's `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SameSite {
    /// `Strict`: never sent on cross-site requests.
    Strict,
    /// `Lax` (the default): sent on top-level cross-site navigations only.
    Lax,
    /// `None`: always sent (requires `Secure`).
    None,
}

impl SameSite {
    fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

/// The session cookie's name and attributes.
///
/// Defaults: name `vigil_session` with the `__Host-` prefix ([`CookiePrefix::Auto`]), `Path=/`,
/// `HttpOnly`, `Secure`, `SameSite=Lax`, no `Domain`, and `Max-Age` set by the layer to the
/// absolute timeout (a browser-session cookie when there is none) unless
/// [`max_age`](Self::max_age) chose one. Every setter is infallible: the layer's
/// [`build`](crate::SessionManagerLayerBuilder::build) checks the result.
///
/// ```
/// use std::time::Duration;
/// use tower_vigil_session::{CookieConfig, SameSite};
///
/// assert!(CookieConfig::new().set_cookie("t").starts_with("__Host-vigil_session=t; Path=/;"));
/// let c = CookieConfig::new()
///     .name("sid")
///     .domain("example.com") // no `__Host-` with a Domain: `__Secure-`
///     .same_site(SameSite::Strict)
///     .max_age(Some(Duration::from_secs(3600)));
/// assert_eq!(
///     c.set_cookie("t"),
///     "__Secure-sid=t; Path=/; Domain=example.com; Max-Age=3600; HttpOnly; Secure; SameSite=Strict"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct CookieConfig {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) secure: bool,
    pub(crate) same_site: SameSite,
    pub(crate) max_age: MaxAge,
    pub(crate) prefix: CookiePrefix,
}

/// The cookie's `Max-Age`: chosen with [`CookieConfig::max_age`], or left to the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MaxAge {
    /// Not chosen: the layer's absolute timeout (the default one outside a layer).
    FromAbsoluteTimeout,
    /// Chosen (`None`: a browser-session cookie).
    Chosen(Option<Duration>),
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl CookieConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self {
            name: "vigil_session".into(),
            path: "/".into(),
            domain: None,
            secure: true,
            same_site: SameSite::Lax,
            max_age: MaxAge::FromAbsoluteTimeout,
            prefix: CookiePrefix::Auto,
        }
    }

    /// The name prefix (default [`CookiePrefix::Auto`]: `__Host-` for a `Secure` cookie on
    /// `Path=/` without `Domain`).
    pub fn prefix(mut self, prefix: CookiePrefix) -> Self {
        self.prefix = prefix;
        self
    }

    /// The prefix these attributes give the name (before [`validate`](Self::validate) has
    /// checked that an explicit one fits them).
    fn prefix_str(&self) -> &'static str {
        self.prefix
            .resolve(self.secure, &self.path, self.domain.is_some())
    }

    /// The name the cookie is sent and looked up under: the prefix, then the name.
    pub fn full_name(&self) -> String {
        format!("{}{}", self.prefix_str(), self.name)
    }

    /// The cookie name (default `vigil_session`), without the prefix (see
    /// [`prefix`](Self::prefix)); a name starting with `__Host-` or `__Secure-` is refused.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The `Path` (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The `Domain` (default none: the exact host only).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// `Secure` (default on). Turn it off only for local development over plain http.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// `SameSite` (default `Lax`).
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// `Max-Age` (`None`: a browser-session cookie). Not set, the layer gives the cookie its
    /// absolute timeout, whatever order the layer's setters were called in.
    pub fn max_age(mut self, max_age: Option<Duration>) -> Self {
        self.max_age = MaxAge::Chosen(max_age);
        self
    }

    /// The same cookie with its `Max-Age` decided: the chosen one, else `absolute`.
    pub(crate) fn resolve_max_age(mut self, absolute: Option<Duration>) -> Self {
        if self.max_age == MaxAge::FromAbsoluteTimeout {
            self.max_age = MaxAge::Chosen(absolute);
        }
        self
    }

    /// The `Max-Age` sent: the chosen one, else the default absolute timeout.
    fn effective_max_age(&self) -> Option<Duration> {
        match self.max_age {
            MaxAge::Chosen(age) => age,
            MaxAge::FromAbsoluteTimeout => Some(crate::timeouts::DEFAULT_ABSOLUTE_TIMEOUT),
        }
    }

    /// Checks that the name and attributes can be sent in a header, that an explicit prefix
    /// fits the attributes, and `Max-Age` (with `check_ttl`).
    pub(crate) fn validate(&self) -> Result<(), tower_vigil_core::ConfigError> {
        let token_char = |b: u8| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b);
        if self.name.is_empty() || !self.name.bytes().all(token_char) {
            return Err(tower_vigil_core::ConfigError::new(
                "cookie.name",
                "must be a non-empty HTTP token",
            ));
        }
        let attr_ok = |s: &str| s.bytes().all(|b| b.is_ascii_graphic() && b != b';');
        if !attr_ok(&self.path) || self.domain.as_deref().is_some_and(|d| !attr_ok(d)) {
            return Err(tower_vigil_core::ConfigError::new(
                "cookie",
                "path and domain must be printable ASCII without `;`",
            ));
        }
        let lower = self.name.to_ascii_lowercase();
        if lower.starts_with("__host-") || lower.starts_with("__secure-") {
            return Err(tower_vigil_core::ConfigError::new(
                "cookie.name",
                "give the name without `__Host-` / `__Secure-`; choose the prefix with `prefix()`",
            ));
        }
        self.prefix
            .check(self.secure, &self.path, self.domain.is_some())?;
        if let MaxAge::Chosen(Some(age)) = self.max_age {
            check_ttl("cookie.max_age", age)?;
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(tower_vigil_core::ConfigError::new(
                "cookie.same_site",
                "SameSite=None requires Secure",
            ));
        }
        Ok(())
    }

    fn attributes(&self, out: &mut String, max_age: Option<Duration>) {
        out.push_str("; Path=");
        out.push_str(&self.path);
        if let Some(d) = &self.domain {
            out.push_str("; Domain=");
            out.push_str(d);
        }
        if let Some(age) = max_age {
            out.push_str(&format!("; Max-Age={}", age.as_secs()));
        }
        out.push_str("; HttpOnly");
        if self.secure {
            out.push_str("; Secure");
        }
        out.push_str("; SameSite=");
        out.push_str(self.same_site.as_str());
    }

    /// The `Set-Cookie` value carrying `value`.
    pub fn set_cookie(&self, value: &str) -> String {
        let mut out = format!("{}{}={}", self.prefix_str(), self.name, value);
        self.attributes(&mut out, self.effective_max_age());
        out
    }

    /// The `Set-Cookie` value that makes the browser drop the cookie.
    pub fn clear_cookie(&self) -> String {
        let mut out = format!("{}{}=", self.prefix_str(), self.name);
        self.attributes(&mut out, Some(Duration::ZERO));
        out
    }
}

/// The values of every cookie called `name` in the request's `Cookie` headers, in order.
/// Headers that are too long in total or not visible ASCII are ignored.
pub fn find_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    find_cookie_named(headers, |n| n == name)
}

impl CookieConfig {
    /// The values of the session cookie (under its prefixed name) in the request's `Cookie`
    /// headers, as [`find_cookie`] finds them, without building the prefixed name.
    pub(crate) fn find<'a>(&self, headers: &'a HeaderMap) -> Vec<&'a str> {
        let prefix = self.prefix_str();
        find_cookie_named(headers, |n| {
            n.strip_prefix(prefix) == Some(self.name.as_str())
        })
    }
}

fn find_cookie_named(headers: &HeaderMap, is_name: impl Fn(&str) -> bool) -> Vec<&str> {
    let all = headers.get_all(COOKIE);
    let total: usize = all.iter().map(|v| v.len()).sum();
    if total > MAX_COOKIE_HEADER_LEN {
        return Vec::new();
    }
    let mut found = Vec::new();
    for v in all {
        let Ok(s) = v.to_str() else { continue };
        for pair in s.split(';') {
            let Some((n, value)) = pair.split_once('=') else {
                continue;
            };
            if is_name(n.trim()) {
                let value = value.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                found.push(value);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn finds_cookie_among_others_and_headers() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; sid=\"x\""));
        h.append(COOKIE, HeaderValue::from_static("sid=y;b"));
        assert_eq!(find_cookie(&h, "sid"), vec!["x", "y"]);
        assert!(find_cookie(&h, "none").is_empty());
    }

    #[test]
    fn oversized_header_is_ignored() {
        let mut h = HeaderMap::new();
        let big = format!("sid=x; pad={}", "p".repeat(MAX_COOKIE_HEADER_LEN));
        h.append(COOKIE, HeaderValue::from_str(&big).unwrap());
        assert!(find_cookie(&h, "sid").is_empty());
    }

    #[test]
    fn clear_cookie_expires_now() {
        let c = CookieConfig::new().clear_cookie();
        assert!(c.starts_with("__Host-vigil_session=; "));
        assert!(c.contains("Max-Age=0"));
    }

    #[test]
    fn bad_config_is_refused() {
        assert!(CookieConfig::new().name("a b").validate().is_err());
        assert!(CookieConfig::new().domain("x;y").validate().is_err());
        assert!(
            CookieConfig::new()
                .same_site(SameSite::None)
                .secure(false)
                .validate()
                .is_err()
        );
        assert!(CookieConfig::new().validate().is_ok());
    }
}
