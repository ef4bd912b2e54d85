//! What one request's [`Session`](super::Session) knows and has changed.

use std::collections::BTreeMap;

use bytes::Bytes;
use tower_vigil_core::secret::SecretHasher;

use crate::store::{DATA_PREFIX, StoredSession, USER_FIELD};
use crate::token::SessionToken;

/// What the backend knows a token by: the key of its session and the digest of the whole
/// token. Both are SHA-256 digests (two per token), so they are computed once per request, by
/// whichever call needs them first (the load, or a save that did not load). Its `Debug`
/// output hides the token's digest.
#[derive(Clone)]
pub(crate) struct TokenIds {
    pub(crate) key: String,
    pub(crate) secret: String,
}

impl TokenIds {
    pub(crate) fn of(token: &SessionToken, hasher: &SecretHasher) -> Self {
        Self {
            key: token.key(hasher),
            secret: token.secret_hash(hasher),
        }
    }

    /// The hex hash the session is stored and listed under (its key without the framing).
    pub(crate) fn id_hash(&self) -> &str {
        crate::keys::session_hash(&self.key)
    }
}

impl std::fmt::Debug for TokenIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIds")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// A session destroyed during the request, deleted when the response is saved.
#[derive(Debug)]
pub(crate) struct Destroyed {
    pub(crate) key: String,
    pub(crate) secret: String,
    pub(crate) id_hash: String,
    pub(crate) user: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    /// The token the session is known by (the request's, until destroyed).
    pub(crate) token: Option<SessionToken>,
    /// `token`'s digests, once computed (see [`State::ids`]).
    ids: Option<TokenIds>,
    /// `None`: not loaded yet; `Some(None)`: loaded, no live session.
    pub(crate) loaded: Option<Option<StoredSession>>,
    /// Changed fields (full names): a new value, or `None` to delete.
    pub(crate) pending: BTreeMap<String, Option<Bytes>>,
    pub(crate) cycle: bool,
    pub(crate) destroyed: Option<Destroyed>,
    /// A backend call failed during the request: the response becomes a 503.
    pub(crate) failed: bool,
    /// The response was saved; later changes are refused.
    pub(crate) finished: bool,
}

pub(crate) fn data_field(name: &str) -> String {
    format!("{DATA_PREFIX}{name}")
}

impl State {
    /// A state for the request's `token` (`None`: no token, so no session to load).
    pub(crate) fn new(token: Option<SessionToken>) -> Self {
        let loaded = if token.is_none() { Some(None) } else { None };
        Self {
            token,
            loaded,
            ..Self::default()
        }
    }

    /// The digests of the token, computed on first use; `None` without a token.
    pub(crate) fn ids(&mut self, hasher: &SecretHasher) -> Option<&TokenIds> {
        let token = self.token.as_ref()?;
        Some(self.ids.get_or_insert_with(|| TokenIds::of(token, hasher)))
    }

    /// Takes the token and its digests (the session is destroyed).
    pub(crate) fn take_token(&mut self, hasher: &SecretHasher) -> Option<TokenIds> {
        let token = self.token.take()?;
        Some(
            self.ids
                .take()
                .unwrap_or_else(|| TokenIds::of(&token, hasher)),
        )
    }

    /// The current value of a full field name: pending change first, then the loaded session.
    pub(crate) fn field(&self, field: &str) -> Option<Bytes> {
        match self.pending.get(field) {
            Some(v) => v.clone(),
            None => self
                .loaded
                .as_ref()
                .and_then(Option::as_ref)
                .and_then(|s| s.raw_fields().get(field).cloned()),
        }
    }

    pub(crate) fn stored(&self) -> Option<&StoredSession> {
        self.loaded.as_ref().and_then(Option::as_ref)
    }

    pub(crate) fn user_id(&self) -> Option<String> {
        self.field(USER_FIELD)
            .and_then(|v| String::from_utf8(v.to_vec()).ok())
    }

    pub(crate) fn has_changes(&self) -> bool {
        !self.pending.is_empty() || self.cycle || self.destroyed.is_some()
    }

    /// Pending changes as (fields to set, fields to delete).
    pub(crate) fn split_pending(&mut self) -> (Vec<(String, Bytes)>, Vec<String>) {
        let mut set = Vec::new();
        let mut delete = Vec::new();
        for (k, v) in std::mem::take(&mut self.pending) {
            match v {
                Some(v) => set.push((k, v)),
                None => delete.push(k),
            }
        }
        (set, delete)
    }
}
