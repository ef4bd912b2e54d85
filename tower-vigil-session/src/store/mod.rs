//! The session store: the atomic operations sessions need on whatever backend the layer was
//! given. Each write is one [`Script`] run through [`Backend::run`] (Lua beside these files
//! for Redis, the Rust twins for memory, the same arguments for both); the read is one
//! [`Backend::hash_read`], checked in Rust.
//!
//! A session is one hash at `session:{<sha256 hex of the token's id part>}`: one field per
//! value (`d:<name>`, JSON), the metadata fields `_user`, `_created`, `_last`, `_abs` and
//! `_dl` (milliseconds since the Unix epoch; `_abs` is the absolute expiry, `0` for none; `_dl`
//! the deadline of the session's entry in its user's index, which no TTL reaches past), and
//! `_sec`, the SHA-256 of the whole token, which every read and write must present. Writes
//! touch only the fields that changed, and only while the session exists with that secret, so
//! a write racing a logout can never bring the session back, and a cycled token replaces
//! `_sec` in place. Writes take the time from the store (Redis `TIME`, the memory backend's
//! pausable clock), so the store ends an expired session on its own clock. A read fetches the
//! whole hash and its TTL (on Redis `HGETALL` and `PTTL` in one round trip, no script: a
//! script spent about 6 µs of Redis time converting the hash into Lua and back, the two
//! commands take about 1 µs), then checks the secret (in constant time) and the absolute
//! expiry here, on the clock the read reports (the application's on Redis, the memory
//! backend's in memory), and deletes a session past its absolute expiry.
//!
//! A user's index is a sorted set at `session:user:{<user>}`: session hashes scored by their
//! deadline (plus [`INDEX_GRACE`]), pruned on every add, so it holds the user's live sessions
//! only. It lives in another cluster slot than the sessions, so no script spans both; instead
//! a session is indexed before it is created and before a write would carry it past its
//! deadline, and the write itself refuses to go past the deadline it knows.
//!
//! [`Script`]: tower_vigil_core::script::Script
//! [`Backend::run`]: tower_vigil_core::Backend::run
//! [`Backend::hash_read`]: tower_vigil_core::Backend::hash_read

mod dyn_store;
mod index;
pub(crate) mod record;
mod session;

pub(crate) use self::dyn_store::DynStore;
pub use self::index::{INDEX_GRACE, index_add, index_members, index_remove};
pub(crate) use self::record::{CSRF_FIELD, DATA_PREFIX, DEADLINE_FIELD, SECRET_FIELD, USER_FIELD};
pub use self::record::{Expiry, StoredSession, WriteOutcome};
pub use self::session::{CREATE_SCRIPT, DESTROY_SCRIPT, create, destroy, load, write};
