//! Every name this crate uses in the backend, relative to the backend's prefix (which the
//! backend adds): the two keys of a cached API key and the invalidation channel.
//!
//! `apikey:{hash}` holds the shared (L2) record and `apikey:{hash}:rev` the key's revocation
//! generation; both carry the hash tag `{hash}`, so the scripts touching them together run on
//! Redis Cluster. `hash` is the key's SHA-256 (or HMAC) hex, never the key.

use tower_vigil_core::keys::hash_tag;

/// The pub/sub channel (relative to the backend prefix) invalidations are published on; the
/// payload is the key's hash.
pub const INVALIDATION_CHANNEL: &str = "apikey:invalidate";

/// The record and generation keys of the API key whose hash is `hash`: `apikey:{hash}` and
/// `apikey:{hash}:rev`, one hash tag, so one cluster slot.
pub fn record_keys(hash: &str) -> (String, String) {
    let record = format!("apikey:{}", hash_tag(hash));
    let rev = format!("{record}:rev");
    (record, rev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_a_hash_tag() {
        let (r, v) = record_keys("ab12");
        assert_eq!(r, "apikey:{ab12}");
        assert_eq!(v, "apikey:{ab12}:rev");
    }
}
