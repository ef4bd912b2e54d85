//! Secrets: hashing API keys and session tokens before they reach a backend, and random tokens
//! from the operating system's CSPRNG.
//!
//! No secret is ever a key or a value in plain text: a layer stores `hasher.hash_hex(secret)`.
//! With a pepper (HMAC-SHA256), a leaked Redis dump cannot be checked against guessed keys
//! without the server's pepper too.
//!
//! ```
//! use tower_vigil_core::secret::{SecretHasher, random_token};
//!
//! let plain = SecretHasher::sha256();
//! assert_eq!(
//!     plain.hash_hex(b"abc"),
//!     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
//! );
//! let peppered = SecretHasher::hmac_sha256(b"server-side pepper, 32 bytes or more!".to_vec()).unwrap();
//! assert_ne!(peppered.hash_hex(b"abc"), plain.hash_hex(b"abc"));
//!
//! let token = random_token(32);
//! assert_eq!(token.len(), 43); // 256 bits, base64url without padding
//! ```

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::ConfigError;

/// The shortest pepper accepted, in bytes.
pub const MIN_PEPPER_LEN: usize = 16;

/// How secrets are turned into the hex digests that backends store.
#[derive(Clone)]
pub struct SecretHasher {
    pepper: Option<Arc<[u8]>>,
}

impl SecretHasher {
    /// Plain SHA-256.
    pub fn sha256() -> Self {
        Self { pepper: None }
    }

    /// HMAC-SHA256 keyed with a server-side `pepper` of at least 16 bytes.
    pub fn hmac_sha256(pepper: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let pepper = pepper.into();
        if pepper.len() < MIN_PEPPER_LEN {
            return Err(ConfigError::new(
                "pepper",
                format!("must be at least {MIN_PEPPER_LEN} bytes"),
            ));
        }
        Ok(Self {
            pepper: Some(pepper.into()),
        })
    }

    /// True when a pepper is configured.
    pub fn is_peppered(&self) -> bool {
        self.pepper.is_some()
    }

    /// The 32-byte digest of `secret`.
    pub fn hash(&self, secret: &[u8]) -> [u8; 32] {
        match &self.pepper {
            None => Sha256::digest(secret).into(),
            Some(pepper) => {
                // `new_from_slice` accepts keys of any length for HMAC.
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(pepper)
                    .expect("HMAC takes keys of any length");
                mac.update(secret);
                mac.finalize().into_bytes().into()
            }
        }
    }

    /// The digest of `secret` as 64 lowercase hex characters.
    pub fn hash_hex(&self, secret: &[u8]) -> String {
        hex(&self.hash(secret))
    }
}

impl Default for SecretHasher {
    fn default() -> Self {
        Self::sha256()
    }
}

impl fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the pepper.
        f.debug_struct("SecretHasher")
            .field(
                "algorithm",
                &if self.pepper.is_some() {
                    "hmac-sha256"
                } else {
                    "sha256"
                },
            )
            .finish()
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// `N` bytes from the operating system's CSPRNG.
///
/// # Panics
/// When the operating system has no entropy source, which no supported platform lacks; a
/// server that cannot make secure tokens must not go on.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the OS CSPRNG is unavailable");
    buf
}

/// `len` random bytes from the OS CSPRNG, base64url-encoded without padding.
pub fn random_token(len: usize) -> String {
    let mut buf = vec![0u8; len];
    getrandom::fill(&mut buf).expect("the OS CSPRNG is unavailable");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_3() {
        let h = SecretHasher::hmac_sha256(vec![0xaa; 20]).unwrap();
        assert_eq!(
            h.hash_hex(&[0xdd; 50]),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
        );
        assert!(SecretHasher::hmac_sha256(b"short".to_vec()).is_err());
    }

    #[test]
    fn tokens_are_distinct() {
        assert_ne!(random_token(16), random_token(16));
        assert_eq!(random_token(16).len(), 22);
    }

    #[test]
    fn debug_hides_the_pepper() {
        let h = SecretHasher::hmac_sha256(b"super secret pepper".to_vec()).unwrap();
        assert!(!format!("{h:?}").contains("super"));
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
