-- Sliding-window counter: KEYS[i] is a hash {w = window index, c = its count, p = previous}.
ALGO['sc'] = function(key, limit, period, burst, now, cost, mode)
  local w = period
  local idx = idiv(now, w)
  local e = now - idx * w
  local cur, prev = 0, 0
  local s = redis.call('HMGET', key, 'w', 'c', 'p')
  if s[1] and s[2] and s[3] then
    local sw, c, pv = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
    if sw > idx then
      idx, e, cur, prev = sw, 0, c, pv
    elseif sw == idx then
      cur, prev = c, pv
    elseif sw == idx - 1 then
      prev = c
    end
  end
  local weight = w - e
  local cap = limit * w
  local function reset(c, pv)
    if c > 0 then return weight + w elseif pv > 0 then return weight end
    return 0
  end
  local function put(c)
    if c == 0 and prev == 0 then
      return function() redis.call('DEL', key) end
    end
    return function()
      redis.call('HSET', key, 'w', fmt(idx), 'c', fmt(c), 'p', fmt(prev))
      redis.call('PEXPIRE', key, px(reset(c, prev)))
    end
  end
  local function rem(c)
    return idiv(math.max(cap - prev * weight - c * w, 0), w)
  end
  local c, write = transition(mode, cost, math.max(math.min(cur + cost, limit), cur),
    math.max(cur - cost, 0), prev * weight + (cur + cost) * w <= cap, cur + cost)
  if c ~= nil then
    local wr = nil
    if write then wr = put(c) end
    return 1, rem(c), reset(c, prev), 0, wr
  end
  local free = limit - cur - cost
  local retry
  if free >= 0 then
    retry = (w - idiv(free * w, prev)) - e
  elseif cost > limit then
    retry = weight + w
  else
    retry = weight + math.max(w - idiv((limit - cost) * w, cur), 0)
  end
  return 0, rem(cur), reset(cur, prev), retry, nil
end
