-- Renews the lease of an in-flight marker if ARGV[1] owns it.
-- KEYS[1] the record key; ARGV[1] the owner token; ARGV[2] the lease in ms. Returns 1 or 0.
local h = redis.call('HMGET', KEYS[1], 's', 'o')
if h[1] == 'p' and h[2] == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
