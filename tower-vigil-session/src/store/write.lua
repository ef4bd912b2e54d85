-- Writes changed fields of the session hash at KEYS[1], only if it exists and holds the
-- secret: a write racing a logout, an expiry or a cycled token never brings a session back.
-- ARGV: secret, idle_ms, not_after (ms since the epoch: a new deadline of the session's entry in
-- its user's index, stored as `_dl`; 0: keep the stored one), reindex_ms (0: no check), n
-- (fields to set), n field/value pairs, then fields to delete.
-- Sets _last to now and the TTL to min(idle, _abs - now, _dl - now); a session past either is
-- deleted instead. Without a new deadline, when the stored one would cut the TTL by reindex_ms
-- or more (or a session with a user has none), nothing is written and 2 is returned: the
-- caller re-indexes the session first, so an active session is not ended by its deadline.
-- Returns 1 written, 0 gone, 2 re-index first.
if redis.call('HGET', KEYS[1], '_sec') ~= ARGV[1] then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local abs = tonumber(redis.call('HGET', KEYS[1], '_abs') or '0') or 0
if abs > 0 and abs - now < ttl then ttl = abs - now end
local cap = tonumber(ARGV[3])
if cap == 0 then
  cap = tonumber(redis.call('HGET', KEYS[1], '_dl') or '0') or 0
  local due = tonumber(ARGV[4])
  if due > 0 then
    if cap > 0 and ttl - (cap - now) >= due then
      return 2
    end
    -- A user's session without a deadline was indexed by an earlier version.
    if cap == 0 and redis.call('HEXISTS', KEYS[1], '_user') == 1 then
      return 2
    end
  end
end
if cap > 0 and cap - now < ttl then ttl = cap - now end
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return 0
end
local n = tonumber(ARGV[5])
for i = 6, 5 + 2 * n, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
for i = 6 + 2 * n, #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
end
if tonumber(ARGV[3]) > 0 then
  redis.call('HSET', KEYS[1], '_dl', ARGV[3])
end
redis.call('HSET', KEYS[1], '_last', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
