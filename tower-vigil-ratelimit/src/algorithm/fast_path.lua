-- tower-vigil-ratelimit: the script's head. It reads the arguments, then answers the usual
-- call (one GCRA policy, acquire or peek) straight through, before any algorithm is defined:
-- the same arithmetic as ALGO['g'] (gcra.lua) and the dispatcher, without their closures and
-- tables. Every dividend is an integer below 2^53 (the quota's products are validated below
-- 2^52), where math.floor of the double quotient is the exact integer quotient.
-- ARGV: now in µs ('' = Redis TIME), cost, mode, then per key: code, limit, period µs, burst.
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
local cost = tonumber(ARGV[2])
local mode = tonumber(ARGV[3])
if #KEYS == 1 and mode <= 1 and ARGV[4] == 'g' then
  local limit = tonumber(ARGV[5])
  local burst = tonumber(ARGV[7])
  -- c = min(cost, max(limit, burst) + 1), without the library calls.
  local cap = limit
  if burst > cap then cap = burst end
  local c = cost
  if c > cap + 1 then c = cap + 1 end
  local t = math.floor((tonumber(ARGV[6]) + limit - 1) / limit)
  local tau = t * burst
  local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
  if tat < now then tat = now end
  local new = tat + c * t
  if new - tau > now then
    local rem = tau - (tat - now)
    if rem < 0 then rem = 0 end
    return {0, math.floor(rem / t), tat - now, new - tau - now}
  end
  if mode == 0 and c > 0 then
    -- new > now here (c * t >= 1). Only the TAT needs %.0f: the PX milliseconds stay below
    -- 10^14, which Redis' number-to-string conversion (%.14g) writes as plain digits.
    redis.call('SET', KEYS[1], string.format('%.0f', new), 'PX',
      math.floor((new - now + 999) / 1000) + 1000)
  end
  return {1, math.floor((tau - (new - now)) / t), new - now, 0}
end
