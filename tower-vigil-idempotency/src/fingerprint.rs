//! Request fingerprints: SHA-256 over the length-prefixed method, path, query and body, so no
//! two different requests can be made to hash the same byte stream. A key reused with a
//! request of another fingerprint is refused (`422`).
//!
//! ```
//! use tower_vigil_idempotency::__private::Fingerprint;
//!
//! let a = Fingerprint::of(&http::Method::POST, "/orders", Some("a=1"), b"{}");
//! let b = Fingerprint::of(&http::Method::POST, "/orders", Some("a=1"), b"{ }");
//! assert_ne!(a, b);
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
        length_prefixed(&mut h, method.as_str().as_bytes());
        length_prefixed(&mut h, path.as_bytes());
        match query {
            None => h.update([0u8]),
            Some(q) => {
                h.update([1u8]);
                length_prefixed(&mut h, q.as_bytes());
            }
        }
        length_prefixed(&mut h, body);
        Self(h.finalize().into())
    }

    /// The fingerprint of a unit of work's payload (for the
    /// [`WorkLedger`](crate::work::WorkLedger)). A tag keeps it apart from every request's.
    pub fn of_work(payload: &[u8]) -> Self {
        let mut h = Sha256::new();
        length_prefixed(&mut h, b"work");
        length_prefixed(&mut h, payload);
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

/// Hashes `bytes` after their length, so adjacent parts cannot shift into each other.
pub(crate) fn length_prefixed(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
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
    }
}
