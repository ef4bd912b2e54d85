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
  if mode == 2 or mode == 3 then
    local new
    if mode == 2 then
      new = math.min(tat + cost * t, math.max(tat, now + tau))
    else
      new = math.max(tat - cost * t, now)
    end
    return 1, idiv(math.max(0, tau - (new - now)), t), new - now, 0, put(new)
  end
  local new = tat + cost * t
  local allow_at = new - tau
  if now >= allow_at then
    local w = nil
    if mode == 0 and cost > 0 then w = put(new) end
    return 1, idiv(tau - (new - now), t), new - now, 0, w
  end
  return 0, idiv(math.max(0, tau - (tat - now)), t), tat - now, allow_at - now, nil
end
