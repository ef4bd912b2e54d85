//! [`SessionStore`]: the atomic operations sessions need, for [`MemoryBackend`] and
//! [`RedisBackend`] (Lua scripts beside this file).
//!
//! A session is one hash at `session:{<sha256 hex of the token>}`: one field per value
//! (`d:<name>`, JSON) and the metadata fields `_user`, `_created`, `_last` and `_abs`
//! (milliseconds since the Unix epoch; `_abs` is the absolute expiry, `0` for none). Writes
//! touch only the fields that changed, and only while the session exists, so a write racing a
//! logout can never bring the session back. Time comes from the store (Redis `TIME`, the
//! memory backend's pausable clock), never from the application servers.
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
//! assert!(store.create("session:{abc}", &fields, None, expiry).await?.is_created());
//! let s = store.load("session:{abc}").await?.expect("just created");
//! assert_eq!(s.data()["cart"], Bytes::from_static(b"[1,2]"));
//! assert!(store.destroy("session:{abc}").await?);
//! // A write after the destroy reports the session gone instead of recreating it.
//! assert!(!store.write("session:{abc}", &fields, &[], expiry).await?);
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
pub use self::record::{Carry, Created, Expiry, StoredSession};

/// Field holding the user id.
pub const USER_FIELD: &str = "_user";
/// Field holding the creation time (ms).
pub const CREATED_FIELD: &str = "_created";
/// Field holding the last activity (ms), updated with each write and TTL refresh.
pub const LAST_FIELD: &str = "_last";
/// Field holding the absolute expiry (ms, `0` for none).
pub const ABSOLUTE_FIELD: &str = "_abs";
/// Prefix of the fields holding values.
pub const DATA_PREFIX: &str = "d:";

/// The atomic operations behind sessions. Keys are relative to the backend's prefix.
///
/// Implemented for [`MemoryBackend`](tower_vigil_core::MemoryBackend) and
/// [`RedisBackend`](tower_vigil_core::RedisBackend) (standalone and cluster). Every operation
/// touches one key, so each runs on Redis Cluster.
pub trait SessionStore: Backend {
    /// The session at `key`, or `None` when it does not exist or is past its absolute expiry
    /// (then it is deleted).
    fn load(&self, key: &str) -> impl Future<Output = BackendResult<Option<StoredSession>>> + Send;

    /// Creates the session at `key` with `fields` (full field names), unless it exists.
    /// `carry` keeps the creation and absolute-expiry times of a session whose id was cycled.
    fn create(
        &self,
        key: &str,
        fields: &[(String, Bytes)],
        carry: Option<Carry>,
        expiry: Expiry,
    ) -> impl Future<Output = BackendResult<Created>> + Send;

    /// Sets `set` and removes `delete` (full field names), records the activity and resets the
    /// TTL to `min(idle, absolute expiry - now)`, only if the session exists. False when it does
    /// not (destroyed or expired): nothing is written. With no fields this is the TTL refresh.
    fn write(
        &self,
        key: &str,
        set: &[(String, Bytes)],
        delete: &[String],
        expiry: Expiry,
    ) -> impl Future<Output = BackendResult<bool>> + Send;

    /// Reads and deletes the session at `key` in one atomic step (cycling its id).
    fn take(&self, key: &str) -> impl Future<Output = BackendResult<Option<StoredSession>>> + Send;

    /// Deletes the session at `key`. True when it existed.
    fn destroy(&self, key: &str) -> impl Future<Output = BackendResult<bool>> + Send {
        self.delete(key)
    }

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
