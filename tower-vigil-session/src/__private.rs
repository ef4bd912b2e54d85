//! Internals the crate's own tests reach: the store's operations (to set up and inspect what a
//! backend holds, and to check the Lua scripts against their twins), the token and the key
//! names. **Not API**: hidden from the docs, exempt from semver, and may change or vanish in
//! any release.

pub use crate::keys::{session_key, user_index_key};
pub use crate::store::{
    CREATE_SCRIPT, DESTROY_SCRIPT, Expiry, INDEX_GRACE, StoredSession, WriteOutcome, create,
    destroy, index_add, index_members, index_remove, load, write,
};
pub use crate::token::SessionToken;
