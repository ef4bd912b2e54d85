//! [`SessionStore`]: the atomic operations sessions need, for [`MemoryBackend`](tower_vigil_core::MemoryBackend) and
//! [`RedisBackend`](tower_vigil_core::RedisBackend) (Lua scripts beside this file).
//!
//! A session is one hash at `session:{<sha256 hex of the token's id part>}`: one field per
//! value (`d:<name>`, JSON), the metadata fields `_user`, `_created`, `_last`, `_abs` and
//! `_dl` (milliseconds since the Unix epoch; `_abs` is the absolute expiry, `0` for none; `_dl`
//! the deadline of the session's entry in its user's index, which no TTL reaches past), and
//! `_sec`, the SHA-256 of the whole token, which every read and write must present. Writes
//! touch only the fields that changed, and only while the session exists with that secret, so
//! a write racing a logout can never bring the session back, and a cycled token replaces
//! `_sec` in place. Writes take the time from the store (Redis `TIME`, the memory backend's
//! pausable clock) and set the key's TTL from it, so the store ends an expired session on its
//! own clock; a Redis read is two plain commands (`HGETALL` and `PTTL`, one round trip) and
//! checks the secret and the absolute expiry in the application, against its clock.
//!
//! A user's index is a sorted set at `session:user:{<user>}`: session hashes scored by their
//! deadline (plus [`INDEX_GRACE`]), pruned on every add, so it holds the user's live sessions
//! only. It lives in another cluster slot than the sessions, so no script spans both; instead
//! a session is indexed before it is created and before a write would carry it past its
//! deadline, and the write itself refuses to go past the deadline it knows.
//!
//! ```
//! use bytes::Bytes;
//! use tower_vigil_core::MemoryBackend;
//! use tower_vigil_session::store::{Expiry, SessionStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_vigil_core::BackendError> {
//! let store = MemoryBackend::new();
//! let expiry = Expiry::new(60_000, 0);
//! let fields = [("d:cart".to_owned(), Bytes::from_static(b"[1,2]"))];
//! assert!(store.create("session:{abc}", "secret-hash", &fields, expiry).await?);
//! let s = store.load("session:{abc}", Some("secret-hash")).await?.expect("just created");
//! assert_eq!(s.data()["cart"], Bytes::from_static(b"[1,2]"));
//! // The wrong secret sees nothing and cannot write.
//! assert!(store.load("session:{abc}", Some("guess")).await?.is_none());
//! assert!(!store.write("session:{abc}", "guess", &fields, &[], expiry).await?.is_written());
//! assert!(store.destroy("session:{abc}", Some("secret-hash")).await?);
//! // A write after the destroy reports the session gone instead of recreating it.
//! assert!(!store.write("session:{abc}", "secret-hash", &fields, &[], expiry).await?.is_written());
//! # Ok(())
//! # }
//! ```

mod dyn_store;
mod memory;
pub(crate) mod record;
pub(crate) mod redis;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::{Backend, BackendResult};

pub(crate) use self::dyn_store::DynStore;
pub(crate) use self::record::{
    ABSOLUTE_FIELD, CREATED_FIELD, DATA_PREFIX, DEADLINE_FIELD, LAST_FIELD, SECRET_FIELD,
    USER_FIELD,
};
pub use self::record::{Expiry, StoredSession, WriteOutcome};

/// How long a user index keeps a member past its deadline: the clock skew allowed between
/// the Redis Cluster node holding the index and the one holding the session (each applies the
/// deadline with its own `TIME`). On one server or in memory one clock serves both.
pub const INDEX_GRACE: Duration = Duration::from_secs(1);

/// The atomic operations behind sessions. Keys are relative to the backend's prefix.
///
/// Implemented for [`MemoryBackend`](tower_vigil_core::MemoryBackend) and
/// [`RedisBackend`](tower_vigil_core::RedisBackend) (standalone and cluster). Every operation
/// touches one key, so each runs on Redis Cluster.
pub trait SessionStore: Backend {
    /// The session at `key`, or `None` when it does not exist, is past its absolute expiry
    /// (then it is deleted) or, with `secret`, holds another secret.
    fn load(
        &self,
        key: &str,
        secret: Option<&str>,
    ) -> impl Future<Output = BackendResult<Option<StoredSession>>> + Send;

    /// Creates the session at `key` with `secret` and `fields` (full field names), unless a
    /// session exists there. True when created.
    fn create(
        &self,
        key: &str,
        secret: &str,
        fields: &[(String, Bytes)],
        expiry: Expiry,
    ) -> impl Future<Output = BackendResult<bool>> + Send;

    /// Sets `set` and removes `delete` (full field names), records the activity and resets the
    /// TTL to `min(idle, absolute expiry - now, index deadline - now)`, only if the session
    /// exists and holds `secret`; [`WriteOutcome::Gone`] otherwise (destroyed, expired, cycled
    /// away): nothing is written. With no fields this is the TTL refresh; setting `_sec`
    /// cycles the token. See [`Expiry`] for the index deadline and [`WriteOutcome::Reindex`].
    fn write(
        &self,
        key: &str,
        secret: &str,
        set: &[(String, Bytes)],
        delete: &[String],
        expiry: Expiry,
    ) -> impl Future<Output = BackendResult<WriteOutcome>> + Send;

    /// Deletes the session at `key` (only if it holds `secret`, when given). True when it
    /// was deleted.
    fn destroy(
        &self,
        key: &str,
        secret: Option<&str>,
    ) -> impl Future<Output = BackendResult<bool>> + Send;

    /// Indexes session `member` in the per-user index at `index` and returns its deadline:
    /// the store's clock plus `ttl`, in ms since the Unix epoch. The session must not outlive
    /// it: pass it to [`create`](Self::create) / [`write`](Self::write) with
    /// [`Expiry::not_after`]. The member is kept until its deadline plus [`INDEX_GRACE`] (a
    /// later call only moves that later), and members past theirs are removed on every add,
    /// so the index holds a user's live sessions, not every login they ever made. The index
    /// itself expires with its last member.
    fn index_add(
        &self,
        index: &str,
        member: &str,
        ttl: Duration,
    ) -> impl Future<Output = BackendResult<u64>> + Send;

    /// Removes `members` from the index at `index`; how many were there.
    fn index_remove(
        &self,
        index: &str,
        members: &[String],
    ) -> impl Future<Output = BackendResult<u64>> + Send;

    /// The members of the index at `index` not past their deadline plus grace (the others are
    /// removed on the way).
    fn index_members(&self, index: &str)
    -> impl Future<Output = BackendResult<Vec<String>>> + Send;
}
