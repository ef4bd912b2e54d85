-- GCRA: KEYS[i] holds the theoretical arrival time (µs) as a plain integer string.
ALGO['g'] = function(key, limit, period, burst, now, cost, mode)
  local t = cdiv(period, limit)
  local tau = t * burst
  local tat = now
  local stored = redis.call('GET', key)
  if stored then tat = math.max(tonumber(stored), now) end
  local function put(new)
    if new > now then
      return function() redis.call('SET', key, fmt(new), 'PX', px(new - now)) end
    end
    return function() redis.call('DEL', key) end
  end
  local new = tat + cost * t
  local allow_at = new - tau
  local after, write = transition(mode, cost, math.min(new, math.max(tat, now + tau)),
    math.max(tat - cost * t, now), now >= allow_at, new)
  if after == nil then
    return 0, idiv(math.max(0, tau - (tat - now)), t), tat - now, allow_at - now, nil
  end
  local w = nil
  if write then w = put(after) end
  return 1, idiv(math.max(0, tau - (after - now)), t), after - now, 0, w
end
