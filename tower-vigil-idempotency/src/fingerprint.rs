//! Request fingerprints and store keys: SHA-256 over length-prefixed parts, so no two
//! different inputs can be made to hash the same byte stream.
//!
//! ```
//! use tower_vigil_idempotency::fingerprint::{Fingerprint, store_key};
//!
//! let a = Fingerprint::of(&http::Method::POST, "/orders", Some("a=1"), b"{}");
//! let b = Fingerprint::of(&http::Method::POST, "/orders", Some("a=1"), b"{ }");
//! assert_ne!(a, b);
//!
//! // A `:` in the client's key cannot reach another scope, and the raw key is never stored.
//! assert_ne!(store_key("user:1", "x:y"), store_key("user:1:x", "y"));
//! assert!(store_key("user:1", "k").starts_with("idempotency:{"));
//! ```

use std::fmt;

use http::Method;
use sha2::{Digest, Sha256};
use tower_vigil_core::secret::hex;

/// The SHA-256 of a request's method, path, query and body.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of one request. `None` and `Some("")` queries differ (`/a` vs `/a?`).
    pub fn of(method: &Method, path: &str, query: Option<&str>, body: &[u8]) -> Self {
        let mut h = Sha256::new();
        part(&mut h, method.as_str().as_bytes());
        part(&mut h, path.as_bytes());
        match query {
            None => h.update([0u8]),
            Some(q) => {
                h.update([1u8]);
                part(&mut h, q.as_bytes());
            }
        }
        part(&mut h, body);
        Self(h.finalize().into())
    }

    /// Wraps 32 bytes read back from a store.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", hex(&self.0[..8]))
    }
}

fn part(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// The store key (relative to the backend prefix) of `client_key` in `scope`:
/// `idempotency:{<sha256 hex of len-prefixed scope and key>}`. The whole hash is the cluster
/// hash tag, so everything a store does with one key stays in one slot.
pub fn store_key(scope: &str, client_key: &str) -> String {
    let mut h = Sha256::new();
    part(&mut h, scope.as_bytes());
    part(&mut h, client_key.as_bytes());
    let digest: [u8; 32] = h.finalize().into();
    format!("idempotency:{{{}}}", hex(&digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_counts() {
        let base = Fingerprint::of(&Method::POST, "/a", Some("q"), b"b");
        assert_ne!(base, Fingerprint::of(&Method::PATCH, "/a", Some("q"), b"b"));
        assert_ne!(base, Fingerprint::of(&Method::POST, "/b", Some("q"), b"b"));
        assert_ne!(base, Fingerprint::of(&Method::POST, "/a", Some("r"), b"b"));
        assert_ne!(base, Fingerprint::of(&Method::POST, "/a", None, b"b"));
        assert_ne!(base, Fingerprint::of(&Method::POST, "/a", Some("q"), b"c"));
        assert_eq!(base, Fingerprint::of(&Method::POST, "/a", Some("q"), b"b"));
    }

    #[test]
    fn parts_cannot_shift_into_each_other() {
        assert_ne!(
            Fingerprint::of(&Method::POST, "/ab", Some(""), b""),
            Fingerprint::of(&Method::POST, "/a", Some("b"), b"")
        );
        assert_ne!(
            Fingerprint::of(&Method::POST, "/a", Some("b"), b""),
            Fingerprint::of(&Method::POST, "/a", Some(""), b"b")
        );
        assert_ne!(store_key("ab", "c"), store_key("a", "bc"));
        assert_ne!(store_key("a", ""), store_key("", "a"));
    }

    #[test]
    fn store_key_hides_the_client_key() {
        let k = store_key("user:7", "my-secret-key");
        assert!(!k.contains("my-secret-key"));
        assert_eq!(k.len(), "idempotency:{}".len() + 64);
    }
}
