-- Fixed window: KEYS[i] is a hash {w = window index, c = count}.
ALGO['fw'] = function(key, limit, period, burst, now, cost, mode)
  local idx = idiv(now, period)
  local count = 0
  local s = redis.call('HMGET', key, 'w', 'c')
  if s[1] and s[2] and tonumber(s[1]) >= idx then
    idx, count = tonumber(s[1]), tonumber(s[2])
  end
  local reset = (idx + 1) * period - now
  local function put(c)
    if c > 0 then
      return function()
        redis.call('HSET', key, 'w', fmt(idx), 'c', fmt(c))
        redis.call('PEXPIRE', key, px(reset))
      end
    end
    return function() redis.call('DEL', key) end
  end
  local c, write = transition(mode, cost, math.max(math.min(count + cost, limit), count),
    math.max(count - cost, 0), count + cost <= limit, count + cost)
  if c == nil then return 0, math.max(limit - count, 0), reset, reset, nil end
  local w = nil
  if write then w = put(c) end
  return 1, math.max(limit - c, 0), reset, 0, w
end
