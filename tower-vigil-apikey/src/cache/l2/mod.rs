//! The shared (L2) tier: three atomic scripts over the two keys of a cached API key, each a
//! Lua script beside its Rust twin, run by [`Backend::run`]. Functions here take the key's
//! hash and build the keys with [`record_keys`].
//!
//! `apikey:{hash}` holds the cached record (JSON, with a version field) and
//! `apikey:{hash}:rev` a revocation generation that every revocation bumps; both share the
//! hash tag `{hash}`, so the scripts run on Redis Cluster. A fill names the generation it read
//! before asking the key store, and is dropped if it changed. Generations are floored with the
//! backend's clock (`TIME` on Redis), so they never repeat, even after the generation key
//! expired.
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use tower_vigil_apikey::__private::{fill_record, read_record, revoke_record};
//! use tower_vigil_core::MemoryBackend;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_vigil_core::BackendError> {
//! let b = MemoryBackend::new();
//! let (rec, rev) = read_record(&b, "ab12").await?;
//! assert!(rec.is_none());
//! revoke_record(&b, "ab12", Duration::from_secs(600)).await?;
//! // A fill that read the generation before the revocation is refused.
//! let ttl = Duration::from_secs(300);
//! assert!(!fill_record(&b, "ab12", rev, &Bytes::from_static(b"{}"), ttl).await?);
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::backend::{BackendResult, ttl_millis};
use tower_vigil_core::memory::Value;
use tower_vigil_core::script::TwinCall;
use tower_vigil_core::{Arg, Backend, BackendError, Reply, Script};

use crate::keys::record_keys;

/// Reads the record and the generation in one round trip.
static READ: Script<(Option<Bytes>, u64)> = Script::new(
    "apikey.read",
    include_str!("read.lua"),
    read_twin,
    |reply| {
        let [record, rev] = reply.into_tuple()?;
        Ok((record.into_data()?, generation_of(rev)?))
    },
);

/// Stores a record unless the generation moved since the caller read it.
static FILL: Script<bool> = Script::new("apikey.fill", include_str!("fill.lua"), fill_twin, |r| {
    Ok(r.into_int()? == 1)
});

/// Bumps the generation and deletes the record. Replicated: a revocation lost in a failover
/// would bring the key back from L2, so it counts only once the replicas have it.
static REVOKE: Script<u64> = Script::new(
    "apikey.revoke",
    include_str!("revoke.lua"),
    revoke_twin,
    generation_of,
)
.replicated();

/// The record cached for the key whose hash is `hash`, and its generation (0 when never
/// revoked).
pub async fn read_record<B: Backend>(
    backend: &B,
    hash: &str,
) -> BackendResult<(Option<Bytes>, u64)> {
    let (record, rev) = record_keys(hash);
    backend.run(&READ, &[&record, &rev], &[]).await
}

/// Stores `record` for `ttl` if the generation is still `expected_rev`. True when stored.
pub async fn fill_record<B: Backend>(
    backend: &B,
    hash: &str,
    expected_rev: u64,
    record: &Bytes,
    ttl: Duration,
) -> BackendResult<bool> {
    let (record_key, rev_key) = record_keys(hash);
    let args = [
        Arg::from(expected_rev),
        // Shared: the memory twin keeps this handle, no copy.
        Arg::from(record),
        Arg::from(ttl_millis(ttl)),
    ];
    backend.run(&FILL, &[&record_key, &rev_key], &args).await
}

/// Bumps the generation (which then lives `rev_ttl`) and deletes the record. Returns the new
/// generation: `max(previous + 1, the backend's clock in µs)`, so it is greater than every
/// generation handed out before, even after the generation key expired.
pub async fn revoke_record<B: Backend>(
    backend: &B,
    hash: &str,
    rev_ttl: Duration,
) -> BackendResult<u64> {
    let (record, rev) = record_keys(hash);
    let args = [Arg::from(ttl_millis(rev_ttl))];
    backend.run(&REVOKE, &[&record, &rev], &args).await
}

/// A generation as Lua returns it (an integer, never negative).
fn generation_of(reply: Reply) -> BackendResult<u64> {
    Ok(u64::try_from(reply.into_int()?).unwrap_or(0))
}

/// The generation stored in a slot: an `Int`, as [`revoke_twin`] leaves it (0 when absent).
fn generation(value: Option<&Value>) -> BackendResult<u64> {
    match value {
        None => Ok(0),
        Some(Value::Int(n)) => Ok(u64::try_from(*n).unwrap_or(0)),
        Some(other) => Err(BackendError::corrupt(format!(
            "api-key generation has the wrong type: {other:?}"
        ))),
    }
}

/// Argument `i` as a TTL in ms, as Lua's `PX` takes it: positive.
fn ttl_arg(call: &TwinCall<'_>, i: usize) -> BackendResult<Duration> {
    u64::try_from(call.args().int(i)?)
        .ok()
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
        .ok_or_else(|| BackendError::script("invalid expire time"))
}

fn read_twin(call: &mut TwinCall<'_>) -> BackendResult<(Option<Bytes>, u64)> {
    let record = match call.slot(0)?.value() {
        None => None,
        Some(Value::Bytes(b)) => Some(b.clone()),
        Some(other) => {
            return Err(BackendError::corrupt(format!(
                "api-key record has the wrong type: {other:?}"
            )));
        }
    };
    Ok((record, generation(call.slot(1)?.value())?))
}

fn fill_twin(call: &mut TwinCall<'_>) -> BackendResult<bool> {
    let expected = u64::try_from(call.args().int(0)?).unwrap_or(0);
    let record = call.args().bytes(1)?;
    let ttl = ttl_arg(call, 2)?;
    if generation(call.slot(1)?.value())? != expected {
        return Ok(false);
    }
    call.slot(0)?.set(Value::Bytes(record), ttl);
    Ok(true)
}

fn revoke_twin(call: &mut TwinCall<'_>) -> BackendResult<u64> {
    let rev_ttl = ttl_arg(call, 0)?;
    // revoke.lua's `max(previous + 1, TIME in µs)`, on the backend's clock (tokio's for
    // memory, so a paused test clock still sees generations increase).
    let now = call.now_micros();
    let next = generation(call.slot(1)?.value())?
        .saturating_add(1)
        .max(now);
    let next_i = i64::try_from(next).unwrap_or(i64::MAX);
    // The record first, as revoke.lua deletes it first.
    call.slot(0)?.remove();
    call.slot(1)?.set(Value::Int(next_i), rev_ttl);
    Ok(next)
}
