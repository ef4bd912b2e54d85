//! Saving a [`Session`]'s changes after the inner service responded: only changed fields,
//! only while the session exists, the per-user index written before the session so
//! revoke-all can never miss one.

use bytes::Bytes;

use super::Session;
use super::state::State;
use crate::error::SessionError;
use crate::store::{Carry, Created, StoredSession, USER_FIELD};
use crate::token::{SessionToken, user_index_key};

/// What the save did, for the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SaveOutcome {
    /// Nothing for the client to learn.
    Unchanged,
    /// A new token (new session or cycled id) to send to the client.
    Issued(SessionToken),
    /// The session is gone (destroyed, or the token was unknown): clear the cookie.
    Cleared,
    /// The session was destroyed or expired while this request changed it: the change was not
    /// written (a write never brings a session back).
    Ended,
}

fn saved() {
    metrics::counter!("vigil_session_saves_total").increment(1);
}

impl Session {
    /// True when the response needs a save (a change, or a loaded session that may need its
    /// TTL refreshed). `None` when the state is busy (a clone is in use elsewhere).
    pub(crate) fn needs_save(&self) -> Option<bool> {
        let st = self.inner.state.try_lock().ok()?;
        Some(
            !st.finished
                && (st.failed
                    || st.has_changes()
                    || st.stored().is_some()
                    || (st.token.is_some() && st.loaded.is_some())),
        )
    }

    /// True when a backend call failed during the request.
    pub(crate) async fn failed(&self) -> bool {
        self.inner.state.lock().await.failed
    }

    /// Loads the session now (the eager `Principal` mode) and returns its user id.
    pub(crate) async fn load_user(&self) -> Result<Option<String>, SessionError> {
        self.user_id().await
    }

    /// Writes the request's changes.
    pub(crate) async fn save(&self) -> Result<SaveOutcome, SessionError> {
        let mut st = self.inner.state.lock().await;
        if st.finished {
            return Ok(SaveOutcome::Unchanged);
        }
        st.finished = true;
        let r = self.save_locked(&mut st).await;
        if r.is_err() {
            st.failed = true;
        }
        r
    }

    async fn save_locked(&self, st: &mut State) -> Result<SaveOutcome, SessionError> {
        let cfg = self.config();
        let store = &*cfg.store;
        let mut cleared = false;
        if let Some(d) = st.destroyed.take() {
            store.destroy(&d.key).await?;
            saved();
            if let Some(u) = d.user {
                store.index_remove(&user_index_key(&u), &[d.hash]).await?;
            }
            cleared = true;
        }
        let cycle = std::mem::take(&mut st.cycle);
        let (set, delete) = st.split_pending();
        let existing = st.stored().cloned();
        let token = st.token.clone();
        match (existing, token) {
            (Some(current), Some(token)) if cycle => self.cycle(current, &token, set, delete).await,
            (Some(current), Some(token)) => self.update(&current, &token, set, delete).await,
            _ if set.is_empty() => {
                // No live session and nothing to store: drop a dead cookie if one was sent.
                let stale = st.token.is_some() && st.loaded.is_some();
                Ok(if cleared || stale {
                    SaveOutcome::Cleared
                } else {
                    SaveOutcome::Unchanged
                })
            }
            _ => self.create(set, None).await,
        }
    }

    /// A new session holding `fields`, under a new token.
    async fn create(
        &self,
        fields: Vec<(String, Bytes)>,
        carry: Option<Carry>,
    ) -> Result<SaveOutcome, SessionError> {
        let cfg = self.config();
        let token = SessionToken::generate();
        let hash = token.hash(&cfg.hasher);
        if let Some((_, u)) = fields.iter().find(|(k, _)| k == USER_FIELD) {
            // Indexed first: if the session write then fails, a stale member is harmless; a
            // session missing from its user's index would survive a revoke-all.
            let u = String::from_utf8_lossy(u);
            cfg.store
                .index_add(&user_index_key(&u), &hash, cfg.index_ttl())
                .await?;
        }
        let created = cfg
            .store
            .create(&token.key(&cfg.hasher), &fields, carry, cfg.expiry())
            .await?;
        saved();
        match created {
            Created::Created => Ok(SaveOutcome::Issued(token)),
            // A carried absolute expiry passed between read and create.
            Created::Expired => Ok(SaveOutcome::Ended),
            // 256 random bits collided: treat as a failure rather than share a session.
            _ => Err(SessionError::new(
                crate::error::SessionErrorKind::Backend,
                "a freshly generated session token already exists",
            )),
        }
    }

    /// Moves the session to a new token: the old key is read and deleted in one step, so any
    /// write still using the old token finds it gone.
    async fn cycle(
        &self,
        _loaded: StoredSession,
        old: &SessionToken,
        set: Vec<(String, Bytes)>,
        delete: Vec<String>,
    ) -> Result<SaveOutcome, SessionError> {
        let cfg = self.config();
        let Some(current) = cfg.store.take(&old.key(&cfg.hasher)).await? else {
            return Ok(SaveOutcome::Ended);
        };
        saved();
        let carry = current.carry();
        let old_user = current.user_id().map(str::to_owned);
        let mut fields = current.into_copyable_fields();
        for k in &delete {
            fields.remove(k);
        }
        fields.extend(set);
        let outcome = self
            .create(fields.into_iter().collect(), Some(carry))
            .await?;
        if let Some(u) = old_user {
            let old_hash = old.hash(&cfg.hasher);
            cfg.store
                .index_remove(&user_index_key(&u), &[old_hash])
                .await?;
        }
        Ok(outcome)
    }

    /// Writes changed fields of an existing session, or refreshes its TTL when due.
    async fn update(
        &self,
        current: &StoredSession,
        token: &SessionToken,
        set: Vec<(String, Bytes)>,
        delete: Vec<String>,
    ) -> Result<SaveOutcome, SessionError> {
        let cfg = self.config();
        let expiry = cfg.expiry();
        let key = token.key(&cfg.hasher);
        let hash = token.hash(&cfg.hasher);
        let old_user = current.user_id();
        let new_user = set
            .iter()
            .find(|(k, _)| k == USER_FIELD)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
        let user_removed = delete.iter().any(|k| k == USER_FIELD);
        let is_refresh = set.is_empty() && delete.is_empty();
        if is_refresh && !self.refresh_due(current) {
            return Ok(SaveOutcome::Unchanged);
        }
        // The TTL grows with this write: the user's index must outlive the session.
        let indexed = new_user.as_deref().or(old_user.filter(|_| !user_removed));
        if let Some(u) = indexed
            && (new_user.is_some() || cfg.absolute.is_none())
        {
            cfg.store
                .index_add(&user_index_key(u), &hash, cfg.index_ttl())
                .await?;
        }
        let written = cfg.store.write(&key, &set, &delete, expiry).await?;
        if is_refresh {
            metrics::counter!("vigil_session_refreshes_total").increment(1);
        } else {
            saved();
        }
        if !written {
            return Ok(if is_refresh {
                SaveOutcome::Cleared
            } else {
                SaveOutcome::Ended
            });
        }
        if let Some(old) =
            old_user.filter(|o| user_removed || new_user.as_deref().is_some_and(|n| n != *o))
        {
            cfg.store
                .index_remove(&user_index_key(old), &[hash])
                .await?;
        }
        Ok(SaveOutcome::Unchanged)
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
