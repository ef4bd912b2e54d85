-- Reads an idempotency key without changing it.
-- KEYS[1]  the record key (the hash layout of claim.lua)
-- Returns {code, lease ms left, record}: 0 free, 1 in flight, 2 completed, 4 unreadable
-- (the key holds something the store did not write).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, 0, ''}
end
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then
  return {4, 0, ''}
end
local h = redis.call('HMGET', KEYS[1], 's', 'r')
if h[1] == 'c' then
  return {2, 0, h[2] or ''}
end
if h[1] == 'p' then
  return {1, redis.call('PTTL', KEYS[1]), ''}
end
return {4, 0, ''}
