//! [`SessionManager`]: session work outside a request — revoke every session of a user, list
//! them. Both read the user's index set and touch only that user's sessions: O(their
//! sessions), never a scan, and each key on its own so they work on Redis Cluster.
//!
//! ```
//! use tower_vigil_core::MemoryBackend;
//! use tower_vigil_session::SessionLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_vigil_session::SessionError> {
//! let layer = SessionLayer::new(MemoryBackend::new());
//! let sessions = layer.manager();
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
use crate::token::{session_key, user_index_key};

/// How many sessions of one user are deleted or read at once.
const CONCURRENCY: usize = 32;

/// A live session of a user, as [`SessionManager::list_user_sessions`] reports it.
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
}

/// Revokes and lists a user's sessions. Cheap to clone; get one from
/// [`SessionLayer::manager`](crate::SessionLayer::manager).
#[derive(Clone)]
pub struct SessionManager {
    config: Arc<Config>,
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn time(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

impl SessionManager {
    pub(crate) fn new(config: Arc<Config>) -> Self {
        Self { config }
    }

    /// Deletes every session of `user_id` and returns how many were live. Requests still
    /// running with one of them cannot write it back: their save finds it gone.
    pub async fn destroy_user_sessions(&self, user_id: &str) -> Result<u64, SessionError> {
        let store = &*self.config.store;
        let index = user_index_key(user_id);
        let members = store.index_members(&index).await?;
        // Owned keys: a stream borrowing `members` makes this future's `Send`-ness depend on
        // higher-ranked lifetimes, which callers in generic handlers cannot prove.
        let keys: Vec<String> = members
            .iter()
            .filter(|m| is_hash(m))
            .map(|m| session_key(m))
            .collect();
        let live: Vec<bool> = stream::iter(keys)
            .map(|key| async move { store.destroy(&key, None).await })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        if !members.is_empty() {
            store.index_remove(&index, &members).await?;
        }
        let revoked = live.iter().filter(|l| **l).count() as u64;
        metrics::counter!("vigil_session_saves_total").increment(revoked);
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
        store
            .index_remove(&user_index_key(user_id), &[id_hash.to_owned()])
            .await?;
        Ok(revoked)
    }

    /// The live sessions of `user_id`, oldest first. Members of the index whose session has
    /// ended are dropped from it on the way.
    pub async fn list_user_sessions(
        &self,
        user_id: &str,
    ) -> Result<Vec<SessionInfo>, SessionError> {
        let store = &*self.config.store;
        let index = user_index_key(user_id);
        let members = store.index_members(&index).await?;
        let loaded: Vec<(String, Option<_>)> = stream::iter(members)
            .map(|hash| async move {
                let s = if is_hash(&hash) {
                    store.load(&session_key(&hash), None).await?
                } else {
                    None
                };
                Ok::<_, tower_vigil_core::BackendError>((hash, s))
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        let mut live = Vec::new();
        let mut dead = Vec::new();
        for (hash, s) in loaded {
            match s.filter(|s| s.user_id() == Some(user_id)) {
                Some(s) => live.push(SessionInfo {
                    id_hash: hash,
                    user_id: user_id.to_owned(),
                    created_at: time(s.created_ms()),
                    last_activity: time(s.last_activity_ms()),
                    expires_in: s.ttl(),
                    absolute_expiry: (s.absolute_at_ms() > 0).then(|| time(s.absolute_at_ms())),
                }),
                None => dead.push(hash),
            }
        }
        if !dead.is_empty() {
            store.index_remove(&index, &dead).await?;
        }
        live.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then(a.id_hash.cmp(&b.id_hash))
        });
        Ok(live)
    }
}

impl std::fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager").finish_non_exhaustive()
    }
}
