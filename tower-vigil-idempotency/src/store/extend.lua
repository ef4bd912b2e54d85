-- Renews the lease of an in-flight marker if ARGV[1] owns it.
-- KEYS[1] the record key; ARGV[1] the owner token; ARGV[2] the lease in ms. Returns 1 or 0.
-- A value this layer did not write is never touched (and HMGET on it would be an error).
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then
  return 0
end
local h = redis.call('HMGET', KEYS[1], 's', 'o')
if h[1] == 'p' and h[2] == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
