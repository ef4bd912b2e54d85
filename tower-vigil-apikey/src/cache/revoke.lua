-- Revokes a key in the shared cache: bumps its generation (so in-flight fills fail) and
-- deletes its record. KEYS[1] the record, KEYS[2] the generation; ARGV[1] the generation's
-- TTL in milliseconds (at least the record TTL). Returns the new generation.
local rev = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return rev
