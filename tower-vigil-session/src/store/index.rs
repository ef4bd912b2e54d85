//! The scripts on a user's index (`session:user:{<user>}`): add, remove, members. In Redis the
//! index is a sorted set of session hashes scored by each entry's deadline plus
//! [`INDEX_GRACE`]; in memory a hash (member -> score, decimal ms), as the backend has no
//! sorted-set value, and the few operations the index needs (add with a score that only grows,
//! drop the members scored up to now, the highest score) are linear scans of a set kept small
//! by that very pruning. A hash also counts towards the backend's memory bound like any other
//! value. Each Lua script starts with `index_legacy.lua`, which converts an index written by an
//! earlier version (a plain set); each twin does the same first.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::backend::ttl_millis;
use tower_vigil_core::memory::{Slot, Value};
use tower_vigil_core::script::{Arg, Reply, Script, TwinCall};
use tower_vigil_core::{Backend, BackendError, BackendResult};

use super::session::{ms_arg, ms_bytes};

/// How long a user index keeps a member past its deadline: the clock skew allowed between
/// the Redis Cluster node holding the index and the one holding the session (each applies the
/// deadline with its own `TIME`). On one server or in memory one clock serves both.
pub const INDEX_GRACE: Duration = Duration::from_secs(1);

/// The TTL index_legacy.lua gives a converted set that had none: ten 365-day years, in ms.
const LEGACY_NO_TTL_MS: u64 = 10 * 365 * 24 * 3600 * 1000;

/// Each index script after the prelude that converts an index from before the sorted set.
macro_rules! index_script {
    ($name:literal, $file:literal, $twin:expr, $decode:expr) => {
        Script::new(
            $name,
            concat!(include_str!("index_legacy.lua"), include_str!($file)),
            $twin,
            $decode,
        )
    };
}

static INDEX_ADD: Script<u64> = index_script!(
    "session.index_add",
    "index_add.lua",
    index_add_twin,
    |reply| Ok(u64::try_from(reply.into_int()?).unwrap_or(0))
);
static INDEX_REMOVE: Script<u64> = index_script!(
    "session.index_remove",
    "index_remove.lua",
    index_remove_twin,
    |reply| Ok(u64::try_from(reply.into_int()?).unwrap_or(0))
);
static INDEX_MEMBERS: Script<Vec<String>> = index_script!(
    "session.index_members",
    "index_members.lua",
    index_members_twin,
    decode_members
);

/// Indexes session `member` in the per-user index at `index` and returns its deadline: the
/// store's clock plus `ttl`, in ms since the Unix epoch. The session must not outlive it: pass
/// it to a create or write with [`Expiry::not_after`](super::Expiry::not_after). The member is
/// kept until its deadline plus [`INDEX_GRACE`] (a later call only moves that later), and
/// members past theirs are removed on every add, so the index holds a user's live sessions,
/// not every login they ever made. The index itself expires with its last member.
pub async fn index_add<B: Backend>(
    backend: &B,
    index: &str,
    member: &str,
    ttl: Duration,
) -> BackendResult<u64> {
    let args = [
        Arg::from(member),
        Arg::from(ttl_millis(ttl)),
        Arg::from(ttl_millis(INDEX_GRACE)),
    ];
    backend.run(&INDEX_ADD, &[index], &args).await
}

/// Removes `members` from the index at `index`; how many were there.
pub async fn index_remove<B: Backend>(
    backend: &B,
    index: &str,
    members: &[String],
) -> BackendResult<u64> {
    if members.is_empty() {
        return Ok(0);
    }
    let args: Vec<Arg<'_>> = members.iter().map(Arg::from).collect();
    backend.run(&INDEX_REMOVE, &[index], &args).await
}

/// The members of the index at `index` not past their deadline plus grace (the others are
/// removed on the way).
pub async fn index_members<B: Backend>(backend: &B, index: &str) -> BackendResult<Vec<String>> {
    backend.run(&INDEX_MEMBERS, &[index], &[]).await
}

fn decode_members(reply: Reply) -> BackendResult<Vec<String>> {
    Ok(reply
        .into_array()?
        .into_iter()
        .filter_map(|m| m.into_data().ok().flatten())
        .filter_map(|m| String::from_utf8(m.to_vec()).ok())
        .collect())
}

// ---- The twins. ----

fn wrong_type() -> BackendError {
    BackendError::corrupt("session index holds a value of another type")
}

/// index_legacy.lua: a plain set (an index from before the sorted set) becomes the index,
/// each member scored by the set's TTL (ten years without one), and keeps that TTL.
fn convert_legacy(slot: &mut Slot, now: u64) {
    let Some(Value::Set(old)) = slot.value() else {
        return;
    };
    let left = slot
        .ttl()
        .map_or(LEGACY_NO_TTL_MS, |t| ttl_millis(t).max(1));
    let score = ms_bytes(now.saturating_add(left));
    let members: BTreeMap<String, Bytes> = old
        .iter()
        .filter_map(|m| String::from_utf8(m.to_vec()).ok())
        .map(|m| (m, score.clone()))
        .collect();
    if members.is_empty() {
        slot.remove();
    } else {
        slot.set(Value::Hash(members), Duration::from_millis(left));
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

/// The index in `slot` after the legacy prelude: `None` when there is none.
fn index_of(slot: &mut Slot, now: u64) -> BackendResult<Option<&mut BTreeMap<String, Bytes>>> {
    convert_legacy(slot, now);
    match slot.value_mut() {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(wrong_type()),
    }
}

fn index_add_twin(call: &mut TwinCall<'_>) -> BackendResult<u64> {
    let args = call.args();
    let member = args.str(0)?;
    let (ttl, grace) = (ms_arg(args, 1)?, ms_arg(args, 2)?);
    let now = call.now_micros() / 1000;
    let deadline = now.saturating_add(ttl);
    let score = deadline.saturating_add(grace);
    let slot = call.slot(0)?;
    let mut members = index_of(slot, now)?.map(std::mem::take).unwrap_or_default();
    if score_of(members.get(member)) < score {
        members.insert(member.to_owned(), ms_bytes(score));
    }
    prune(&mut members, now);
    let top = members.values().map(|v| score_of(Some(v))).max();
    // The set's TTL is its highest score minus now (a score above now survived the prune).
    match top {
        Some(top) => slot.set(Value::Hash(members), Duration::from_millis(top - now)),
        None => {
            slot.remove();
        }
    }
    Ok(deadline)
}

fn index_remove_twin(call: &mut TwinCall<'_>) -> BackendResult<u64> {
    let args = call.args();
    let members = (0..args.len())
        .map(|i| args.raw(i))
        .collect::<BackendResult<Vec<&[u8]>>>()?;
    let now = call.now_micros() / 1000;
    let slot = call.slot(0)?;
    let Some(h) = index_of(slot, now)? else {
        return Ok(0);
    };
    let mut removed = 0;
    for m in members {
        if let Ok(m) = std::str::from_utf8(m)
            && h.remove(m).is_some()
        {
            removed += 1;
        }
    }
    if h.is_empty() {
        slot.remove();
    }
    Ok(removed)
}

fn index_members_twin(call: &mut TwinCall<'_>) -> BackendResult<Vec<String>> {
    let now = call.now_micros() / 1000;
    let slot = call.slot(0)?;
    let Some(h) = index_of(slot, now)? else {
        return Ok(Vec::new());
    };
    prune(h, now);
    let members = h.keys().cloned().collect();
    if h.is_empty() {
        slot.remove();
    }
    Ok(members)
}
