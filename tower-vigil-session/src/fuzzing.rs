//! Entry points for the fuzz targets (`fuzz/` at the workspace root) into parsers that are
//! internal to this crate. **Not API**: hidden from the docs, exempt from semver, and may
//! change or vanish in any release.

use http::{HeaderMap, HeaderName};
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

/// A session as the Redis store decodes it from `HGETALL` (`flat`), `PTTL` and its clock.
pub fn stored_session_from_reply(
    now_ms: i64,
    ttl_ms: i64,
    flat: Vec<Vec<u8>>,
) -> Result<StoredSession, BackendError> {
    StoredSession::from_reply(now_ms, ttl_ms, flat)
}

/// The first value of `name` in a flat `HGETALL` reply, as the Redis store's load reads the
/// secret and the absolute expiry before decoding the rest.
pub fn reply_field<'a>(flat: &'a [Vec<u8>], name: &str) -> Option<&'a [u8]> {
    crate::store::redis::field(flat, name)
}
