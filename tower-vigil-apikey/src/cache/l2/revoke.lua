-- Revokes a key in the shared cache: bumps its generation (so in-flight fills fail) and
-- deletes its record. KEYS[1] the record, KEYS[2] the generation; ARGV[1] the generation's
-- TTL in milliseconds (at least the record TTL). Returns the new generation.
--
-- The generation is max(previous + 1, server TIME in µs), like core's fencing tokens: once
-- the generation key has expired, "previous" reads 0, and a plain INCR would hand out 1, 2, …
-- again, so a fill stamped with an old generation could match a new one (ABA). The server
-- clock has moved on by at least the TTL since then, so the floor keeps every generation above
-- every earlier one. µs since 1970 stay below 2^53 (exact in Lua's doubles) until 2255.
--
-- The record is deleted first: a delete needs no memory, so on a full Redis (`maxmemory`
-- under `noeviction`) the revoked record is gone anyway, and Redis lets a script that has
-- written go on past the limit, so the generation is bumped too. Setting the generation
-- first would fail with OOM and leave the revoked record served from L2 (issue 13).
redis.call('DEL', KEYS[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local prev = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
local rev = math.max(prev + 1, now)
redis.call('SET', KEYS[2], string.format('%.0f', rev), 'PX', ARGV[1])
return rev
