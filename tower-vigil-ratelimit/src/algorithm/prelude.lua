-- tower-vigil-ratelimit: helpers shared by every algorithm. Numbers are doubles: every value
-- stays an integer below 2^53, and divisions are corrected to exact integer division.
local ALGO = {}

local function idiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then
    q = q - 1
  elseif (q + 1) * b <= a then
    q = q + 1
  end
  return q
end

local function cdiv(a, b)
  if a <= 0 then return 0 end
  return idiv(a + b - 1, b)
end

-- Integers are written as plain digits (tostring would use %.14g and lose precision).
local function fmt(n)
  return string.format('%.0f', n)
end

-- A TTL in µs as PX milliseconds: rounded up, plus one second of slack so that an app clock
-- a little behind Redis' never sees its state expire early.
local function px(ttl)
  return fmt(cdiv(ttl, 1000) + 1000)
end
