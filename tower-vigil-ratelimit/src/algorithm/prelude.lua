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

-- The tail every algorithm shares once it has read its state (twin: `transition` in mode.rs):
-- charge (mode 2) and refund (mode 3) move the state by the cost within its bounds and always
-- write; acquire (0) and peek (1) take `admitted` when `fits`, written only by an acquire of
-- some cost. Returns the state after the call and whether to write it; nil when denied.
local function transition(mode, cost, charged, refunded, fits, admitted)
  if mode == 2 then return charged, true end
  if mode == 3 then return refunded, true end
  if fits then return admitted, mode == 0 and cost > 0 end
  return nil, false
end
