//! Session tokens: a 128-bit session id and a 256-bit secret from the OS CSPRNG,
//! base64url, 65 characters. The backend sees only SHA-256 digests: the session is stored
//! under the hash of its id, and holds the hash of the whole token, which every read and
//! write must match. [`cycle_id`](crate::Session::cycle_id) replaces the secret in place —
//! one atomic step on one key, so it works on Redis Cluster and can never race a revoke-all
//! into keeping a session alive. Tokens travel in a cookie ([`CookieConfig`]), optionally
//! signed ([`CookieSigner`], with key rotation), or in a header for API and mobile clients.
//!
//! A presented token that cannot be valid (wrong length or alphabet, bad signature, oversized
//! header) is treated as no token: no backend call is made for it.
//!
//! Internal: users choose the cookie with [`CookieConfig`](crate::CookieConfig) and the
//! signing keys with
//! [`signing_keys`](crate::SessionManagerLayerBuilder::signing_keys).

mod cookie;
mod prefix;
mod signing;

use std::fmt;

use tower_vigil_core::secret::{SecretHasher, random_token};

pub use self::cookie::{CookieConfig, CookiePrefix, MAX_COOKIE_HEADER_LEN, SameSite, find_cookie};
pub use self::signing::CookieSigner;

/// Random bytes of the session id part.
const ID_BYTES: usize = 16;
/// Random bytes of the secret part.
const SECRET_BYTES: usize = 32;
/// Characters of the id part (base64url without padding).
const ID_LEN: usize = 22;
/// Characters in a token: the id then the secret, base64url without padding.
pub const TOKEN_LEN: usize = 65;

/// A well-formed session token. Its `Debug` output hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// A fresh token (new session id, new secret) from the OS CSPRNG.
    pub fn generate() -> Self {
        Self(random_token(ID_BYTES) + &random_token(SECRET_BYTES))
    }

    /// The same session id with a fresh secret: the token after [`cycle_id`](crate::Session::cycle_id).
    pub fn cycled(&self) -> Self {
        Self(self.0[..ID_LEN].to_owned() + &random_token(SECRET_BYTES))
    }

    /// `s` if it has the shape of a token (65 base64url characters), else `None`.
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

    /// The hex digest of the session id part: what the session is stored and listed under.
    /// It stays the same when the id is cycled.
    pub fn id_hash(&self, hasher: &SecretHasher) -> String {
        hasher.hash_hex(&self.0.as_bytes()[..ID_LEN])
    }

    /// The hex digest of the whole token, stored in the session and checked on every access.
    pub fn secret_hash(&self, hasher: &SecretHasher) -> String {
        hasher.hash_hex(self.0.as_bytes())
    }

    /// The backend key of this token's session.
    pub fn key(&self, hasher: &SecretHasher) -> String {
        crate::keys::session_key(&self.id_hash(hasher))
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_hashed() {
        let token = SessionToken::generate();
        assert_eq!(token.as_str().len(), TOKEN_LEN);
        assert!(SessionToken::parse(token.as_str()).is_some());
        assert!(SessionToken::parse("not a token").is_none());
        // The key the backend sees is derived from a SHA-256 digest, never the token.
        let hasher = SecretHasher::default();
        assert!(!token.key(&hasher).contains(&token.as_str()[..ID_LEN]));
        // A cycled token keeps the session id and changes the secret.
        let cycled = token.cycled();
        assert_eq!(cycled.key(&hasher), token.key(&hasher));
        assert_ne!(cycled.secret_hash(&hasher), token.secret_hash(&hasher));
        let cookie = CookieConfig::new().secure(false).set_cookie("abc");
        assert_eq!(
            cookie,
            "vigil_session=abc; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax"
        );
    }
}
