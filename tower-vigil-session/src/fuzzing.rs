//! Entry points for the fuzz targets (`fuzz/` at the workspace root) into parsers that are
//! internal to this crate. **Not API**: hidden from the docs, exempt from semver, and may
//! change or vanish in any release.

use http::{HeaderMap, HeaderName, Method};
use tower_vigil_core::BackendError;

pub use crate::store::record::{
    ABSOLUTE_FIELD, CREATED_FIELD, DATA_PREFIX, DEADLINE_FIELD, Expiry, LAST_FIELD, SECRET_FIELD,
    StoredSession, USER_FIELD,
};
pub use crate::token::{
    CookieConfig, CookiePrefix, CookieSigner, MAX_COOKIE_HEADER_LEN, SessionToken, TOKEN_LEN,
    find_cookie,
};

/// The token the layer would read from `headers` (the header `header` if configured and
/// present, else the cookie), and whether it came from the header.
pub fn extract_token(
    headers: &HeaderMap,
    header: Option<&HeaderName>,
    cookie: Option<&CookieConfig>,
    signer: Option<&CookieSigner>,
) -> (Option<SessionToken>, bool) {
    let (token, carrier) = crate::config::extract_token(headers, header, cookie, signer);
    (token, carrier == crate::config::Carrier::Header)
}

/// A session decoded from a flat `HGETALL` reply (`flat`: name, value, ...), its `PTTL` and
/// the clock of the read.
pub fn stored_session_from_reply(
    now_ms: i64,
    ttl_ms: i64,
    flat: Vec<Vec<u8>>,
) -> Result<StoredSession, BackendError> {
    StoredSession::from_reply(now_ms, ttl_ms, flat)
}

/// What [`CrossSiteLayer`](crate::CrossSiteLayer) decides from a request's method and headers
/// alone, for a layer built with `trusted_origins`, `allow_same_site` and `require_token`:
/// `Ok(false)` passes, `Ok(true)` needs the session's token, `Err(reason)` is refused.
///
/// # Panics
/// When the settings do not build (a malformed trusted origin).
pub fn cross_site_decide(
    method: &Method,
    headers: &HeaderMap,
    trusted_origins: &[&str],
    allow_same_site: bool,
    require_token: bool,
) -> Result<bool, &'static str> {
    use crate::cross_site::layer::Verdict;
    let config = crate::cross_site::layer::Config {
        trusted_origins: trusted_origins
            .iter()
            .map(|o| crate::cross_site::origin::normalise(o).expect("a valid origin"))
            .collect(),
        allow_same_site,
        require_token,
        header: HeaderName::from_static(crate::cross_site::DEFAULT_TOKEN_HEADER),
        form_field: crate::cross_site::DEFAULT_FORM_FIELD.to_owned(),
        body_limit: crate::cross_site::DEFAULT_BODY_LIMIT,
    };
    match config.decide(method, headers) {
        Verdict::Allow => Ok(false),
        Verdict::Token => Ok(true),
        Verdict::Refuse(kind) => Err(kind.reason()),
    }
}

/// An `Origin` (or a configured trusted origin) as the layer compares it: `scheme://host[:port]`
/// normalised, or `None` when it is not such an origin.
pub fn normalise_origin(origin: &str) -> Option<String> {
    crate::cross_site::origin::normalise(origin)
}

/// The decoded value of the first field `name` of an `application/x-www-form-urlencoded` body,
/// as the layer reads the token from a form.
pub fn form_value(body: &[u8], name: &str) -> Option<Vec<u8>> {
    crate::cross_site::body::form_value(body, name)
}
