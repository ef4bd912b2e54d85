-- Adds ARGV[1] to the per-user index set at KEYS[1] and extends its TTL to at least ARGV[2] ms
-- (never shortens it: the index must outlive every session it lists).
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
