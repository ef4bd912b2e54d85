//! Saving a [`Session`]'s changes after the inner service responded: only changed fields,
//! only while the session exists with the request's secret, the per-user index written before
//! the session so revoke-all can never miss one.

use bytes::Bytes;

use super::Session;
use super::state::{State, TokenIds};
use crate::error::{SessionError, SessionErrorKind};
use crate::keys::user_index_key;
use crate::metrics;
use crate::store::{DEADLINE_FIELD, SECRET_FIELD, StoredSession, USER_FIELD, WriteOutcome};
use crate::token::SessionToken;

/// What the save did, for the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SaveOutcome {
    /// Nothing for the client to learn.
    Unchanged,
    /// A new token (new session or cycled id) to send to the client.
    Issued(SessionToken),
    /// This request destroyed the session: clear the cookie. Only the request that ended a
    /// session clears its cookie; one that merely found its token unknown or stale leaves the
    /// cookie alone, as by then it may hold the token of the session that replaced it (a
    /// request sent before a login and answered after it must not log the user out).
    Cleared,
    /// The session was destroyed, expired or cycled away while this request changed it: the
    /// change was not written (a write never brings a session back). The cookie is left alone,
    /// as for a stale token.
    Ended,
}

impl Session {
    /// True when the response needs a save: a change, a failure to answer, or a session read
    /// whose TTL is due for a refresh. `None` when the state is busy (a clone is in use).
    ///
    /// A request that only read its session, with no refresh due (the common read), is done
    /// here, without the save's future, lock and digests: it is marked finished, as the save
    /// would have marked it, and changes through a clone are refused from then on.
    pub(crate) fn needs_save(&self) -> Option<bool> {
        let mut st = self.inner.state.try_lock().ok()?;
        if st.finished {
            return Some(false);
        }
        if st.failed || st.has_changes() {
            return Some(true);
        }
        if st.token.is_none() {
            return Some(false);
        }
        match &st.loaded {
            // Not read, not changed: nothing to save.
            None => Some(false),
            // Read: only a refresh remains to be done (`update`'s, checked the same way); a
            // token without a live session has nothing to save.
            Some(loaded) => {
                let due = loaded.as_ref().is_some_and(|s| self.refresh_due(s));
                if !due {
                    st.finished = true;
                }
                Some(due)
            }
        }
    }

    /// True when a backend call failed during the request.
    pub(crate) async fn failed(&self) -> bool {
        self.inner.state.lock().await.failed
    }

    /// Writes the request's changes.
    pub(crate) async fn save(&self) -> Result<SaveOutcome, SessionError> {
        let mut st = self.inner.state.lock().await;
        if st.finished {
            return Ok(SaveOutcome::Unchanged);
        }
        st.finished = true;
        // Kept so that a clone read after the response still sees what was saved.
        let written = st.pending.clone();
        let r = self.save_locked(&mut st).await;
        match &r {
            Ok(SaveOutcome::Ended | SaveOutcome::Cleared) => st.loaded = Some(None),
            Ok(_) => st.pending = written,
            Err(_) => st.failed = true,
        }
        r
    }

    async fn save_locked(&self, st: &mut State) -> Result<SaveOutcome, SessionError> {
        let cfg = self.config();
        let store = &*cfg.store;
        let mut cleared = false;
        if let Some(d) = st.destroyed.take() {
            let ended = store.destroy(&d.key, Some(&d.secret)).await?;
            if ended {
                metrics::destroyed();
            }
            // Only a session this call ended leaves its user's index: when the destroy found
            // another secret (a parallel request cycled the id), the session lives on and
            // must stay where revoke-all finds it.
            if let Some(u) = d.user.filter(|_| ended) {
                store
                    .index_remove(&user_index_key(&u), &[d.id_hash])
                    .await?;
            }
            cleared = true;
        }
        let cycle = std::mem::take(&mut st.cycle);
        let (set, delete) = st.split_pending();
        let ids = st.ids(&cfg.hasher).cloned();
        match (st.stored().cloned(), st.token.clone(), ids) {
            (Some(current), Some(token), Some(ids)) => {
                self.update(&current, &token, &ids, set, delete, cycle)
                    .await
            }
            // Values changed without reading the session (only values: a login, a cycle or a
            // logout loads it first).
            (None, Some(token), Some(ids))
                if st.loaded.is_none() && !(set.is_empty() && delete.is_empty()) =>
            {
                let r = self.update_unread(st, &token, &ids, set, delete).await;
                if let Ok(SaveOutcome::Issued(_)) = r {
                    st.loaded = Some(None);
                }
                r
            }
            // No live session and nothing to store. Only a destroy in this request clears the
            // cookie; a stale or unknown token is left for the browser to replace or expire.
            _ if set.is_empty() => Ok(if cleared {
                SaveOutcome::Cleared
            } else {
                SaveOutcome::Unchanged
            }),
            _ => self.create(set).await,
        }
    }

    /// A new session holding `fields`, under a new token.
    async fn create(&self, fields: Vec<(String, Bytes)>) -> Result<SaveOutcome, SessionError> {
        let cfg = self.config();
        let token = SessionToken::generate();
        let id_hash = token.id_hash(&cfg.hasher);
        let mut expiry = cfg.expiry();
        if let Some((_, u)) = fields.iter().find(|(k, _)| k == USER_FIELD) {
            // Indexed first: if the session write then fails, a stale member is harmless (it
            // is pruned at its deadline); a session missing from its user's index would
            // survive a revoke-all. The session may not outlive its entry's deadline.
            let u = String::from_utf8_lossy(u);
            let deadline = cfg
                .store
                .index_add(&user_index_key(&u), &id_hash, cfg.index_ttl())
                .await?;
            expiry = expiry.not_after(deadline);
        }
        let key = token.key(&cfg.hasher);
        let secret = token.secret_hash(&cfg.hasher);
        let created = cfg.store.create(&key, &secret, &fields, expiry).await?;
        metrics::saved();
        if created {
            Ok(SaveOutcome::Issued(token))
        } else {
            // 128 random bits of session id collided (fail rather than share a session), or
            // the index deadline passed before the create ran (the call stalled for longer
            // than the session's lifetime).
            Err(SessionError::new(
                SessionErrorKind::Backend,
                "the new session could not be created",
            ))
        }
    }

    /// Writes changed values of a session not read in this request: one round trip, as the
    /// write checks that the session exists with the request's secret. When it does not
    /// (unknown, expired, destroyed or cycled away), the values start a new session, as they
    /// would had the session been read at the end of the request; a write never brings the old
    /// session back. When the session's index entry is due for renewal (the store answers
    /// [`WriteOutcome::Reindex`]), the session is read after all and written as a read one.
    async fn update_unread(
        &self,
        st: &mut State,
        token: &SessionToken,
        ids: &TokenIds,
        set: Vec<(String, Bytes)>,
        delete: Vec<String>,
    ) -> Result<SaveOutcome, SessionError> {
        let cfg = self.config();
        let expiry = cfg.expiry().reindex_within(cfg.refresh_after_ms().max(1));
        match cfg
            .store
            .write(&ids.key, &ids.secret, &set, &delete, expiry)
            .await?
        {
            WriteOutcome::Written => {
                metrics::saved();
                Ok(SaveOutcome::Unchanged)
            }
            WriteOutcome::Reindex => {
                self.load_into(st).await?;
                match st.stored().cloned() {
                    Some(current) => self.update(&current, token, ids, set, delete, false).await,
                    None if set.is_empty() => Ok(SaveOutcome::Unchanged),
                    None => self.create(set).await,
                }
            }
            _ if set.is_empty() => Ok(SaveOutcome::Unchanged),
            _ => self.create(set).await,
        }
    }

    /// Writes changed fields of an existing session (and a new secret when cycling), or
    /// refreshes its TTL when due.
    async fn update(
        &self,
        current: &StoredSession,
        token: &SessionToken,
        ids: &TokenIds,
        mut set: Vec<(String, Bytes)>,
        mut delete: Vec<String>,
        cycle: bool,
    ) -> Result<SaveOutcome, SessionError> {
        let cfg = self.config();
        let is_refresh = set.is_empty() && delete.is_empty() && !cycle;
        if is_refresh && !self.refresh_due(current) {
            return Ok(SaveOutcome::Unchanged);
        }
        let id_hash = ids.id_hash();
        let old_user = current.user_id();
        let new_user = set
            .iter()
            .find(|(k, _)| k == USER_FIELD)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
        let user_removed = delete.iter().any(|k| k == USER_FIELD);
        let cycled = cycle.then(|| token.cycled());
        if let Some(new) = &cycled {
            set.push((
                SECRET_FIELD.to_owned(),
                Bytes::from(new.secret_hash(&cfg.hasher)),
            ));
        }
        // Before the write: a new user's index must list the session, and the session's entry
        // must be renewed before its deadline would cut the TTL this write sets (the write
        // never reaches past the deadline it stores). Renewed at most once per
        // `refresh_after`, like the TTL.
        let indexed = new_user.as_deref().or(old_user.filter(|_| !user_removed));
        let mut expiry = cfg.expiry();
        match indexed {
            Some(u) if new_user.is_some() || self.reindex_due(current) => {
                let deadline = cfg
                    .store
                    .index_add(&user_index_key(u), id_hash, cfg.index_ttl())
                    .await?;
                expiry = expiry.not_after(deadline);
            }
            Some(_) => {}
            // No longer indexed: no deadline either.
            None => delete.push(DEADLINE_FIELD.to_owned()),
        }
        let written = cfg
            .store
            .write(&ids.key, &ids.secret, &set, &delete, expiry)
            .await?
            .is_written();
        if is_refresh {
            metrics::refreshed();
        } else {
            metrics::saved();
        }
        if !written {
            // A refresh of a session that ended since it was read has nothing to report.
            return Ok(if is_refresh {
                SaveOutcome::Unchanged
            } else {
                SaveOutcome::Ended
            });
        }
        let user_changed = new_user.as_deref().is_some_and(|n| Some(n) != old_user);
        if let Some(old) = old_user.filter(|_| user_removed || user_changed) {
            cfg.store
                .index_remove(&user_index_key(old), &[id_hash.to_owned()])
                .await?;
        }
        Ok(cycled.map_or(SaveOutcome::Unchanged, SaveOutcome::Issued))
    }

    /// True when the session's index deadline would cut the TTL a write gives it by at least
    /// `refresh_after` (or it has none though it has a user: indexed by an earlier version).
    fn reindex_due(&self, s: &StoredSession) -> bool {
        let cfg = self.config();
        let Some(target) = cfg.expiry().ttl_at(s.now_ms(), s.absolute_at_ms()) else {
            return false;
        };
        let left = s.index_deadline_ms().saturating_sub(s.now_ms());
        s.index_deadline_ms() == 0 || target.saturating_sub(left) >= cfg.refresh_after_ms()
    }

    /// A refresh is due once it would extend the TTL by at least `refresh_after`.
    fn refresh_due(&self, s: &StoredSession) -> bool {
        let cfg = self.config();
        let Some(target) = cfg.expiry().ttl_at(s.now_ms(), s.absolute_at_ms()) else {
            return false;
        };
        let remaining = u64::try_from(s.ttl().as_millis()).unwrap_or(u64::MAX);
        target.saturating_sub(remaining) >= cfg.refresh_after_ms()
    }
}
