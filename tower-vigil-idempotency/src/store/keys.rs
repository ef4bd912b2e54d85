//! Every Redis key and channel name of this crate, relative to the backend's prefix:
//!
//! - `idempotency:{<sha256 hex>}`: one record per (scope, client key), the SHA-256 of the
//!   length-prefixed scope and key. The whole hash is the cluster hash tag, so everything a
//!   script does with one key stays in one slot; a `:` in a key cannot reach another scope,
//!   and the client's raw key is never stored.
//! - `idempotency:settled`: the pub/sub channel on which settled keys are announced to
//!   waiters. Pub/sub is cluster-wide, so one channel serves a whole Redis Cluster.

use sha2::{Digest, Sha256};
use tower_vigil_core::secret::hex;

use crate::fingerprint::length_prefixed;

/// The concern's namespace under the backend prefix.
const CONCERN: &str = "idempotency";

/// The channel settled keys are announced on.
pub(crate) const ANNOUNCE_CHANNEL: &str = "idempotency:settled";

/// The record key of `client_key` in `scope`.
pub(crate) fn record_key(scope: &str, client_key: &str) -> String {
    let mut h = Sha256::new();
    length_prefixed(&mut h, scope.as_bytes());
    length_prefixed(&mut h, client_key.as_bytes());
    let digest: [u8; 32] = h.finalize().into();
    format!("{CONCERN}:{{{}}}", hex(&digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cannot_shift_into_each_other() {
        assert_ne!(record_key("ab", "c"), record_key("a", "bc"));
        assert_ne!(record_key("a", ""), record_key("", "a"));
        // A `:` in the client's key cannot reach another scope.
        assert_ne!(record_key("user:1", "x:y"), record_key("user:1:x", "y"));
    }

    #[test]
    fn the_key_hides_the_client_key_and_is_its_own_hash_tag() {
        let k = record_key("user:7", "my-secret-key");
        assert!(!k.contains("my-secret-key"));
        assert!(k.starts_with("idempotency:{") && k.ends_with('}'));
        assert_eq!(k.len(), "idempotency:{}".len() + 64);
    }
}
