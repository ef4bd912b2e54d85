//! Session tokens: 256 bits from the OS CSPRNG, base64url; only their SHA-256 reaches the
//! backend. Tokens travel in a cookie ([`CookieConfig`]), optionally signed
//! ([`CookieSigner`], with key rotation), or in a header for API and mobile clients.
//!
//! A presented token that cannot be valid (wrong length or alphabet, bad signature, oversized
//! header) is treated as no token: no backend call is made for it.
//!
//! ```
//! use tower_vigil_session::token::{CookieConfig, SessionToken};
//!
//! let token = SessionToken::generate();
//! assert_eq!(token.as_str().len(), 43);
//! assert!(SessionToken::parse(token.as_str()).is_some());
//! assert!(SessionToken::parse("not a token").is_none());
//! // The key the backend sees is derived from the token's SHA-256, never the token.
//! assert!(!token.key(&Default::default()).contains(token.as_str()));
//!
//! let cookie = CookieConfig::new().secure(false).set_cookie("abc");
//! assert_eq!(cookie, "vigil_session=abc; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax");
//! ```

mod cookie;
mod signing;

use std::fmt;

use tower_vigil_core::secret::{SecretHasher, random_token};

pub use self::cookie::{CookieConfig, MAX_COOKIE_HEADER_LEN, SameSite, find_cookie};
pub use self::signing::{CookieSigner, MIN_KEY_LEN};

/// Random bytes in a token.
pub const TOKEN_BYTES: usize = 32;
/// Characters in a token (base64url without padding).
pub const TOKEN_LEN: usize = 43;

/// A well-formed session token. Its `Debug` output hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// A fresh token from the OS CSPRNG.
    pub fn generate() -> Self {
        Self(random_token(TOKEN_BYTES))
    }

    /// `s` if it has the shape of a token (43 base64url characters), else `None`.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = s.len() == TOKEN_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(s.to_owned()))
    }

    /// The token as sent to the client.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hex digest the backend knows this session by.
    pub fn hash(&self, hasher: &SecretHasher) -> String {
        hasher.hash_hex(self.0.as_bytes())
    }

    /// The backend key of this token's session.
    pub fn key(&self, hasher: &SecretHasher) -> String {
        session_key(&self.hash(hasher))
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

/// `session:{<hash>}`: the session's hash, used as its cluster hash tag.
pub fn session_key(hash: &str) -> String {
    format!("session:{{{hash}}}")
}

/// `session:user:{<escaped user id>}`: the set of a user's session hashes.
pub fn user_index_key(user_id: &str) -> String {
    format!("session:user:{}", tower_vigil_core::keys::hash_tag(user_id))
}
