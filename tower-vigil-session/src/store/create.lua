-- Creates the session hash at KEYS[1] unless it exists.
-- ARGV: secret (SHA-256 of the token), idle_ms, absolute_ms (0: none), not_after (ms since the
-- epoch, 0: none: the deadline of the session's entry in its user's index, kept as `_dl`: the
-- session never outlives it), then field/value pairs. The TTL is
-- min(idle_ms, _abs - now, not_after - now).
-- Returns 1 created, 0 exists, -1 not_after has passed (nothing written).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local cap = tonumber(ARGV[4])
local abs = 0
if tonumber(ARGV[3]) > 0 then
  abs = now + tonumber(ARGV[3])
  if abs - now < ttl then ttl = abs - now end
end
if cap > 0 and cap - now < ttl then ttl = cap - now end
if ttl <= 0 then
  return -1
end
redis.call('HSET', KEYS[1], '_sec', ARGV[1], '_created', string.format('%.0f', now),
  '_last', string.format('%.0f', now), '_abs', string.format('%.0f', abs))
if cap > 0 then
  redis.call('HSET', KEYS[1], '_dl', ARGV[4])
end
for i = 5, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
