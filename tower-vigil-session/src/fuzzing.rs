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

/// A session decoded from a flat `HGETALL` reply (`flat`: name, value, ...), its `PTTL` and
/// the clock of the read.
pub fn stored_session_from_reply(
    now_ms: i64,
    ttl_ms: i64,
    flat: Vec<Vec<u8>>,
) -> Result<StoredSession, BackendError> {
    StoredSession::from_reply(now_ms, ttl_ms, flat)
}
