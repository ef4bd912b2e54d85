-- Creates the session hash at KEYS[1] unless it exists.
-- ARGV: idle_ms, absolute_ms (0: none), carried created_ms ('' : now), carried absolute_at_ms
-- ('' : now + absolute_ms, or 0), then field/value pairs.
-- Returns 1 created, 0 exists, -1 the carried absolute expiry has passed.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local idle = tonumber(ARGV[1])
local created = now
if ARGV[3] ~= '' then created = tonumber(ARGV[3]) end
local abs = 0
if ARGV[4] ~= '' then
  abs = tonumber(ARGV[4])
elseif tonumber(ARGV[2]) > 0 then
  abs = now + tonumber(ARGV[2])
end
local ttl = idle
if abs > 0 then
  if abs - now < ttl then ttl = abs - now end
  if ttl <= 0 then return -1 end
end
redis.call('HSET', KEYS[1], '_created', string.format('%.0f', created),
  '_last', string.format('%.0f', now), '_abs', string.format('%.0f', abs))
for i = 5, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
