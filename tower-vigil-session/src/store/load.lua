-- Loads the session hash at KEYS[1].
-- ARGV[1]: the SHA-256 of the token, which the session's _sec must equal ('' : no check, for
-- listing a user's sessions).
-- Returns false when it does not exist, holds another secret, or is past its absolute expiry
-- (then it is deleted); else {now_ms, pttl_ms, {field, value, ...}}.
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
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], '_sec') ~= ARGV[1] then
  return false
end
return {now, redis.call('PTTL', KEYS[1]), all}
