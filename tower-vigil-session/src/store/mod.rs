//! [`SessionStore`]: the atomic operations sessions need, for [`MemoryBackend`](tower_vigil_core::MemoryBackend) and
//! [`RedisBackend`](tower_vigil_core::RedisBackend) (Lua scripts beside this file).
//!
//! A session is one hash at `session:{<sha256 hex of the token's id part>}`: one field per
//! value (`d:<name>`, JSON), the metadata fields `_user`, `_created`, `_last` and `_abs`
//! (milliseconds since the Unix epoch; `_abs` is the absolute expiry, `0` for none), and
//! `_sec`, the SHA-256 of the whole token, which every read and write must present. Writes
//! touch only the fields that changed, and only while the session exists with that secret, so
//! a write racing a logout can never bring the session back, and a cycled token replaces
//! `_sec` in place. Writes take the time from the store (Redis `TIME`, the memory backend's
//! pausable clock) and set the key's TTL from it, so the store ends an expired session on its
//! own clock; a Redis read is two plain commands (`HGETALL` and `PTTL`, one round trip) and
//! checks the secret and the absolute expiry in the application, against its clock.
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
//! assert!(!store.write("session:{abc}", "guess", &fields, &[], expiry).await?);
//! assert!(store.destroy("session:{abc}", Some("secret-hash")).await?);
//! // A write after the destroy reports the session gone instead of recreating it.
//! assert!(!store.write("session:{abc}", "secret-hash", &fields, &[], expiry).await?);
//! # Ok(())
//! # }
//! ```

mod dyn_store;
mod memory;
mod record;
mod redis;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::{Backend, BackendResult};

pub(crate) use self::dyn_store::DynStore;
pub use self::record::{Expiry, StoredSession};

/// Field holding the user id.
pub const USER_FIELD: &str = "_user";
/// Field holding the creation time (ms).
pub const CREATED_FIELD: &str = "_created";
/// Field holding the last activity (ms), updated with each write and TTL refresh.
pub const LAST_FIELD: &str = "_last";
/// Field holding the absolute expiry (ms, `0` for none).
pub const ABSOLUTE_FIELD: &str = "_abs";
/// Field holding the SHA-256 of the whole token (never returned by loads).
pub const SECRET_FIELD: &str = "_sec";
/// Prefix of the fields holding values.
pub const DATA_PREFIX: &str = "d:";

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
    /// TTL to `min(idle, absolute expiry - now)`, only if the session exists and holds
    /// `secret`. False otherwise (destroyed, expired, cycled away): nothing is written. With
    /// no fields this is the TTL refresh; setting `_sec` cycles the token.
    fn write(
        &self,
        key: &str,
        secret: &str,
        set: &[(String, Bytes)],
        delete: &[String],
        expiry: Expiry,
    ) -> impl Future<Output = BackendResult<bool>> + Send;

    /// Deletes the session at `key` (only if it holds `secret`, when given). True when it
    /// was deleted.
    fn destroy(
        &self,
        key: &str,
        secret: Option<&str>,
    ) -> impl Future<Output = BackendResult<bool>> + Send;

    /// Adds `member` to the index set at `index` and extends the set's TTL to at least `ttl`
    /// (never shortens it).
    fn index_add(
        &self,
        index: &str,
        member: &str,
        ttl: Duration,
    ) -> impl Future<Output = BackendResult<()>> + Send;

    /// Removes `members` from the index set at `index`.
    fn index_remove(
        &self,
        index: &str,
        members: &[String],
    ) -> impl Future<Output = BackendResult<u64>> + Send {
        let members: Vec<Bytes> = members.iter().map(|m| Bytes::from(m.clone())).collect();
        async move { self.set_remove(index, &members).await }
    }

    /// The members of the index set at `index`.
    fn index_members(
        &self,
        index: &str,
    ) -> impl Future<Output = BackendResult<Vec<String>>> + Send {
        async move {
            Ok(self
                .set_members(index)
                .await?
                .into_iter()
                .filter_map(|m| String::from_utf8(m.to_vec()).ok())
                .collect())
        }
    }
}
