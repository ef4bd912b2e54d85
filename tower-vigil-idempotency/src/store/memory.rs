//! [`IdempotencyStore`] on [`MemoryBackend`]: the same hash layout as the Lua scripts (`s`
//! state, `f` fingerprint, `o` owner, `r` record), changed under the entry's lock, so the two
//! implementations read alike and the backend's memory accounting sees the records' size.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::backend::Subscription;
use tower_vigil_core::memory::{Slot, Value};
use tower_vigil_core::{Backend, BackendError, MemoryBackend};

use super::keys::ANNOUNCE_CHANNEL;
use super::{Claim, IdempotencyStore};
use crate::fingerprint::Fingerprint;

const IN_FLIGHT: &[u8] = b"p";
const COMPLETED: &[u8] = b"c";

/// The entry's fields, or `None` when the key is free. A value this store did not write is
/// a `Corrupt` error, as the claim script answers.
fn fields(slot: &mut Slot) -> Result<Option<&mut BTreeMap<String, Bytes>>, BackendError> {
    match slot.value_mut() {
        None => Ok(None),
        Some(Value::Hash(h))
            if matches!(h.get("s").map(Bytes::as_ref), Some(IN_FLIGHT | COMPLETED)) =>
        {
            Ok(Some(h))
        }
        Some(_) => Err(BackendError::corrupt(
            "idempotency key holds a value the layer did not write",
        )),
    }
}

fn field<'a>(h: &'a BTreeMap<String, Bytes>, name: &str) -> &'a [u8] {
    h.get(name).map_or(&[], Bytes::as_ref)
}

/// True when `owner` holds the in-flight marker.
fn held_by(slot: &mut Slot, owner: &[u8]) -> Result<bool, BackendError> {
    Ok(fields(slot)?.is_some_and(|h| field(h, "s") == IN_FLIGHT && field(h, "o") == owner))
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
            if let Some(h) = fields(slot)? {
                if field(h, "f") != fingerprint.as_bytes() {
                    return Ok(Claim::Mismatch);
                }
                if field(h, "s") == COMPLETED {
                    return Ok(Claim::Completed(h.get("r").cloned().unwrap_or_default()));
                }
                return Ok(Claim::InFlight {
                    lease_remaining: remaining,
                });
            }
            let marker = BTreeMap::from([
                ("s".to_owned(), Bytes::from_static(IN_FLIGHT)),
                (
                    "f".to_owned(),
                    Bytes::copy_from_slice(fingerprint.as_bytes()),
                ),
                ("o".to_owned(), Bytes::copy_from_slice(owner)),
            ]);
            slot.set(Value::Hash(marker), lease);
            Ok(Claim::Acquired)
        })
    }

    async fn extend(&self, key: &str, owner: &[u8], lease: Duration) -> Result<bool, BackendError> {
        self.update(key, |slot| Ok(held_by(slot, owner)? && slot.expire(lease)))
    }

    async fn complete(
        &self,
        key: &str,
        owner: &[u8],
        record: Bytes,
        ttl: Duration,
    ) -> Result<bool, BackendError> {
        self.update(key, |slot| {
            if !held_by(slot, owner)? {
                return Ok(false);
            }
            let Some(h) = fields(slot)? else {
                return Ok(false);
            };
            let done = BTreeMap::from([
                ("s".to_owned(), Bytes::from_static(COMPLETED)),
                ("f".to_owned(), h.get("f").cloned().unwrap_or_default()),
                ("r".to_owned(), record),
            ]);
            slot.set(Value::Hash(done), ttl);
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
