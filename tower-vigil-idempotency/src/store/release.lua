-- Deletes the in-flight marker owned by ARGV[1] so a retry can run.
-- KEYS[1] the record key; ARGV[1] the owner token. Returns 1, or 0 when ARGV[1] does not
-- hold the key (a completed record is never deleted).
-- A value this layer did not write is never touched (and HMGET on it would be an error).
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then
  return 0
end
local h = redis.call('HMGET', KEYS[1], 's', 'o')
if h[1] == 'p' and h[2] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
