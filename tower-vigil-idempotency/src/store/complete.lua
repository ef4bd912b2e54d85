-- Replaces the in-flight marker owned by ARGV[1] with the completed record.
-- KEYS[1] the record key; ARGV[1] the owner token; ARGV[2] the encoded response;
-- ARGV[3] the retention in ms. Returns 1, or 0 when ARGV[1] does not hold the key.
-- A value this layer did not write is never touched (and HMGET on it would be an error).
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then
  return 0
end
local h = redis.call('HMGET', KEYS[1], 's', 'o')
if h[1] ~= 'p' or h[2] ~= ARGV[1] then
  return 0
end
-- HDEL first: it needs no memory, and Redis lets a script that has written finish past
-- `maxmemory`, so a full Redis (noeviction) still keeps the outcome of work that already ran
-- rather than refusing it with OOM (issue 13). Keep it the first write.
redis.call('HDEL', KEYS[1], 'o')
redis.call('HSET', KEYS[1], 's', 'c', 'r', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
