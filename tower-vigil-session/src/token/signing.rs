//! [`CookieSigner`]: HMAC-SHA256 signatures on the session cookie, with key rotation.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tower_vigil_core::ConfigError;
use tower_vigil_core::secret::constant_time_eq;

use super::SessionToken;

/// The shortest signing key accepted, in bytes.
const MIN_KEY_LEN: usize = 32;
const SIG_LEN: usize = 43;
const CONTEXT: &[u8] = b"tower-vigil-session cookie v1\0";

/// Signs session cookies (`<token>.<signature>`) with the first key and accepts a signature by
/// any key, so keys can be rotated: put the new key first, keep the old one until cookies
/// signed with it have expired.
///
/// Tokens are unguessable on their own; a signature lets the server refuse forged or
/// tampered cookies without a backend call, and revoke every cookie at once by dropping a key.
#[derive(Clone)]
pub struct CookieSigner {
    keys: Arc<[Vec<u8>]>,
}

impl CookieSigner {
    /// Signs with the first of `keys` and accepts any. Each key must have at least 32 bytes.
    pub fn new<I, K>(keys: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = K>,
        K: Into<Vec<u8>>,
    {
        let keys: Vec<Vec<u8>> = keys.into_iter().map(Into::into).collect();
        if keys.is_empty() {
            return Err(ConfigError::new(
                "signing_keys",
                "at least one key is needed",
            ));
        }
        if keys.iter().any(|k| k.len() < MIN_KEY_LEN) {
            return Err(ConfigError::new(
                "signing_keys",
                format!("each key must have at least {MIN_KEY_LEN} bytes"),
            ));
        }
        Ok(Self { keys: keys.into() })
    }

    fn mac(key: &[u8], token: &str) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(CONTEXT);
        mac.update(token.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// `<token>.<base64url HMAC>` with the first key.
    pub fn sign(&self, token: &SessionToken) -> String {
        let sig = URL_SAFE_NO_PAD.encode(Self::mac(&self.keys[0], token.as_str()));
        format!("{}.{sig}", token.as_str())
    }

    /// The token in `value` if its signature is valid under any key.
    pub fn verify(&self, value: &str) -> Option<SessionToken> {
        let (token, sig) = value.split_once('.')?;
        if sig.len() != SIG_LEN {
            return None;
        }
        let token = SessionToken::parse(token)?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        self.keys
            .iter()
            .any(|k| constant_time_eq(&Self::mac(k, token.as_str()), &sig))
            .then_some(token)
    }
}

impl fmt::Debug for CookieSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieSigner")
            .field("keys", &self.keys.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_keys_accept_old_signatures() {
        let old = CookieSigner::new([[1u8; 32].to_vec()]).unwrap();
        let rotated = CookieSigner::new([[2u8; 32].to_vec(), [1u8; 32].to_vec()]).unwrap();
        let token = SessionToken::generate();
        let cookie = old.sign(&token);
        assert_eq!(rotated.verify(&cookie), Some(token.clone()));
        assert_eq!(rotated.verify(&cookie.replace('.', "x")), None);
        assert!(CookieSigner::new([vec![0u8; 31]]).is_err());
        assert!(CookieSigner::new(Vec::<Vec<u8>>::new()).is_err());
    }
}
