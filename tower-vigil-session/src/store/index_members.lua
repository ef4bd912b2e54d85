-- The members of the per-user sorted set at KEYS[1] whose score (deadline plus grace, ms since
-- the epoch) has not passed, after removing those whose score has.
-- (`now` comes from index_legacy.lua, run first.)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
return redis.call('ZRANGE', KEYS[1], 0, -1)
