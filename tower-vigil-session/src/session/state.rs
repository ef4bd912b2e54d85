//! What one request's [`Session`](super::Session) knows and has changed.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::store::{DATA_PREFIX, StoredSession, USER_FIELD};
use crate::token::SessionToken;

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
