-- Indexes session ARGV[1] in the per-user sorted set at KEYS[1], scored by the member's deadline
-- (ms since the epoch, this server's TIME) plus ARGV[3] ms of grace, and prunes the members whose
-- score has passed: the set holds a user's live sessions, never their whole history.
-- ARGV: member, ttl_ms (how long the session may live from now), grace_ms (clock skew allowed
-- between this node and the session's node on a cluster).
-- A member's score only grows. The set's TTL is its highest score minus now.
-- Returns the deadline (now + ttl_ms): the caller caps the session's expiry at it, so the session
-- never outlives its index entry.
-- (`now` comes from index_legacy.lua, run first.)
local deadline = now + tonumber(ARGV[2])
local score = deadline + tonumber(ARGV[3])
local old = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0')
if old < score then
  redis.call('ZADD', KEYS[1], string.format('%.0f', score), ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', tonumber(top[2]) - now))
return deadline
