//! [`IdempotencyStore`] on [`MemoryBackend`]: the entries are typed values (`Value::Any`)
//! changed under the entry's lock, the twin of the Lua scripts.

use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::backend::Subscription;
use tower_vigil_core::memory::{Slot, Value};
use tower_vigil_core::{Backend, BackendError, MemoryBackend};

use super::{ANNOUNCE_CHANNEL, Claim, IdempotencyStore};
use crate::fingerprint::Fingerprint;

/// What one key holds in memory.
#[derive(Debug, Clone)]
enum Entry {
    InFlight {
        owner: Bytes,
        fingerprint: Fingerprint,
    },
    Completed {
        fingerprint: Fingerprint,
        record: Bytes,
    },
}

fn entry(slot: &mut Slot) -> Result<Option<&mut Entry>, BackendError> {
    if slot.value().is_none() {
        return Ok(None);
    }
    slot.downcast_mut::<Entry>()
        .map(Some)
        .ok_or_else(|| BackendError::corrupt("idempotency key holds a foreign value"))
}

fn held_by(slot: &mut Slot, owner: &[u8]) -> Result<bool, BackendError> {
    Ok(matches!(entry(slot)?, Some(Entry::InFlight { owner: o, .. }) if o.as_ref() == owner))
}

impl IdempotencyStore for MemoryBackend {
    async fn claim(
        &self,
        key: &str,
        fingerprint: &Fingerprint,
        owner: &[u8],
        lease: Duration,
    ) -> Result<Claim, BackendError> {
        self.update(key, |slot| {
            let remaining = slot.ttl().unwrap_or_default();
            let claim = match entry(slot)? {
                None => None,
                Some(Entry::InFlight { fingerprint: f, .. }) if f == fingerprint => {
                    Some(Claim::InFlight {
                        lease_remaining: remaining,
                    })
                }
                Some(Entry::Completed {
                    fingerprint: f,
                    record,
                }) if f == fingerprint => Some(Claim::Completed(record.clone())),
                Some(_) => Some(Claim::Mismatch),
            };
            if let Some(claim) = claim {
                return Ok(claim);
            }
            let marker = Entry::InFlight {
                owner: Bytes::copy_from_slice(owner),
                fingerprint: *fingerprint,
            };
            slot.set(Value::Any(Box::new(marker)), lease);
            Ok(Claim::Acquired)
        })
    }

    async fn extend(&self, key: &str, owner: &[u8], lease: Duration) -> Result<bool, BackendError> {
        self.update(key, |slot| {
            let held = held_by(slot, owner)?;
            Ok(held && slot.expire(lease))
        })
    }

    async fn complete(
        &self,
        key: &str,
        owner: &[u8],
        record: Bytes,
        ttl: Duration,
    ) -> Result<bool, BackendError> {
        self.update(key, |slot| {
            let Some(Entry::InFlight {
                owner: o,
                fingerprint,
            }) = entry(slot)?
            else {
                return Ok(false);
            };
            if o.as_ref() != owner {
                return Ok(false);
            }
            let done = Entry::Completed {
                fingerprint: *fingerprint,
                record,
            };
            slot.set(Value::Any(Box::new(done)), ttl);
            Ok(true)
        })
    }

    async fn release(&self, key: &str, owner: &[u8]) -> Result<bool, BackendError> {
        self.update(key, |slot| {
            let held = held_by(slot, owner)?;
            if held {
                slot.remove();
            }
            Ok(held)
        })
    }

    async fn announce(&self, key: &str) -> Result<(), BackendError> {
        self.publish(ANNOUNCE_CHANNEL, Bytes::copy_from_slice(key.as_bytes()))
            .await
    }

    async fn announcements(&self) -> Result<Option<Subscription>, BackendError> {
        self.subscribe(ANNOUNCE_CHANNEL).await.map(Some)
    }
}
