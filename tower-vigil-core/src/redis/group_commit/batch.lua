-- The tail of a batch: `one` (the script's own Lua, wrapped as a function of KEYS and ARGV
-- above this line) decided for each call in turn, atomically as one script.
-- ARGV[1] = n; ARGV[2i], ARGV[2i+1] = call i's key and argument counts; then every call's
-- arguments in order. KEYS = every call's keys in order.
-- Each answer is {1} (the call returned nil or false), {1, value}, or {0, message} (it
-- failed: an error reply, or a Lua error caught here so that the other calls still answer).
local n = tonumber(ARGV[1])
local answers = {}
local k, a = 0, 1 + 2 * n
for i = 1, n do
  local nk, na = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local keys, args = {}, {}
  for j = 1, nk do keys[j] = KEYS[k + j] end
  for j = 1, na do args[j] = ARGV[a + j] end
  k, a = k + nk, a + na
  local ok, res = pcall(one, keys, args)
  if not ok then
    if type(res) == 'table' then res = res.err end
    answers[i] = {0, tostring(res)}
  elseif type(res) == 'table' and res.err then
    answers[i] = {0, res.err}
  elseif res == nil or res == false then
    answers[i] = {1}
  else
    answers[i] = {1, res}
  end
end
return answers
