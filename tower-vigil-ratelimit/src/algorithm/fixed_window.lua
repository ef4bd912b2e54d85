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
  if mode == 2 or mode == 3 then
    local c
    if mode == 2 then
      c = math.max(math.min(count + cost, limit), count)
    else
      c = math.max(count - cost, 0)
    end
    return 1, math.max(limit - c, 0), reset, 0, put(c)
  end
  if count + cost <= limit then
    local c = count + cost
    local w = nil
    if mode == 0 and cost > 0 then w = put(c) end
    return 1, math.max(limit - c, 0), reset, 0, w
  end
  return 0, math.max(limit - count, 0), reset, reset, nil
end
