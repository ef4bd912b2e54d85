-- Loads the session hash at KEYS[1].
-- Returns false when it does not exist or is past its absolute expiry (then deletes it), else
-- {now_ms, pttl_ms, {field, value, ...}}. With ARGV[1] == '1' the session is deleted after
-- being read (cycling its id: nothing can write to the old key afterwards).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
if #all == 0 then
  return false
end
local abs = tonumber(redis.call('HGET', KEYS[1], '_abs') or '0') or 0
if abs > 0 and now >= abs then
  redis.call('DEL', KEYS[1])
  return false
end
local ttl = redis.call('PTTL', KEYS[1])
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[1])
end
return {now, ttl, all}
