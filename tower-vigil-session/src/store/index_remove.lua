-- (After index_legacy.lua.) Removes the members ARGV from the per-user sorted set at KEYS[1];
-- returns how many were there.
local n = 0
for i = 1, #ARGV do
  n = n + redis.call('ZREM', KEYS[1], ARGV[i])
end
return n
