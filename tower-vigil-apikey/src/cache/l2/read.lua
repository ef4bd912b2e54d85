-- Reads a cached key record and the key's revocation generation in one round trip.
-- KEYS[1] the record (apikey:{hash}), KEYS[2] the generation (apikey:{hash}:rev).
-- Returns {record or false, generation (0 when never revoked)}.
local record = redis.call('GET', KEYS[1])
local rev = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
return {record, rev}
