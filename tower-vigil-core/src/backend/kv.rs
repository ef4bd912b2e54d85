//! The scripts behind the [`Backend`](super::Backend) trait's provided methods: plain
//! key-value, counter, set and hash operations, and the lease a [`Lock`](crate::Lock) takes,
//! each as Lua and its Rust twin. A backend that implements [`run`](super::Backend::run)
//! gets all of them.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use bytes::Bytes;

use super::{BackendResult, FENCE_TTL, HashRead};
use crate::error::BackendError;
use crate::script::{Reply, Script, TwinCall};
use crate::slot::{Slot, Value};

fn wrong_type(v: &Value) -> BackendError {
    BackendError::protocol(format!(
        "WRONGTYPE operation against a key holding a {} value",
        v.type_name()
    ))
}

fn bytes_of(v: &Value) -> BackendResult<Bytes> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        Value::Int(i) => Ok(Bytes::from(i.to_string())),
        other => Err(wrong_type(other)),
    }
}

fn equals(v: Option<&Value>, expected: &[u8]) -> bool {
    match v {
        Some(Value::Bytes(b)) => b.as_ref() == expected,
        Some(Value::Int(i)) => i.to_string().as_bytes() == expected,
        _ => false,
    }
}

/// Argument `i` as a TTL in ms (as `PX`/`PEXPIRE` take it).
fn ttl_arg(call: &TwinCall<'_>, i: usize) -> BackendResult<Duration> {
    let ms = call.args().int(i)?;
    u64::try_from(ms)
        .ok()
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
        .ok_or_else(|| BackendError::protocol("invalid expire time"))
}

fn flag(reply: Reply) -> BackendResult<bool> {
    Ok(reply.into_int()? == 1)
}

fn count(reply: Reply) -> BackendResult<u64> {
    Ok(u64::try_from(reply.into_int()?).unwrap_or(0))
}

fn data(reply: Reply) -> BackendResult<Option<Bytes>> {
    reply.into_data()
}

fn list(reply: Reply) -> BackendResult<Vec<Bytes>> {
    reply
        .into_array()?
        .into_iter()
        .map(|r| r.into_data().map(Option::unwrap_or_default))
        .collect()
}

pub(crate) static GET: Script<Option<Bytes>> = Script::new(
    "core.get",
    "return redis.call('GET', KEYS[1])",
    |call| call.slot(0)?.value().map(bytes_of).transpose(),
    data,
);

pub(crate) static SET: Script<()> = Script::new(
    "core.set",
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1",
    |call| {
        let (value, ttl) = (call.args().bytes(0)?, ttl_arg(call, 1)?);
        call.slot(0)?.set(Value::Bytes(value), ttl);
        Ok(())
    },
    |reply| reply.into_int().map(drop),
);

pub(crate) static SET_NX: Script<bool> = Script::new(
    "core.set_nx",
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end return 0",
    |call| {
        let (value, ttl) = (call.args().bytes(0)?, ttl_arg(call, 1)?);
        let slot = call.slot(0)?;
        if slot.value().is_some() {
            return Ok(false);
        }
        slot.set(Value::Bytes(value), ttl);
        Ok(true)
    },
    flag,
);

pub(crate) static GET_REFRESH: Script<Option<Bytes>> = Script::new(
    "core.get_refresh",
    r"
local v = redis.call('GET', KEYS[1])
if v then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return v
",
    |call| {
        let ttl = ttl_arg(call, 0)?;
        let slot = call.slot(0)?;
        let Some(v) = slot.value() else {
            return Ok(None);
        };
        let b = bytes_of(v)?;
        slot.expire(ttl);
        Ok(Some(b))
    },
    data,
);

pub(crate) static COMPARE_AND_DELETE: Script<bool> = Script::new(
    "core.compare_and_delete",
    r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
    |call| {
        let expected = call.args().raw(0)?;
        let slot = call.slot(0)?;
        let hit = equals(slot.value(), expected);
        if hit {
            slot.remove();
        }
        Ok(hit)
    },
    flag,
);

/// Replicated: a lease extension lost in a failover would let the lease lapse early on the
/// new master while its holder still works, and so hand it to a second holder.
pub(crate) static COMPARE_AND_EXTEND: Script<bool> = Script::new(
    "core.compare_and_extend",
    r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
",
    |call| {
        let (expected, ttl) = (call.args().raw(0)?, ttl_arg(call, 1)?);
        let slot = call.slot(0)?;
        Ok(equals(slot.value(), expected) && slot.expire(ttl))
    },
    flag,
)
.replicated();

pub(crate) static DELETE: Script<bool> = Script::new(
    "core.delete",
    "return redis.call('DEL', KEYS[1])",
    |call| Ok(call.slot(0)?.remove().is_some()),
    flag,
);

pub(crate) static EXPIRE: Script<bool> = Script::new(
    "core.expire",
    "return redis.call('PEXPIRE', KEYS[1], ARGV[1])",
    |call| {
        let ttl = ttl_arg(call, 0)?;
        Ok(call.slot(0)?.expire(ttl))
    },
    flag,
);

pub(crate) static TTL: Script<Option<Duration>> = Script::new(
    "core.ttl",
    "return redis.call('PTTL', KEYS[1])",
    |call| Ok(call.slot(0)?.ttl()),
    |reply| Ok(pttl(reply.into_int()?)),
);

/// A `PTTL` reply as a TTL: `None` for `-2` (no such key).
pub(crate) fn pttl(ms: i64) -> Option<Duration> {
    match ms {
        -2 => None,
        // A key without expiry was not written by tower-vigil; report it as never expiring.
        -1 => Some(Duration::MAX),
        ms => Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0))),
    }
}

/// `INCRBY` and, for a new counter, `PEXPIRE` (a fixed window keeps its first expiry).
/// `PEXPIRE … NX` would do it in one command but needs Redis 7.0; we support 6.2.
pub(crate) static INCR_BY: Script<i64> = Script::new(
    "core.incr_by",
    r"
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return n
",
    |call| {
        let (delta, ttl) = (call.args().int(0)?, ttl_arg(call, 1)?);
        let slot = call.slot(0)?;
        let current = match slot.value() {
            None => 0,
            Some(Value::Int(i)) => *i,
            Some(Value::Bytes(b)) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| BackendError::protocol("value is not an integer or out of range"))?,
            Some(other) => return Err(wrong_type(other)),
        };
        let next = current
            .checked_add(delta)
            .ok_or_else(|| BackendError::protocol("increment or decrement would overflow"))?;
        slot.set_keep_ttl(Value::Int(next), ttl);
        Ok(next)
    },
    Reply::into_int,
);

/// `SADD` then `PEXPIRE`, atomically, so an index set never exists without a TTL.
pub(crate) static SET_ADD: Script<u64> = Script::new(
    "core.set_add",
    r"
local ttl = table.remove(ARGV, 1)
local n = redis.call('SADD', KEYS[1], unpack(ARGV))
redis.call('PEXPIRE', KEYS[1], ttl)
return n
",
    |call| {
        let ttl = ttl_arg(call, 0)?;
        let members = call.args().rest(1);
        let members = (0..members.len())
            .map(|i| members.bytes(i))
            .collect::<BackendResult<Vec<_>>>()?;
        let slot = call.slot(0)?;
        let mut set = take_set(slot)?;
        let added = members
            .into_iter()
            .filter(|m| set.insert(m.clone()))
            .count();
        if !set.is_empty() {
            slot.set(Value::Set(set), ttl);
        }
        Ok(added as u64)
    },
    count,
);

fn take_set(slot: &mut Slot) -> BackendResult<HashSet<Bytes>> {
    match slot.value() {
        None => Ok(HashSet::new()),
        Some(Value::Set(_)) => match slot.remove() {
            Some(Value::Set(s)) => Ok(s),
            _ => Ok(HashSet::new()),
        },
        Some(other) => Err(wrong_type(other)),
    }
}

pub(crate) static SET_REMOVE: Script<u64> = Script::new(
    "core.set_remove",
    "return redis.call('SREM', KEYS[1], unpack(ARGV))",
    |call| {
        let args = call.args();
        let members = (0..args.len())
            .map(|i| args.bytes(i))
            .collect::<BackendResult<Vec<_>>>()?;
        let slot = call.slot(0)?;
        let removed = match slot.value_mut() {
            None => 0,
            Some(Value::Set(s)) => members.iter().filter(|m| s.remove(*m)).count(),
            Some(other) => return Err(wrong_type(other)),
        };
        if matches!(slot.value(), Some(Value::Set(s)) if s.is_empty()) {
            slot.remove();
        }
        Ok(removed as u64)
    },
    count,
);

pub(crate) static SET_MEMBERS: Script<Vec<Bytes>> = Script::new(
    "core.set_members",
    "return redis.call('SMEMBERS', KEYS[1])",
    |call| match call.slot(0)?.value() {
        None => Ok(Vec::new()),
        Some(Value::Set(s)) => Ok(s.iter().cloned().collect()),
        Some(other) => Err(wrong_type(other)),
    },
    list,
);

/// `HSET` then `PEXPIRE`, atomically.
pub(crate) static HASH_SET: Script<()> = Script::new(
    "core.hash_set",
    r"
local ttl = table.remove(ARGV, 1)
redis.call('HSET', KEYS[1], unpack(ARGV))
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
",
    |call| {
        let ttl = ttl_arg(call, 0)?;
        let args = call.args().rest(1);
        if args.len() % 2 != 0 {
            return Err(BackendError::protocol("wrong number of arguments for HSET"));
        }
        let mut fields = Vec::with_capacity(args.len() / 2);
        for i in (0..args.len()).step_by(2) {
            fields.push((args.str(i)?.to_owned(), args.bytes(i + 1)?));
        }
        let slot = call.slot(0)?;
        let mut hash = match slot.value() {
            None => BTreeMap::new(),
            Some(Value::Hash(_)) => match slot.remove() {
                Some(Value::Hash(h)) => h,
                _ => BTreeMap::new(),
            },
            Some(other) => return Err(wrong_type(other)),
        };
        hash.extend(fields);
        if !hash.is_empty() {
            slot.set(Value::Hash(hash), ttl);
        }
        Ok(())
    },
    |reply| reply.into_int().map(drop),
);

pub(crate) static HASH_GET: Script<Option<Bytes>> = Script::new(
    "core.hash_get",
    "return redis.call('HGET', KEYS[1], ARGV[1])",
    |call| {
        let field = call.args().str(0)?;
        match call.slot(0)?.value() {
            None => Ok(None),
            Some(Value::Hash(h)) => Ok(h.get(field).cloned()),
            Some(other) => Err(wrong_type(other)),
        }
    },
    data,
);

pub(crate) static HASH_GET_ALL: Script<Vec<(String, Bytes)>> = Script::new(
    "core.hash_get_all",
    "return redis.call('HGETALL', KEYS[1])",
    |call| match call.slot(0)?.value() {
        None => Ok(Vec::new()),
        Some(Value::Hash(h)) => Ok(h.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        Some(other) => Err(wrong_type(other)),
    },
    |reply| Ok(hash_fields(list(reply)?)?.into_iter().collect()),
);

/// A flat `HGETALL` reply (name, value, name, value…) as the fields by name. The values are
/// kept without a copy.
pub(crate) fn hash_fields(flat: Vec<Bytes>) -> BackendResult<BTreeMap<String, Bytes>> {
    if !flat.len().is_multiple_of(2) {
        return Err(BackendError::protocol(
            "HGETALL returned an odd number of values",
        ));
    }
    let mut all = BTreeMap::new();
    let mut flat = flat.into_iter();
    while let (Some(name), Some(value)) = (flat.next(), flat.next()) {
        let name = String::from_utf8(name.to_vec())
            .map_err(|_| BackendError::protocol("a hash field name is not UTF-8"))?;
        all.insert(name, value);
    }
    Ok(all)
}

/// The provided [`hash_read`](super::Backend::hash_read): `HGETALL`, then `PTTL` and `TIME`
/// for a hash that exists. A third-party backend runs the Lua, memory the twin;
/// [`RedisBackend`](crate::RedisBackend) overrides the method with `HGETALL` and `PTTL` as
/// plain commands.
pub(crate) static HASH_READ: Script<Option<HashRead>> = Script::new(
    "core.hash_read",
    r"
local h = redis.call('HGETALL', KEYS[1])
if #h == 0 then
  return false
end
local t = redis.call('TIME')
return {h, redis.call('PTTL', KEYS[1]), t[1], t[2]}
",
    |call| {
        let now = call.now_micros();
        let slot = call.slot(0)?;
        let ttl = slot.ttl().unwrap_or(Duration::MAX);
        match slot.value() {
            None => Ok(None),
            Some(Value::Hash(h)) => Ok(Some(HashRead::new(h.clone(), ttl, now))),
            Some(other) => Err(wrong_type(other)),
        }
    },
    |reply| {
        if reply.is_nil() {
            return Ok(None);
        }
        let [fields, ttl, secs, micros] = reply.into_tuple()?;
        let Some(ttl) = pttl(ttl.into_int()?) else {
            return Ok(None);
        };
        let (secs, micros) = (secs.into_int()?, micros.into_int()?);
        let now = u64::try_from(secs.saturating_mul(1_000_000).saturating_add(micros)).unwrap_or(0);
        Ok(Some(HashRead::new(hash_fields(list(fields)?)?, ttl, now)))
    },
);

pub(crate) static HASH_DELETE: Script<u64> = Script::new(
    "core.hash_delete",
    "return redis.call('HDEL', KEYS[1], unpack(ARGV))",
    |call| {
        let args = call.args();
        let fields = (0..args.len())
            .map(|i| args.str(i))
            .collect::<BackendResult<Vec<_>>>()?;
        let slot = call.slot(0)?;
        let removed = match slot.value_mut() {
            None => 0,
            Some(Value::Hash(h)) => fields.iter().filter(|f| h.remove(**f).is_some()).count(),
            Some(other) => return Err(wrong_type(other)),
        };
        if matches!(slot.value(), Some(Value::Hash(h)) if h.is_empty()) {
            slot.remove();
        }
        Ok(removed as u64)
    },
    count,
);

/// Takes a lease if free and draws a fencing token `max(previous + 1, TIME in µs)`.
/// Integers below 2^53 are exact in Lua's doubles; µs since 1970 stay below that until 2255.
/// Replicated: a lease a failover could lose is a lock two holders could take.
pub(crate) static ACQUIRE_LEASE: Script<Option<u64>> = Script::new(
    "core.acquire_lease",
    r"
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return false
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local token = math.max(prev + 1, now)
redis.call('SET', KEYS[2], string.format('%.0f', token), 'PX', ARGV[3])
return token
",
    |call| {
        let (owner, ttl, fence_ttl) = (call.args().bytes(0)?, ttl_arg(call, 1)?, ttl_arg(call, 2)?);
        let now = call.now_micros();
        if call.slot(0)?.value().is_some() {
            return Ok(None);
        }
        let previous = match call.slot(1)?.value() {
            Some(Value::Int(i)) => u64::try_from(*i).unwrap_or(0),
            Some(Value::Bytes(b)) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            _ => 0,
        };
        let token = call.next_token(previous.saturating_add(1).max(now));
        call.slot(0)?.set(Value::Bytes(owner), ttl);
        let fence = Value::Int(i64::try_from(token).unwrap_or(i64::MAX));
        call.slot(1)?.set(fence, fence_ttl);
        Ok(Some(token))
    },
    |reply| match reply {
        Reply::Nil => Ok(None),
        other => Ok(Some(u64::try_from(other.into_int()?).unwrap_or(0))),
    },
)
.replicated();

/// The TTL of the fence key, for [`ACQUIRE_LEASE`]'s third argument.
pub(crate) fn fence_ttl_ms() -> u64 {
    super::ttl_millis(FENCE_TTL)
}
