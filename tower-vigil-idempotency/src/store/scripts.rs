//! The four scripts behind the store, each its Lua source (beside it in `*.lua`) and its Rust
//! twin on the same hash layout: `s` state (`p` in flight, `c` completed), `f` fingerprint,
//! `o` owner token while in flight, `r` encoded record once completed. The key's TTL is the
//! lease while in flight and the retention once completed.
//!
//! Every write checks the owner token, so a holder whose lease lapsed cannot overwrite the
//! next one's marker or record. A key holding anything else (what another program left, say
//! the Node original's `SET NX` string) is reported as `Corrupt` by the claim and left alone
//! by the others (not held: `false`).
//!
//! Arguments are checked before any slot changes (a twin's slot changes apply even when it
//! fails): every TTL is a positive number of milliseconds.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::memory::{Slot, Value};
use tower_vigil_core::script::{Reply, Script, TwinCall};
use tower_vigil_core::{BackendError, BackendResult};

use super::Claim;

const IN_FLIGHT: &[u8] = b"p";
const COMPLETED: &[u8] = b"c";

/// `KEYS[1]` the record key; `ARGV` the fingerprint, the owner token, the lease in ms.
/// Replicated when acquired: a claim a failover could lose lets a retry run the request a
/// second time (one that found the key taken wrote nothing, and need not wait).
pub(super) static CLAIM: Script<Claim> = Script::new(
    "idempotency.claim",
    include_str!("claim.lua"),
    claim_twin,
    decode_claim,
)
.replicated_when(|claim| matches!(claim, Claim::Acquired));

/// `KEYS[1]` the record key. Reads only: `None` when the key is free.
pub(super) static PEEK: Script<Option<Claim>> = Script::new(
    "idempotency.peek",
    include_str!("peek.lua"),
    peek_twin,
    decode_peek,
);

/// `KEYS[1]` the record key; `ARGV` the owner token, the lease in ms. Replicated: an
/// extension a failover could lose lets the lease lapse early on the new master, and a
/// duplicate run while the handler still works.
pub(super) static EXTEND: Script<bool> = Script::new(
    "idempotency.extend",
    include_str!("extend.lua"),
    extend_twin,
    flag,
)
.replicated_when(|extended| *extended);

/// `KEYS[1]` the record key; `ARGV` the owner token, the encoded record, the retention in ms.
/// Replicated: a completed record a failover could lose is a second execution on retry.
pub(super) static COMPLETE: Script<bool> = Script::new(
    "idempotency.complete",
    include_str!("complete.lua"),
    complete_twin,
    flag,
)
.replicated_when(|completed| *completed);

/// `KEYS[1]` the record key; `ARGV` the owner token.
pub(super) static RELEASE: Script<bool> = Script::new(
    "idempotency.release",
    include_str!("release.lua"),
    release_twin,
    flag,
);

fn corrupt() -> BackendError {
    BackendError::corrupt("idempotency key holds a value the layer did not write")
}

/// Argument `i` as a TTL in ms, as `PEXPIRE` takes it (positive).
fn ttl_arg(call: &TwinCall<'_>, i: usize) -> BackendResult<Duration> {
    u64::try_from(call.args().int(i)?)
        .ok()
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
        .ok_or_else(|| BackendError::script("invalid expire time in 'pexpire' command"))
}

/// The entry's fields, or `None` when the key is free. A value this store did not write is
/// a `Corrupt` error, as the claim script answers.
fn fields(slot: &Slot) -> BackendResult<Option<&BTreeMap<String, Bytes>>> {
    match slot.value() {
        None => Ok(None),
        Some(Value::Hash(h))
            if matches!(h.get("s").map(Bytes::as_ref), Some(IN_FLIGHT | COMPLETED)) =>
        {
            Ok(Some(h))
        }
        Some(_) => Err(corrupt()),
    }
}

fn field<'a>(h: &'a BTreeMap<String, Bytes>, name: &str) -> &'a [u8] {
    h.get(name).map_or(&[], Bytes::as_ref)
}

/// True when `owner` holds the in-flight marker; false for anything else, a value this layer
/// did not write included (only the claim reports those).
fn held_by(slot: &Slot, owner: &[u8]) -> bool {
    match slot.value() {
        Some(Value::Hash(h)) => field(h, "s") == IN_FLIGHT && field(h, "o") == owner,
        _ => false,
    }
}

fn claim_twin(call: &mut TwinCall<'_>) -> BackendResult<Claim> {
    let args = call.args();
    let (fingerprint, owner) = (args.raw(0)?, args.raw(1)?);
    let lease = ttl_arg(call, 2)?;
    let slot = call.slot(0)?;
    let remaining = slot.ttl().unwrap_or_default();
    if let Some(h) = fields(slot)? {
        if field(h, "f") != fingerprint {
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
        ("f".to_owned(), Bytes::copy_from_slice(fingerprint)),
        ("o".to_owned(), Bytes::copy_from_slice(owner)),
    ]);
    slot.set(Value::Hash(marker), lease);
    Ok(Claim::Acquired)
}

/// `{code, lease ms left, record}`: 0 acquired, 1 in flight, 2 completed, 3 mismatch, 4 a
/// value the layer did not write.
fn decode_claim(reply: Reply) -> BackendResult<Claim> {
    let [code, ttl_ms, record] = reply.into_tuple()?;
    match code.into_int()? {
        0 => Ok(Claim::Acquired),
        1 => Ok(Claim::InFlight {
            lease_remaining: Duration::from_millis(u64::try_from(ttl_ms.into_int()?).unwrap_or(0)),
        }),
        2 => Ok(Claim::Completed(record.into_data()?.unwrap_or_default())),
        3 => Ok(Claim::Mismatch),
        _ => Err(corrupt()),
    }
}

fn peek_twin(call: &mut TwinCall<'_>) -> BackendResult<Option<Claim>> {
    let slot = call.slot(0)?;
    let remaining = slot.ttl().unwrap_or_default();
    Ok(fields(slot)?.map(|h| {
        if field(h, "s") == COMPLETED {
            Claim::Completed(h.get("r").cloned().unwrap_or_default())
        } else {
            Claim::InFlight {
                lease_remaining: remaining,
            }
        }
    }))
}

/// `{code, lease ms left, record}`: 0 free, 1 in flight, 2 completed, 4 a value the store
/// did not write.
fn decode_peek(reply: Reply) -> BackendResult<Option<Claim>> {
    let [code, ttl_ms, record] = reply.into_tuple()?;
    match code.into_int()? {
        0 => Ok(None),
        1 => Ok(Some(Claim::InFlight {
            lease_remaining: Duration::from_millis(u64::try_from(ttl_ms.into_int()?).unwrap_or(0)),
        })),
        2 => Ok(Some(Claim::Completed(
            record.into_data()?.unwrap_or_default(),
        ))),
        _ => Err(corrupt()),
    }
}

fn extend_twin(call: &mut TwinCall<'_>) -> BackendResult<bool> {
    let owner = call.args().raw(0)?;
    let lease = ttl_arg(call, 1)?;
    let slot = call.slot(0)?;
    Ok(held_by(slot, owner) && slot.expire(lease))
}

fn complete_twin(call: &mut TwinCall<'_>) -> BackendResult<bool> {
    let args = call.args();
    let (owner, record) = (args.raw(0)?, args.bytes(1)?);
    let ttl = ttl_arg(call, 2)?;
    let slot = call.slot(0)?;
    if !held_by(slot, owner) {
        return Ok(false);
    }
    let fingerprint = match slot.value() {
        Some(Value::Hash(h)) => h.get("f").cloned().unwrap_or_default(),
        _ => Bytes::new(),
    };
    let done = BTreeMap::from([
        ("s".to_owned(), Bytes::from_static(COMPLETED)),
        ("f".to_owned(), fingerprint),
        ("r".to_owned(), record),
    ]);
    slot.set(Value::Hash(done), ttl);
    Ok(true)
}

fn release_twin(call: &mut TwinCall<'_>) -> BackendResult<bool> {
    let owner = call.args().raw(0)?;
    let slot = call.slot(0)?;
    let held = held_by(slot, owner);
    if held {
        slot.remove();
    }
    Ok(held)
}

fn flag(reply: Reply) -> BackendResult<bool> {
    Ok(reply.into_int()? == 1)
}
