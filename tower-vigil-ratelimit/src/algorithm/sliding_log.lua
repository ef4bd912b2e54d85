-- Sliding-window log: KEYS[i] is a sorted set of admitted units scored by µs; members are
-- '<µs>:<8-digit sequence>' so several units at the same µs stay distinct.
ALGO['sl'] = function(key, limit, period, burst, now, cost, mode)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  local top_seq = -1
  if top[2] then
    local newest = tonumber(top[2])
    if newest >= now then
      now = newest
      top_seq = tonumber(string.match(top[1], ':(%d+)$'))
    end
  end
  local cutoff = now - period
  local n = redis.call('ZCOUNT', key, '(' .. fmt(cutoff), '+inf')
  local newest = nil
  if n > 0 then newest = tonumber(top[2]) end
  local function reset_of(count, nw)
    if nw and count > 0 then return nw + period - now end
    return 0
  end
  -- delta > 0: that many units logged at `now`; delta < 0: that many newest entries removed.
  local delta, write = transition(mode, cost, math.min(cost, limit), -math.min(cost, n),
    n + cost <= limit, cost)
  if delta ~= nil then
    local insert, remove_newest = math.max(delta, 0), math.max(-delta, 0)
    local cap = math.max(limit, n)
    local count = math.min(n + insert, cap) - remove_newest
    local nw = newest
    if insert > 0 then nw = now end
    local ttl = reset_of(count, nw)
    local w = nil
    if write and count > 0 then
      w = function()
        redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(cutoff))
        local at = fmt(now)
        local i = 0
        while i < insert do
          local args = {}
          local j = 0
          while j < 500 and i < insert do
            top_seq = top_seq + 1
            args[#args + 1] = at
            args[#args + 1] = at .. ':' .. string.format('%08d', top_seq)
            i = i + 1
            j = j + 1
          end
          redis.call('ZADD', key, unpack(args))
        end
        redis.call('ZREMRANGEBYRANK', key, 0, -(cap + 1))
        if remove_newest > 0 then
          redis.call('ZREMRANGEBYRANK', key, -remove_newest, -1)
        end
        redis.call('PEXPIRE', key, px(ttl))
      end
    elseif write then
      w = function() redis.call('DEL', key) end
    end
    return 1, math.max(limit - count, 0), ttl, 0, w
  end
  local retry
  if cost > limit then
    retry = period
  else
    local k = n + cost - limit - 1
    local e = redis.call('ZRANGEBYSCORE', key, '(' .. fmt(cutoff), '+inf', 'WITHSCORES', 'LIMIT', k, 1)
    retry = tonumber(e[2]) + period - now
  end
  return 0, math.max(limit - n, 0), reset_of(n, newest), retry, nil
end
