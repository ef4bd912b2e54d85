//! The operations on a session hash (`session:{<id hash>}`): load, create, write, destroy.
//! The writes are each one [`Script`] on one key: the Lua beside this file for Redis, the twin
//! below for memory, run through [`Backend::run`]. The twins take the same arguments and
//! follow the Lua step by step (`scripts_match.rs` checks them against each other). The load
//! is [`Backend::hash_read`] (no script on Redis), checked here.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::memory::{Slot, Value};
use tower_vigil_core::script::{Arg, Args, Script, TwinCall};
use tower_vigil_core::secret::constant_time_eq;
use tower_vigil_core::{Backend, BackendError, BackendResult};

use super::record::{
    ABSOLUTE_FIELD, CREATED_FIELD, DEADLINE_FIELD, Expiry, LAST_FIELD, SECRET_FIELD, StoredSession,
    USER_FIELD, WriteOutcome,
};

/// The name of the create script (tests stop a flow at it).
pub const CREATE_SCRIPT: &str = "session.create";
/// The name of the destroy script (tests stop a flow after it).
pub const DESTROY_SCRIPT: &str = "session.destroy";

static CREATE: Script<bool> = Script::new(
    CREATE_SCRIPT,
    include_str!("create.lua"),
    create_twin,
    |reply| Ok(reply.into_int()? == 1),
);
static WRITE: Script<WriteOutcome> = Script::new(
    "session.write",
    include_str!("write.lua"),
    write_twin,
    |reply| Ok(write_outcome(reply.into_int()?)),
);
static DESTROY: Script<bool> = Script::new(
    DESTROY_SCRIPT,
    include_str!("destroy.lua"),
    destroy_twin,
    |reply| Ok(reply.into_int()? == 1),
);

/// The session at `key`, or `None` when it does not exist, is past its absolute expiry (then
/// it is deleted) or, with `secret`, holds another secret (compared in constant time).
///
/// One [`Backend::hash_read`] (on Redis `HGETALL` and `PTTL` in one round trip, no script),
/// checked here; only a session past its absolute expiry costs a second call, the delete. The
/// expiry is checked on the clock the read reports: the application's wall clock on Redis (as
/// before the crate moved onto `Backend::run`; writes take Redis `TIME`, and the key's TTL ends
/// the session on Redis's clock), the memory backend's own clock in memory, `TIME` on a backend
/// that reads through the provided script.
pub async fn load<B: Backend>(
    backend: &B,
    key: &str,
    secret: Option<&str>,
) -> BackendResult<Option<StoredSession>> {
    let Some(read) = backend.hash_read(key).await? else {
        return Ok(None);
    };
    let now = read.read_at_micros / 1000;
    let fields = read.fields;
    let abs = number(&fields, ABSOLUTE_FIELD);
    if abs > 0 && now >= abs {
        destroy(backend, key, None).await?;
        return Ok(None);
    }
    if let Some(secret) = secret {
        let stored = fields.get(SECRET_FIELD).map_or(&[][..], |s| s.as_ref());
        if !constant_time_eq(stored, secret.as_bytes()) {
            return Ok(None);
        }
    }
    // A key without expiry (not written by this crate) reads as a TTL of 0, as it always did:
    // the next refresh gives it one.
    let ttl = if read.ttl == Duration::MAX {
        0
    } else {
        millis(read.ttl)
    };
    Ok(Some(StoredSession::new(fields, now, ttl)))
}

/// Creates the session at `key` with `secret` and `fields` (full field names), unless a
/// session exists there or the index deadline in `expiry` has passed. True when created.
pub async fn create<B: Backend>(
    backend: &B,
    key: &str,
    secret: &str,
    fields: &[(String, Bytes)],
    expiry: Expiry,
) -> BackendResult<bool> {
    let mut args = Vec::with_capacity(4 + 2 * fields.len());
    args.extend([
        Arg::from(secret),
        Arg::from(expiry.idle_ms),
        Arg::from(expiry.absolute_ms),
        Arg::from(expiry.not_after_ms),
    ]);
    for (k, v) in fields {
        args.extend([Arg::from(k), Arg::from(v)]);
    }
    backend.run(&CREATE, &[key], &args).await
}

/// Sets `set` and removes `delete` (full field names), records the activity and resets the TTL
/// to `min(idle, absolute expiry - now, index deadline - now)`, only if the session exists and
/// holds `secret`; [`WriteOutcome::Gone`] otherwise (destroyed, expired, cycled away): nothing
/// is written. With no fields this is the TTL refresh; setting `_sec` cycles the token. See
/// [`Expiry`] for the index deadline and [`WriteOutcome::Reindex`].
pub async fn write<B: Backend>(
    backend: &B,
    key: &str,
    secret: &str,
    set: &[(String, Bytes)],
    delete: &[String],
    expiry: Expiry,
) -> BackendResult<WriteOutcome> {
    let mut args = Vec::with_capacity(5 + 2 * set.len() + delete.len());
    args.extend([
        Arg::from(secret),
        Arg::from(expiry.idle_ms),
        Arg::from(expiry.not_after_ms),
        Arg::from(expiry.reindex_ms),
        Arg::from(set.len()),
    ]);
    for (k, v) in set {
        args.extend([Arg::from(k), Arg::from(v)]);
    }
    args.extend(delete.iter().map(Arg::from));
    backend.run(&WRITE, &[key], &args).await
}

/// Deletes the session at `key` (only if it holds `secret`, when given). True when it was
/// deleted.
pub async fn destroy<B: Backend>(
    backend: &B,
    key: &str,
    secret: Option<&str>,
) -> BackendResult<bool> {
    let args = [Arg::from(secret.unwrap_or(""))];
    backend.run(&DESTROY, &[key], &args).await
}

fn write_outcome(code: i64) -> WriteOutcome {
    match code {
        1 => WriteOutcome::Written,
        2 => WriteOutcome::Reindex,
        _ => WriteOutcome::Gone,
    }
}

// ---- The twins: what the Lua does, on the memory backend's entries. ----

/// The store's clock in ms since the Unix epoch (Redis `TIME` in the Lua).
fn now_ms(call: &TwinCall<'_>) -> u64 {
    call.now_micros() / 1000
}

/// Argument `i`, a count of milliseconds (as Lua's `tonumber`; a negative one counts as 0).
pub(super) fn ms_arg(args: Args<'_>, i: usize) -> BackendResult<u64> {
    Ok(u64::try_from(args.int(i)?).unwrap_or(0))
}

/// `args` as (field, value) pairs.
fn pairs(args: Args<'_>) -> BackendResult<Vec<(String, Bytes)>> {
    if args.len() % 2 == 1 {
        return Err(BackendError::script("a field without a value"));
    }
    (0..args.len())
        .step_by(2)
        .map(|i| Ok((args.str(i)?.to_owned(), args.bytes(i + 1)?)))
        .collect()
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

/// True when `h` holds `secret` (an empty `secret` matches any: an unconditional call).
fn holds(h: &BTreeMap<String, Bytes>, secret: &[u8]) -> bool {
    secret.is_empty() || h.get(SECRET_FIELD).is_some_and(|s| s == secret)
}

pub(super) fn ms_bytes(ms: u64) -> Bytes {
    Bytes::from(ms.to_string())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn create_twin(call: &mut TwinCall<'_>) -> BackendResult<bool> {
    let args = call.args();
    let secret = args.bytes(0)?;
    let (idle, absolute, cap) = (ms_arg(args, 1)?, ms_arg(args, 2)?, ms_arg(args, 3)?);
    let fields = pairs(args.rest(4))?;
    let now = now_ms(call);
    let slot = call.slot(0)?;
    if slot.value().is_some() {
        return Ok(false);
    }
    // create.lua's TTL: min(idle, absolute, not_after - now); nothing is created once it is
    // not positive (past the index deadline: a session created now would outlive its entry).
    let abs = if absolute > 0 { now + absolute } else { 0 };
    let mut ttl = idle;
    if absolute > 0 {
        ttl = ttl.min(absolute);
    }
    if cap > 0 {
        ttl = ttl.min(cap.saturating_sub(now));
    }
    if ttl == 0 {
        return Ok(false);
    }
    let mut h: BTreeMap<String, Bytes> = BTreeMap::new();
    h.insert(SECRET_FIELD.into(), secret);
    h.insert(CREATED_FIELD.into(), ms_bytes(now));
    h.insert(LAST_FIELD.into(), ms_bytes(now));
    h.insert(ABSOLUTE_FIELD.into(), ms_bytes(abs));
    if cap > 0 {
        h.insert(DEADLINE_FIELD.into(), ms_bytes(cap));
    }
    h.extend(fields);
    slot.set(Value::Hash(h), Duration::from_millis(ttl));
    Ok(true)
}

/// write.lua's TTL: `min(idle, _abs - now, deadline - now)` in signed ms (`<= 0`: past), with
/// the deadline the write brings or else the stored one; `None` when the stored deadline is
/// due for renewal, or a user's session has none (write.lua's `return 2`).
fn write_ttl(h: &BTreeMap<String, Bytes>, now: u64, expiry: Expiry) -> Option<i128> {
    let now = i128::from(now);
    let mut ttl = i128::from(expiry.idle_ms);
    let abs = i128::from(number(h, ABSOLUTE_FIELD));
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

fn write_twin(call: &mut TwinCall<'_>) -> BackendResult<WriteOutcome> {
    let args = call.args();
    let secret = args.raw(0)?;
    let expiry = Expiry {
        idle_ms: ms_arg(args, 1)?,
        absolute_ms: 0,
        not_after_ms: ms_arg(args, 2)?,
        reindex_ms: ms_arg(args, 3)?,
    };
    let n = usize::try_from(args.int(4)?).unwrap_or(0);
    let Some(set) = args.rest(5).as_slice().get(..2 * n) else {
        return Err(BackendError::script("fewer fields than announced"));
    };
    let set = pairs(Args::new(set))?;
    let delete = (5 + 2 * n..args.len())
        .map(|i| Ok(args.str(i)?.to_owned()))
        .collect::<BackendResult<Vec<String>>>()?;
    let now = now_ms(call);
    let slot = call.slot(0)?;
    let Some(h) = hash_of(slot)? else {
        return Ok(WriteOutcome::Gone);
    };
    // Never unconditional: a write must present the session's secret.
    if secret.is_empty() || !holds(h, secret) {
        return Ok(WriteOutcome::Gone);
    }
    let Some(ttl) = write_ttl(h, now, expiry) else {
        return Ok(WriteOutcome::Reindex);
    };
    let Some(ttl) = u64::try_from(ttl).ok().filter(|t| *t > 0) else {
        slot.remove();
        return Ok(WriteOutcome::Gone);
    };
    h.extend(set);
    for k in &delete {
        h.remove(k);
    }
    if expiry.not_after_ms > 0 {
        h.insert(DEADLINE_FIELD.into(), ms_bytes(expiry.not_after_ms));
    }
    h.insert(LAST_FIELD.into(), ms_bytes(now));
    slot.expire(Duration::from_millis(ttl));
    Ok(WriteOutcome::Written)
}

fn destroy_twin(call: &mut TwinCall<'_>) -> BackendResult<bool> {
    let secret = call.args().raw(0)?;
    let slot = call.slot(0)?;
    let Some(h) = hash_of(slot)? else {
        return Ok(false);
    };
    if !holds(h, secret) {
        return Ok(false);
    }
    slot.remove();
    Ok(true)
}
