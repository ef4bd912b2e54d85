//! [`SessionStore`] for [`MemoryBackend`]: the same steps as the Lua scripts, run under the
//! entry's lock with [`MemoryBackend::update`].
//!
//! A user index, a sorted set in Redis, is a hash here (member -> score, decimal ms): the
//! backend has no sorted-set value, and the few operations the index needs (add with a score
//! that only grows, drop the members scored up to now, the highest score) are linear scans of
//! a set kept small by that very pruning. A hash also counts towards the backend's memory
//! bound like any other value.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::backend::ttl_millis;
use tower_vigil_core::memory::{Slot, Value};
use tower_vigil_core::{BackendError, BackendResult, MemoryBackend};

use super::record::{Expiry, StoredSession, WriteOutcome};
use super::{
    ABSOLUTE_FIELD, CREATED_FIELD, DEADLINE_FIELD, INDEX_GRACE, LAST_FIELD, SECRET_FIELD,
    SessionStore, USER_FIELD,
};

fn now_ms(backend: &MemoryBackend) -> u64 {
    backend.now_micros() / 1000
}

fn wrong_type() -> BackendError {
    BackendError::corrupt("session key holds a non-hash value")
}

fn hash_of(slot: &mut Slot) -> BackendResult<Option<&mut BTreeMap<String, Bytes>>> {
    match slot.value_mut() {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(wrong_type()),
    }
}

fn number(h: &BTreeMap<String, Bytes>, field: &str) -> u64 {
    h.get(field)
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn absolute_at(h: &BTreeMap<String, Bytes>) -> u64 {
    number(h, ABSOLUTE_FIELD)
}

/// write.lua's TTL: `min(idle, _abs - now, deadline - now)` in signed ms (`<= 0`: past), with
/// the deadline the write brings or else the stored one; `None` when the stored deadline is
/// due for renewal, or a user's session has none (write.lua's `return 2`).
fn write_ttl(h: &BTreeMap<String, Bytes>, now: u64, expiry: Expiry) -> Option<i128> {
    let now = i128::from(now);
    let mut ttl = i128::from(expiry.idle_ms);
    let abs = i128::from(absolute_at(h));
    if abs > 0 && abs - now < ttl {
        ttl = abs - now;
    }
    let mut cap = i128::from(expiry.not_after_ms);
    if cap == 0 {
        cap = i128::from(number(h, DEADLINE_FIELD));
        let due = i128::from(expiry.reindex_ms);
        // Due, or a user's session without a deadline (indexed by an earlier version).
        let legacy = cap == 0 && h.contains_key(USER_FIELD);
        if due > 0 && ((cap > 0 && ttl - (cap - now) >= due) || legacy) {
            return None;
        }
    }
    if cap > 0 && cap - now < ttl {
        ttl = cap - now;
    }
    Some(ttl)
}

fn holds(h: &BTreeMap<String, Bytes>, secret: &str) -> bool {
    h.get(SECRET_FIELD).is_some_and(|s| s == secret.as_bytes())
}

fn ms_bytes(ms: u64) -> Bytes {
    Bytes::from(ms.to_string())
}

impl SessionStore for MemoryBackend {
    async fn load(&self, key: &str, secret: Option<&str>) -> BackendResult<Option<StoredSession>> {
        let now = now_ms(self);
        self.update(key, |slot| {
            let ttl = slot.ttl().unwrap_or_default();
            let Some(h) = hash_of(slot)? else {
                return Ok(None);
            };
            let abs = absolute_at(h);
            if abs > 0 && now >= abs {
                slot.remove();
                return Ok(None);
            }
            if secret.is_some_and(|s| !holds(h, s)) {
                return Ok(None);
            }
            let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
            Ok(Some(StoredSession::new(h.clone(), now, ttl_ms)))
        })
    }

    async fn create(
        &self,
        key: &str,
        secret: &str,
        fields: &[(String, Bytes)],
        expiry: Expiry,
    ) -> BackendResult<bool> {
        let now = now_ms(self);
        self.update(key, |slot| {
            if slot.value().is_some() {
                return Ok(false);
            }
            let abs = if expiry.absolute_ms > 0 {
                now + expiry.absolute_ms
            } else {
                0
            };
            let Some(ttl) = expiry.ttl_until(now, abs, expiry.not_after_ms) else {
                // Past the index deadline: a session created now would outlive its entry.
                return Ok(false);
            };
            let mut h: BTreeMap<String, Bytes> = fields.iter().cloned().collect();
            h.insert(SECRET_FIELD.into(), Bytes::from(secret.to_owned()));
            h.insert(CREATED_FIELD.into(), ms_bytes(now));
            h.insert(LAST_FIELD.into(), ms_bytes(now));
            h.insert(ABSOLUTE_FIELD.into(), ms_bytes(abs));
            if expiry.not_after_ms > 0 {
                h.insert(DEADLINE_FIELD.into(), ms_bytes(expiry.not_after_ms));
            }
            slot.set(Value::Hash(h), Duration::from_millis(ttl));
            Ok(true)
        })
    }

    async fn write(
        &self,
        key: &str,
        secret: &str,
        set: &[(String, Bytes)],
        delete: &[String],
        expiry: Expiry,
    ) -> BackendResult<WriteOutcome> {
        let now = now_ms(self);
        self.update(key, |slot| {
            let Some(h) = hash_of(slot)? else {
                return Ok(WriteOutcome::Gone);
            };
            if !holds(h, secret) {
                return Ok(WriteOutcome::Gone);
            }
            let Some(ttl) = write_ttl(h, now, expiry) else {
                return Ok(WriteOutcome::Reindex);
            };
            let Some(ttl) = u64::try_from(ttl).ok().filter(|t| *t > 0) else {
                slot.remove();
                return Ok(WriteOutcome::Gone);
            };
            for (k, v) in set {
                h.insert(k.clone(), v.clone());
            }
            for k in delete {
                h.remove(k);
            }
            if expiry.not_after_ms > 0 {
                h.insert(DEADLINE_FIELD.into(), ms_bytes(expiry.not_after_ms));
            }
            h.insert(LAST_FIELD.into(), ms_bytes(now));
            slot.expire(Duration::from_millis(ttl));
            Ok(WriteOutcome::Written)
        })
    }

    async fn destroy(&self, key: &str, secret: Option<&str>) -> BackendResult<bool> {
        self.update(key, |slot| {
            let Some(h) = hash_of(slot)? else {
                return Ok(false);
            };
            if secret.is_some_and(|s| !holds(h, s)) {
                return Ok(false);
            }
            slot.remove();
            Ok(true)
        })
    }

    async fn index_add(&self, index: &str, member: &str, ttl: Duration) -> BackendResult<u64> {
        let now = now_ms(self);
        let deadline = now.saturating_add(ttl_millis(ttl));
        let score = deadline.saturating_add(ttl_millis(INDEX_GRACE));
        self.update(index, |slot| {
            let mut members = match slot.value_mut() {
                None => BTreeMap::new(),
                Some(Value::Hash(h)) => std::mem::take(h),
                Some(_) => return Err(wrong_type()),
            };
            if score_of(members.get(member)) < score {
                members.insert(member.to_owned(), ms_bytes(score));
            }
            prune(&mut members, now);
            let top = members.values().map(|v| score_of(Some(v))).max();
            // `score > now`, so the member just added survived the prune and `top > now`.
            let keep = top.unwrap_or(score).saturating_sub(now);
            slot.set(Value::Hash(members), Duration::from_millis(keep));
            Ok(deadline)
        })
    }

    async fn index_remove(&self, index: &str, members: &[String]) -> BackendResult<u64> {
        self.update(index, |slot| {
            let Some(h) = hash_of(slot)? else {
                return Ok(0);
            };
            let removed = members.iter().filter(|m| h.remove(*m).is_some()).count();
            if h.is_empty() {
                slot.remove();
            }
            Ok(removed as u64)
        })
    }

    async fn index_members(&self, index: &str) -> BackendResult<Vec<String>> {
        let now = now_ms(self);
        self.update(index, |slot| {
            let Some(h) = hash_of(slot)? else {
                return Ok(Vec::new());
            };
            prune(h, now);
            let members = h.keys().cloned().collect();
            if h.is_empty() {
                slot.remove();
            }
            Ok(members)
        })
    }
}

/// A member's score (deadline plus grace, ms) as the index stores it.
fn score_of(v: Option<&Bytes>) -> u64 {
    v.and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Drops the members whose score is `now` or earlier (`ZREMRANGEBYSCORE -inf now`).
fn prune(members: &mut BTreeMap<String, Bytes>, now: u64) {
    members.retain(|_, v| score_of(Some(v)) > now);
}
