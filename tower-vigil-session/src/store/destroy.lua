-- Deletes the session hash at KEYS[1] if it holds the secret ARGV[1] ('' : unconditionally,
-- for revoking a user's sessions). Returns 1 deleted, 0 not.
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], '_sec') ~= ARGV[1] then
  return 0
end
return redis.call('DEL', KEYS[1])
