//! [`SessionStore`] for [`MemoryBackend`]: the same steps as the Lua scripts, run under the
//! entry's lock with [`MemoryBackend::update`].

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::memory::{Slot, Value};
use tower_vigil_core::{BackendError, BackendResult, MemoryBackend};

use super::record::{Expiry, StoredSession};
use super::{ABSOLUTE_FIELD, CREATED_FIELD, LAST_FIELD, SECRET_FIELD, SessionStore};

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
            let ttl = expiry.ttl_at(now, abs).unwrap_or(expiry.idle_ms);
            let mut h: BTreeMap<String, Bytes> = fields.iter().cloned().collect();
            h.insert(SECRET_FIELD.into(), Bytes::from(secret.to_owned()));
            h.insert(CREATED_FIELD.into(), ms_bytes(now));
            h.insert(LAST_FIELD.into(), ms_bytes(now));
            h.insert(ABSOLUTE_FIELD.into(), ms_bytes(abs));
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
    ) -> BackendResult<bool> {
        let now = now_ms(self);
        self.update(key, |slot| {
            let Some(h) = hash_of(slot)? else {
                return Ok(false);
            };
            if !holds(h, secret) {
                return Ok(false);
            }
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
