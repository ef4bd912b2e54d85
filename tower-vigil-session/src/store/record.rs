//! [`StoredSession`] and the small value types of the store's calls, and the field names of a
//! session hash.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::BackendError;

// The fields of a session hash (public for the fuzz targets, through `__fuzz`).

/// Field holding the user id.
pub const USER_FIELD: &str = "_user";
/// Field holding the creation time (ms).
pub const CREATED_FIELD: &str = "_created";
/// Field holding the last activity (ms), updated with each write and TTL refresh.
pub const LAST_FIELD: &str = "_last";
/// Field holding the absolute expiry (ms, `0` for none).
pub const ABSOLUTE_FIELD: &str = "_abs";
/// Field holding the deadline of the session's entry in its user's index (ms): no TTL reaches
/// past it.
pub const DEADLINE_FIELD: &str = "_dl";
/// Field holding the SHA-256 of the whole token (never returned by loads).
pub const SECRET_FIELD: &str = "_sec";
/// Field holding the session's cross-site request token (see `cross_site`): outside the
/// value namespace, so `Session::get`/`insert` cannot read or overwrite it.
pub(crate) const CSRF_FIELD: &str = "_csrf";
/// Prefix of the fields holding values.
pub const DATA_PREFIX: &str = "d:";

/// Timeouts in milliseconds, as the stores take them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// The idle timeout: the TTL after each write or refresh.
    pub idle_ms: u64,
    /// The absolute timeout from creation; `0` for none.
    pub absolute_ms: u64,
    /// A new deadline (ms since the Unix epoch, `0` for none) of the session's entry in its
    /// user's index, as [`index_add`](super::index_add) returned
    /// it. A create or write stores it in the session (`_dl`), and no TTL ever reaches past the
    /// stored deadline: a session never outlives its index entry.
    pub not_after_ms: u64,
    /// For a write without a new deadline: when the stored one would cut the TTL by this much
    /// or more, or the session has a user but no deadline (indexed by an earlier version), the
    /// write is refused with [`WriteOutcome::Reindex`] (`0`: never).
    pub reindex_ms: u64,
}

impl Expiry {
    /// Idle and absolute timeouts in milliseconds (`absolute_ms == 0`: no absolute timeout).
    pub fn new(idle_ms: u64, absolute_ms: u64) -> Self {
        Self {
            idle_ms: idle_ms.max(1),
            absolute_ms,
            not_after_ms: 0,
            reindex_ms: 0,
        }
    }

    /// The same timeouts with a new index deadline (ms since the Unix epoch).
    #[must_use]
    pub fn not_after(mut self, deadline_ms: u64) -> Self {
        self.not_after_ms = deadline_ms;
        self
    }

    /// The same timeouts, asking for [`WriteOutcome::Reindex`] when the stored deadline would
    /// cut the TTL by `ms` or more.
    #[must_use]
    pub fn reindex_within(mut self, ms: u64) -> Self {
        self.reindex_ms = ms;
        self
    }

    /// The TTL a session with absolute expiry `absolute_at` and index deadline `deadline` (0:
    /// none, for either) gets at `now`: `min(idle, absolute_at - now, deadline - now)`, or
    /// `None` when it is past either.
    pub fn ttl_until(&self, now_ms: u64, absolute_at: u64, deadline: u64) -> Option<u64> {
        let left = |at: u64| {
            if at == 0 {
                Some(u64::MAX)
            } else {
                at.checked_sub(now_ms).filter(|l| *l > 0)
            }
        };
        Some(self.idle_ms.min(left(absolute_at)?).min(left(deadline)?))
    }

    /// The TTL a session with absolute expiry `absolute_at` (0: none) gets at `now`:
    /// `min(idle, absolute_at - now)`, or `None` when it is past its absolute expiry.
    pub fn ttl_at(&self, now_ms: u64, absolute_at: u64) -> Option<u64> {
        self.ttl_until(now_ms, absolute_at, 0)
    }
}

/// What a [`write`](super::write) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteOutcome {
    /// Written, TTL reset.
    Written,
    /// No session with that secret (destroyed, expired, cycled away, past a deadline):
    /// nothing written.
    Gone,
    /// Nothing written: the session's index deadline is due for renewal
    /// ([`Expiry::reindex_within`]). Index it, then write with the new deadline.
    Reindex,
}

impl WriteOutcome {
    /// True when the write happened.
    pub fn is_written(self) -> bool {
        self == Self::Written
    }
}

/// A session as loaded from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    fields: BTreeMap<String, Bytes>,
    now_ms: u64,
    ttl_ms: u64,
}

impl StoredSession {
    /// A session from its raw hash `fields` (the secret is dropped), the store's clock
    /// `now_ms` and the key's remaining `ttl_ms`.
    pub fn new(mut fields: BTreeMap<String, Bytes>, now_ms: u64, ttl_ms: u64) -> Self {
        fields.remove(SECRET_FIELD);
        Self {
            fields,
            now_ms,
            ttl_ms,
        }
    }

    /// From a flat `HGETALL` reply (name, value, name, value...; the values are kept without a
    /// copy), the clock `now_ms` and the `PTTL`: for the fuzz target (the load itself gets the
    /// fields decoded by [`Backend::hash_read`](tower_vigil_core::Backend::hash_read)).
    pub(crate) fn from_reply<V: Into<Bytes>>(
        now_ms: i64,
        ttl_ms: i64,
        flat: Vec<V>,
    ) -> Result<Self, BackendError> {
        if !flat.len().is_multiple_of(2) {
            return Err(BackendError::protocol("odd HGETALL reply"));
        }
        let mut fields = BTreeMap::new();
        let mut it = flat.into_iter().map(Into::into);
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            let k = std::str::from_utf8(&k)
                .map_err(|_| BackendError::corrupt("non-UTF-8 session field"))?;
            fields.insert(k.to_owned(), v);
        }
        Ok(Self::new(
            fields,
            u64::try_from(now_ms).unwrap_or(0),
            u64::try_from(ttl_ms).unwrap_or(0),
        ))
    }

    /// Every field, metadata included (but not the secret).
    pub fn raw_fields(&self) -> &BTreeMap<String, Bytes> {
        &self.fields
    }

    /// The value fields, by name (without the `d:` prefix).
    pub fn data(&self) -> BTreeMap<String, Bytes> {
        self.fields
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(DATA_PREFIX)?.to_owned(), v.clone())))
            .collect()
    }

    /// The user id, if one is recorded.
    pub fn user_id(&self) -> Option<&str> {
        self.fields
            .get(USER_FIELD)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    fn number(&self, field: &str) -> u64 {
        self.fields
            .get(field)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// Creation time, ms since the Unix epoch.
    pub fn created_ms(&self) -> u64 {
        self.number(CREATED_FIELD)
    }

    /// Last write or TTL refresh, ms since the Unix epoch.
    pub fn last_activity_ms(&self) -> u64 {
        self.number(LAST_FIELD)
    }

    /// Absolute expiry, ms since the Unix epoch (`0`: none).
    pub fn absolute_at_ms(&self) -> u64 {
        self.number(ABSOLUTE_FIELD)
    }

    /// The deadline of the session's entry in its user's index, ms since the Unix epoch (`0`:
    /// none): the session ends by then unless it is indexed again.
    pub fn index_deadline_ms(&self) -> u64 {
        self.number(DEADLINE_FIELD)
    }

    /// The clock the read was checked against (the store's, or the application's for a Redis
    /// read), ms since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// The key's remaining TTL when it was read.
    pub fn ttl(&self) -> Duration {
        Duration::from_millis(self.ttl_ms)
    }
}
