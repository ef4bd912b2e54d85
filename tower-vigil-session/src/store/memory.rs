//! [`SessionStore`] for [`MemoryBackend`]: the same steps as the Lua scripts, run under the
//! entry's lock with [`MemoryBackend::update`].

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::memory::{Slot, Value};
use tower_vigil_core::{BackendError, BackendResult, MemoryBackend};

use super::record::{Carry, Created, Expiry, StoredSession};
use super::{ABSOLUTE_FIELD, CREATED_FIELD, LAST_FIELD, SessionStore};

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

fn absolute_at(h: &BTreeMap<String, Bytes>) -> u64 {
    h.get(ABSOLUTE_FIELD)
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn ms_bytes(ms: u64) -> Bytes {
    Bytes::from(ms.to_string())
}

/// Reads the live session in `slot` (deleting it when past its absolute expiry), and deletes
/// it too when `take` is set.
fn read(slot: &mut Slot, now: u64, take: bool) -> BackendResult<Option<StoredSession>> {
    let ttl = slot.ttl().unwrap_or_default();
    let Some(h) = hash_of(slot)? else {
        return Ok(None);
    };
    let abs = absolute_at(h);
    if abs > 0 && now >= abs {
        slot.remove();
        return Ok(None);
    }
    let fields = h.clone();
    if take {
        slot.remove();
    }
    let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    Ok(Some(StoredSession::new(fields, now, ttl_ms)))
}

impl SessionStore for MemoryBackend {
    async fn load(&self, key: &str) -> BackendResult<Option<StoredSession>> {
        let now = now_ms(self);
        self.update(key, |slot| read(slot, now, false))
    }

    async fn create(
        &self,
        key: &str,
        fields: &[(String, Bytes)],
        carry: Option<Carry>,
        expiry: Expiry,
    ) -> BackendResult<Created> {
        let now = now_ms(self);
        self.update(key, |slot| {
            if slot.value().is_some() {
                return Ok(Created::Exists);
            }
            let (created, abs) = match carry {
                Some(c) => (c.created_ms, c.absolute_at_ms),
                None if expiry.absolute_ms > 0 => (now, now + expiry.absolute_ms),
                None => (now, 0),
            };
            let Some(ttl) = expiry.ttl_at(now, abs) else {
                return Ok(Created::Expired);
            };
            let mut h: BTreeMap<String, Bytes> = fields.iter().cloned().collect();
            h.insert(CREATED_FIELD.into(), ms_bytes(created));
            h.insert(LAST_FIELD.into(), ms_bytes(now));
            h.insert(ABSOLUTE_FIELD.into(), ms_bytes(abs));
            slot.set(Value::Hash(h), Duration::from_millis(ttl));
            Ok(Created::Created)
        })
    }

    async fn write(
        &self,
        key: &str,
        set: &[(String, Bytes)],
        delete: &[String],
        expiry: Expiry,
    ) -> BackendResult<bool> {
        let now = now_ms(self);
        self.update(key, |slot| {
            let Some(h) = hash_of(slot)? else {
                return Ok(false);
            };
            let Some(ttl) = expiry.ttl_at(now, absolute_at(h)) else {
                slot.remove();
                return Ok(false);
            };
            for (k, v) in set {
                h.insert(k.clone(), v.clone());
            }
            for k in delete {
                h.remove(k);
            }
            h.insert(LAST_FIELD.into(), ms_bytes(now));
            slot.expire(Duration::from_millis(ttl));
            Ok(true)
        })
    }

    async fn take(&self, key: &str) -> BackendResult<Option<StoredSession>> {
        let now = now_ms(self);
        self.update(key, |slot| read(slot, now, true))
    }

    async fn index_add(&self, index: &str, member: &str, ttl: Duration) -> BackendResult<()> {
        self.update(index, |slot| {
            let keep = slot.ttl().unwrap_or_default().max(ttl);
            match slot.value_mut() {
                Some(Value::Set(s)) => {
                    s.insert(Bytes::from(member.to_owned()));
                }
                Some(_) => return Err(wrong_type()),
                None => {
                    let mut s = HashSet::new();
                    s.insert(Bytes::from(member.to_owned()));
                    slot.set(Value::Set(s), keep);
                }
            }
            slot.expire(keep);
            Ok(())
        })
    }
}
