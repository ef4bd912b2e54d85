-- Stores a record fetched from the key store, unless the key was revoked since the caller
-- read the generation: a fill racing a revocation must never bring the key back.
-- KEYS[1] the record, KEYS[2] the generation; ARGV[1] the generation the caller read,
-- ARGV[2] the record, ARGV[3] its TTL in milliseconds. Returns 1 when stored, 0 when not.
local rev = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if rev ~= tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
