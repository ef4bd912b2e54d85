//! The settings a [`SessionManagerLayer`](crate::SessionManagerLayer) and its [`Session`](crate::Session)s share.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderName};
use tower_vigil_core::secret::SecretHasher;

use crate::store::{DynStore, Expiry};
use crate::token::{CookieConfig, CookieSigner, SessionToken};

/// Header tokens longer than this are ignored.
const MAX_HEADER_TOKEN_LEN: usize = 256;

/// How the request carried its token, so a new token goes back the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carrier {
    Cookie,
    Header,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) store: Arc<dyn DynStore>,
    pub(crate) idle: Duration,
    pub(crate) absolute: Option<Duration>,
    pub(crate) refresh_after: Duration,
    pub(crate) hasher: SecretHasher,
    pub(crate) cookie: Option<CookieConfig>,
    pub(crate) header: Option<HeaderName>,
    pub(crate) signer: Option<CookieSigner>,
    pub(crate) eager_principal: bool,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Config {
    pub(crate) fn expiry(&self) -> Expiry {
        Expiry::new(ms(self.idle), self.absolute.map_or(0, ms))
    }

    pub(crate) fn refresh_after_ms(&self) -> u64 {
        ms(self.refresh_after)
    }

    /// How long an index entry is good for from its (re)indexing: the longest TTL a write can
    /// give the session. The session is indexed again before a write would reach past it.
    pub(crate) fn index_ttl(&self) -> Duration {
        self.idle
    }

    /// The request's token: from the header if one is configured and present, else from the
    /// cookie. A value that cannot be a valid token counts as no token.
    pub(crate) fn extract(&self, headers: &HeaderMap) -> (Option<SessionToken>, Carrier) {
        extract_token(
            headers,
            self.header.as_ref(),
            self.cookie.as_ref(),
            self.signer.as_ref(),
        )
    }

    /// The cookie value for `token` (signed when a signer is configured).
    pub(crate) fn encode(&self, token: &SessionToken) -> String {
        match &self.signer {
            Some(s) => s.sign(token),
            None => token.as_str().to_owned(),
        }
    }
}

/// [`Config::extract`] on its parts (so the fuzz targets can reach it without a store).
pub(crate) fn extract_token(
    headers: &HeaderMap,
    header: Option<&HeaderName>,
    cookie: Option<&CookieConfig>,
    signer: Option<&CookieSigner>,
) -> (Option<SessionToken>, Carrier) {
    let decode = |value: &str| match signer {
        Some(s) => s.verify(value),
        None => SessionToken::parse(value),
    };
    if let Some(name) = header
        && let Some(v) = headers.get(name)
    {
        let t = (v.len() <= MAX_HEADER_TOKEN_LEN)
            .then(|| v.to_str().ok())
            .flatten()
            .and_then(|s| decode(s.trim()));
        return (t, Carrier::Header);
    }
    let Some(cookie) = cookie else {
        return (None, Carrier::Header);
    };
    let token = cookie.find(headers).into_iter().find_map(decode);
    (token, Carrier::Cookie)
}
