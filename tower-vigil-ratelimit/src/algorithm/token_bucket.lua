-- Token bucket: KEYS[i] is a hash {l = level in 1/period token units, t = µs it was measured}.
ALGO['tb'] = function(key, limit, period, burst, now, cost, mode)
  local cap = burst * period
  local level, ts = cap, now
  local s = redis.call('HMGET', key, 'l', 't')
  if s[1] and s[2] then
    level, ts = tonumber(s[1]), tonumber(s[2])
  end
  local elapsed = math.max(0, now - ts)
  if level < cap then
    if elapsed >= cdiv(cap - level, limit) then
      level = cap
    else
      level = level + elapsed * limit
    end
  end
  ts = math.max(ts, now)
  local need = cost * period
  local function put(new)
    local ttl = cdiv(cap - new, limit)
    if ttl > 0 then
      return function()
        redis.call('HSET', key, 'l', fmt(new), 't', fmt(ts))
        redis.call('PEXPIRE', key, px(ttl))
      end
    end
    return function() redis.call('DEL', key) end
  end
  local new, write = transition(mode, cost, math.min(math.max(level - need, 0), level),
    math.max(math.min(level + need, cap), level), level >= need, level - need)
  if new == nil then
    return 0, idiv(level, period), cdiv(cap - level, limit), cdiv(need - level, limit), nil
  end
  local w = nil
  if write then w = put(new) end
  return 1, idiv(new, period), cdiv(cap - new, limit), 0, w
end
