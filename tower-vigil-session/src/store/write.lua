-- Writes changed fields of the session hash at KEYS[1], only if it exists and holds the
-- secret: a write racing a logout, an expiry or a cycled token never brings a session back.
-- ARGV: secret, idle_ms, n (fields to set), n field/value pairs, then fields to delete.
-- Sets _last to now and the TTL to min(idle, _abs - now). Returns 1 written, 0 gone.
if redis.call('HGET', KEYS[1], '_sec') ~= ARGV[1] then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local abs = tonumber(redis.call('HGET', KEYS[1], '_abs') or '0') or 0
if abs > 0 then
  if abs - now < ttl then ttl = abs - now end
  if ttl <= 0 then
    redis.call('DEL', KEYS[1])
    return 0
  end
end
local n = tonumber(ARGV[3])
for i = 4, 3 + 2 * n, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
for i = 4 + 2 * n, #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
end
redis.call('HSET', KEYS[1], '_last', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
