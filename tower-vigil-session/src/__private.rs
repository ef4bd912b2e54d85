//! Internals the crate's own tests reach (to check what the store holds, to name a user's
//! index). **Not API**: hidden from the docs, exempt from semver, and may change or vanish in
//! any release.

pub use crate::keys::{session_key, user_index_key};
pub use crate::token::SessionToken;
