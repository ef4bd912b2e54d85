//! The Lua scripts behind the compound primitives of the [`Backend`](crate::Backend) trait.
//! Each runs atomically on the server and touches only keys it is given (cluster-safe).

use std::sync::LazyLock;

use redis::Script;

/// `INCRBY` and, for a new counter, `PEXPIRE` (a fixed window keeps its first expiry).
/// `PEXPIRE … NX` would do it in one command but needs Redis 7.0; we support 6.2.
pub(crate) static INCR_BY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return n
",
    )
});

/// Deletes the key if it holds the expected owner token.
pub(crate) static COMPARE_AND_DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
    )
});

/// Resets the TTL if the key holds the expected owner token.
pub(crate) static COMPARE_AND_EXTEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
",
    )
});

/// `SADD` then `PEXPIRE`, atomically, so an index set never exists without a TTL.
pub(crate) static SET_ADD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local ttl = table.remove(ARGV, 1)
local n = redis.call('SADD', KEYS[1], unpack(ARGV))
redis.call('PEXPIRE', KEYS[1], ttl)
return n
",
    )
});

/// `HSET` then `PEXPIRE`, atomically.
pub(crate) static HASH_SET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local ttl = table.remove(ARGV, 1)
redis.call('HSET', KEYS[1], unpack(ARGV))
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
",
    )
});

/// Takes a lease if free and draws a fencing token `max(previous + 1, TIME in µs)`.
/// Integers below 2^53 are exact in Lua's doubles; µs since 1970 stay below that until 2255.
pub(crate) static ACQUIRE_LEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
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
    )
});
