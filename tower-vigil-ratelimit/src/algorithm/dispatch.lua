-- Decides every policy of one request at the same instant, then writes only if all allowed
-- (mode 0), never (mode 1, peek), or always (modes 2 and 3, charge and refund).
-- `now`, `cost` and `mode` are read in fast_path.lua, the script's head, which has
-- already answered the one-GCRA-policy acquire and peek.
local out = {}
local writers = {}
local all = true
for i = 1, #KEYS do
  local b = 3 + (i - 1) * 4
  local limit = tonumber(ARGV[b + 2])
  local burst = tonumber(ARGV[b + 4])
  local c = math.min(cost, math.max(limit, burst) + 1)
  local ok, rem, reset, retry, w =
    ALGO[ARGV[b + 1]](KEYS[i], limit, tonumber(ARGV[b + 3]), burst, now, c, mode)
  if ok == 0 then all = false end
  out[#out + 1] = ok
  out[#out + 1] = rem
  out[#out + 1] = reset
  out[#out + 1] = retry
  writers[i] = w
end
if mode == 2 or mode == 3 or (mode == 0 and all) then
  for i = 1, #KEYS do
    if writers[i] then writers[i]() end
  end
end
return out
