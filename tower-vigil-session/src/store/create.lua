-- Creates the session hash at KEYS[1] unless it exists.
-- ARGV: secret (SHA-256 of the token), idle_ms, absolute_ms (0: none), then field/value pairs.
-- Returns 1 created, 0 exists.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local abs = 0
if tonumber(ARGV[3]) > 0 then
  abs = now + tonumber(ARGV[3])
  if abs - now < ttl then ttl = abs - now end
end
redis.call('HSET', KEYS[1], '_sec', ARGV[1], '_created', string.format('%.0f', now),
  '_last', string.format('%.0f', now), '_abs', string.format('%.0f', abs))
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
