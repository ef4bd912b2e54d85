-- Prelude of the index scripts: a user index written by an earlier version is a plain set whose
-- TTL outlives every member. Turn it into the sorted set, each member scored by that TTL, so
-- no session it lists escapes a revoke-all after an upgrade. Defines `now` (ms, server TIME).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('TYPE', KEYS[1]).ok == 'set' then
  local left = redis.call('PTTL', KEYS[1])
  if left < 0 then left = 10 * 365 * 24 * 3600 * 1000 end
  local old = redis.call('SMEMBERS', KEYS[1])
  redis.call('DEL', KEYS[1])
  for _, m in ipairs(old) do
    redis.call('ZADD', KEYS[1], string.format('%.0f', now + left), m)
  end
  if #old > 0 then
    redis.call('PEXPIRE', KEYS[1], left)
  end
end
