//! [`SessionAdmin`]: session work outside a request — revoke every session of a user, list
//! them. Both read the user's index and touch only that user's sessions: O(their live
//! sessions), never a scan, and each key on its own so they work on Redis Cluster.
//!
//! The index is a sorted set scored by each session's deadline, pruned on every add, and a
//! session never outlives its entry (writes cap its expiry at the deadline the index gave).
//! Members leave it only when their session was deleted by the call removing them (or at their
//! deadline): a login racing a revoke-all stays indexed, so a later revoke-all ends it.
//!
//! Why not a per-user "revoked before" watermark checked on every load instead: the session
//! and its user's index live in different cluster slots, so the check would be a second key
//! and a second round trip on every session read (and it needs the user id, which is only
//! known once the session is loaded), and comparing a watermark set by one node's clock with
//! a creation time from another's is only as good as their clock agreement. Keeping members
//! costs nothing on the read path.
//!
//! ```
//! use tower_vigil_core::MemoryBackend;
//! use tower_vigil_session::SessionManagerLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_vigil_session::SessionError> {
//! let layer = SessionManagerLayer::new(MemoryBackend::new());
//! let sessions = layer.admin();
//! assert!(sessions.list_user_sessions("alice").await?.is_empty());
//! assert_eq!(sessions.destroy_user_sessions("alice").await?, 0);
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{StreamExt, TryStreamExt, stream};

use crate::config::Config;
use crate::error::SessionError;
use crate::keys::{session_key, user_index_key};

/// How many sessions of one user are deleted or read at once.
const CONCURRENCY: usize = 32;

/// A live session of a user, as [`SessionAdmin::list_user_sessions`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The hash the session is stored under (what [`Session::id_hash`](crate::Session::id_hash)
    /// returns); never the token, and useless without it.
    pub id_hash: String,
    /// The user.
    pub user_id: String,
    /// When the session was created.
    pub created_at: SystemTime,
    /// Its last write or TTL refresh.
    pub last_activity: SystemTime,
    /// How long until it expires unless used again.
    pub expires_in: Duration,
    /// When it expires whatever its activity, if there is an absolute timeout.
    pub absolute_expiry: Option<SystemTime>,
    /// Its values (what [`Session::insert`](crate::Session::insert) stored), by name, as JSON;
    /// never the layer's own fields (the cross-site token among them).
    data: std::collections::BTreeMap<String, bytes::Bytes>,
}

impl SessionInfo {
    /// The value `name` stored in the session (for example the user agent a login recorded,
    /// to name the device in a "your sessions" list); `None` when absent or not a `T`.
    pub fn get<T: serde::de::DeserializeOwned>(&self, name: &str) -> Option<T> {
        serde_json::from_slice(self.data.get(name)?).ok()
    }
}

/// Revokes and lists a user's sessions. Cheap to clone; get one from
/// [`SessionManagerLayer::admin`](crate::SessionManagerLayer::admin).
#[derive(Clone)]
pub struct SessionAdmin {
    config: Arc<Config>,
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn time(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

impl SessionAdmin {
    pub(crate) fn new(config: Arc<Config>) -> Self {
        Self { config }
    }

    /// Deletes every session of `user_id` and returns how many were live. Requests still
    /// running with one of them cannot write it back: their save finds it gone.
    ///
    /// A login racing this call may create its session after the call looked for it (the
    /// login indexes the session before creating it, so the call finds the member but not
    /// yet the session). Such a session is not counted and stays in the index: only members
    /// whose session this call deleted are dropped from it, so the next call ends it. (A login
    /// that overlaps a revoke-all may take effect after it, as if it came second.)
    pub async fn destroy_user_sessions(&self, user_id: &str) -> Result<u64, SessionError> {
        let store = &*self.config.store;
        let index = user_index_key(user_id);
        let members = store.index_members(&index).await?;
        // Owned values: a stream borrowing `members` makes this future's `Send`-ness depend
        // on higher-ranked lifetimes, which callers in generic handlers cannot prove.
        let hashes: Vec<String> = members.into_iter().filter(|m| is_hash(m)).collect();
        let ended: Vec<Option<String>> = stream::iter(hashes)
            .map(|hash| async move {
                let deleted = store.destroy(&session_key(&hash), None).await?;
                Ok::<_, tower_vigil_core::BackendError>(deleted.then_some(hash))
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        // A member whose delete found nothing is kept, never dropped: its session may be one
        // a racing login is about to create. Dead members leave at their deadline instead
        // (the index prunes them on every add), so keeping them costs no unbounded growth.
        let ended: Vec<String> = ended.into_iter().flatten().collect();
        if !ended.is_empty() {
            store.index_remove(&index, &ended).await?;
        }
        let revoked = ended.len() as u64;
        crate::metrics::revoked(revoked);
        Ok(revoked)
    }

    /// Deletes one session of `user_id`, named by its
    /// [`id_hash`](SessionInfo::id_hash) (a "sign out that device" button). True when it was
    /// live and belonged to that user; a hash of another user's session is left alone.
    pub async fn destroy_user_session(
        &self,
        user_id: &str,
        id_hash: &str,
    ) -> Result<bool, SessionError> {
        if !is_hash(id_hash) {
            return Ok(false);
        }
        let store = &*self.config.store;
        let key = session_key(id_hash);
        let owned = store
            .load(&key, None)
            .await?
            .is_some_and(|s| s.user_id() == Some(user_id));
        let revoked = owned && store.destroy(&key, None).await?;
        // As in `destroy_user_sessions`: a member leaves the index only with its session.
        if revoked {
            store
                .index_remove(&user_index_key(user_id), &[id_hash.to_owned()])
                .await?;
            crate::metrics::revoked(1);
        }
        Ok(revoked)
    }

    /// The live sessions of `user_id`, oldest first. Index members whose session is not
    /// live are skipped, not dropped (a racing login may be about to create it); they leave
    /// the index at their deadline.
    pub async fn list_user_sessions(
        &self,
        user_id: &str,
    ) -> Result<Vec<SessionInfo>, SessionError> {
        let store = &*self.config.store;
        let members = store.index_members(&user_index_key(user_id)).await?;
        let loaded: Vec<(String, Option<_>)> = stream::iter(members)
            .filter(|hash| std::future::ready(is_hash(hash)))
            .map(|hash| async move {
                let s = store.load(&session_key(&hash), None).await?;
                Ok::<_, tower_vigil_core::BackendError>((hash, s))
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        let mut live: Vec<SessionInfo> = loaded
            .into_iter()
            .filter_map(|(hash, s)| {
                let s = s.filter(|s| s.user_id() == Some(user_id))?;
                Some(SessionInfo {
                    id_hash: hash,
                    user_id: user_id.to_owned(),
                    created_at: time(s.created_ms()),
                    last_activity: time(s.last_activity_ms()),
                    expires_in: s.ttl(),
                    absolute_expiry: (s.absolute_at_ms() > 0).then(|| time(s.absolute_at_ms())),
                    data: s.data(),
                })
            })
            .collect();
        live.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then(a.id_hash.cmp(&b.id_hash))
        });
        Ok(live)
    }
}

impl std::fmt::Debug for SessionAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionAdmin").finish_non_exhaustive()
    }
}
