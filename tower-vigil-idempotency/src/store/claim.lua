-- Claims an idempotency key in one step.
-- KEYS[1]  the record key (a hash: s = 'p' in flight | 'c' completed, f = fingerprint,
--          o = owner token while in flight, r = encoded response once completed)
-- ARGV[1]  the request fingerprint, ARGV[2] the owner token, ARGV[3] the lease in ms
-- Returns {code, lease ms left, record}: 0 acquired, 1 in flight, 2 completed, 3 mismatch,
-- 4 unreadable (the key holds something this script did not write).
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 's', 'p', 'f', ARGV[1], 'o', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {0, 0, ''}
end
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then
  return {4, 0, ''}
end
local h = redis.call('HMGET', KEYS[1], 's', 'f', 'r')
if h[1] ~= 'p' and h[1] ~= 'c' then
  return {4, 0, ''}
end
if h[2] ~= ARGV[1] then
  return {3, 0, ''}
end
if h[1] == 'c' then
  return {2, 0, h[3] or ''}
end
return {1, redis.call('PTTL', KEYS[1]), ''}
