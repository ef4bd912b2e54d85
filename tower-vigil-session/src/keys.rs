//! Every backend key this crate uses, relative to the backend's prefix (the backend prepends
//! it): built here and nowhere else.
//!
//! - `session:{<hash>}`: a session, under the hex hash of its token's id part, which is also its
//!   Redis Cluster hash tag.
//! - `session:user:{<escaped user id>}`: the index of a user's sessions (its own slot).

use tower_vigil_core::keys::hash_tag;

/// `session:{<hash>}`: the session stored under `hash` (its token's id hash, or an index
/// member checked to be one). Hex needs no escaping, and this runs on every session call: no
/// [`hash_tag`] pass over it.
pub fn session_key(hash: &str) -> String {
    debug_assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{hash:?}");
    format!("session:{{{hash}}}")
}

/// The hash a [`session_key`] was built from.
pub(crate) fn session_hash(key: &str) -> &str {
    key.strip_prefix("session:{")
        .and_then(|k| k.strip_suffix('}'))
        .unwrap_or(key)
}

/// `session:user:{<escaped user id>}`: the index of the sessions of `user_id`.
pub fn user_index_key(user_id: &str) -> String {
    format!("session:user:{}", hash_tag(user_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_their_hash_tag() {
        assert_eq!(session_key("ab12"), "session:{ab12}");
        assert_eq!(session_key("ab12"), format!("session:{}", hash_tag("ab12")));
        assert_eq!(session_hash(&session_key("ab12")), "ab12");
        // A user id cannot forge another tag or key.
        assert_eq!(user_index_key("bob:{x}"), "session:user:{bob%3A%7Bx%7D}");
    }
}
