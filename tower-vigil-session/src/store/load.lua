-- Reads the session hash at KEYS[1]. ARGV: secret (SHA-256 of the token; '' for none: the
-- admin reads a session by its id hash). Returns nil when it does not exist, when it is past
-- its absolute expiry `_abs` (then it is deleted; on this server's clock, as every write), or
-- when ARGV[1] is not its `_sec`. Else {its fields (flat: name, value, ...), its PTTL, now (ms
-- since the epoch, this server's TIME)}: `_sec` goes back only to a caller that presented it
-- (or to the admin), and the caller drops it. The hash is returned as HGETALL gave it, not
-- copied into a new table: converting it is most of what this script costs.
local h = redis.call('HGETALL', KEYS[1])
if #h == 0 then
  return nil
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sec = false
local abs = 0
for i = 1, #h, 2 do
  if h[i] == '_sec' then
    sec = h[i + 1]
  elseif h[i] == '_abs' then
    abs = tonumber(h[i + 1]) or 0
  end
end
if abs > 0 and now >= abs then
  redis.call('DEL', KEYS[1])
  return nil
end
if ARGV[1] ~= '' and sec ~= ARGV[1] then
  return nil
end
return {h, redis.call('PTTL', KEYS[1]), now}
