import { DELIVERY_SECONDS_BOUNDS } from '../analytics/delivery-bins.js';
import { DELIVERY_COUNTS } from './redis-delivery-stats.keys.js';
import type { Script } from './redis-dlr.scripts.js';

/** What the tally script takes per tally, after its head (see `DELIVERY_TALLY`). */
export const TALLY_ARGS = 8;

/**
 * The Lua both scripts share: a row (a channel and country's counters: `counts`, and failures
 * by the reason's JSON text, kept in first-seen `order`), read from and written to the packed
 * value of its field (`addDeliveryValue` reads the same text). Reasons stay the JSON text the
 * caller gave: the scripts never decode them.
 */
const ROW_LUA = `
local COUNTS = ${DELIVERY_COUNTS}
local function new_row()
  local counts = {}
  for i = 1, COUNTS do counts[i] = 0 end
  return { counts = counts, order = {}, reasons = {} }
end
local function add_reason(row, reason, n)
  local had = row.reasons[reason]
  if not had then
    row.order[#row.order + 1] = reason
    had = 0
  end
  row.reasons[reason] = had + n
end
-- Adds a packed value: the counts joined by commas, then lines of "<count>,<reason JSON>".
local function merge(row, text)
  local first = true
  for line in string.gmatch(text, '[^\\n]+') do
    if first then
      first = false
      local k = 0
      for n in string.gmatch(line, '[^,]+') do
        k = k + 1
        if k <= COUNTS then row.counts[k] = row.counts[k] + (tonumber(n) or 0) end
      end
    else
      local n, reason = string.match(line, '^(%d+),(.+)$')
      if n then add_reason(row, reason, tonumber(n)) end
    end
  end
end
local function merge_row(row, other)
  for k = 1, COUNTS do row.counts[k] = row.counts[k] + other.counts[k] end
  for _, reason in ipairs(other.order) do add_reason(row, reason, other.reasons[reason]) end
end
-- Counts stay far below 1e14, which Lua prints as integers (%.14g).
local function pack(row)
  local lines = { table.concat(row.counts, ',') }
  for _, reason in ipairs(row.order) do lines[#lines + 1] = row.reasons[reason] .. ',' .. reason end
  return table.concat(lines, '\\n')
end
`;

/**
 * Decides which steps of a call count, atomically per message, and counts them. The KEYS are
 * the per-message hashes (`RedisDeliveryKeys.state`), then, when ARGV[2] is `'1'` (standalone
 * Redis: one script for the whole call), the bucket hashes it adds to.
 *
 * ARGV: the message TTL in seconds, apply (`'1'`/`'0'`), how many message KEYS, how many
 * `EXPIREAT`s follow (one per bucket hash when applying, else none), how many tallies; then
 * those `EXPIREAT`s; then per tally (`TALLY_ARGS`): its message's KEYS index, step (`s`, `d`,
 * `f`), `at` (ms), the index (from 1) of its minute, block of ten and hour hash, the field of its
 * channel and country (`deliveryPairField`), and the failure reason as JSON.
 *
 * Applying, each field changed is read, added to and written back (`HGET`, `HSET`), atomic
 * inside the script. Answers `{ answers }` when it applied the counts, else
 * `{ answers, counts }` for the caller to add (Redis Cluster, where the bucket hashes are in
 * other slots): `counts` is flat `hash index, field, packed value` triples, for `DELIVERY_ADD`.
 * `answers[i]` is the ms from start to the i-th tally's delivery when it counted with a known
 * start, else `''`. The duration bins come from `DELIVERY_SECONDS_BOUNDS`, so that Lua and
 * `deliveryBinOf` cannot disagree.
 */
export const DELIVERY_TALLY: Script = {
  name: 'messenteDlrDeliveryTally2',
  lua: `${ROW_LUA}
local BOUNDS = { ${DELIVERY_SECONDS_BOUNDS.join(', ')} }
local ttl, apply = ARGV[1], ARGV[2] == '1'
local states, hashes, tallies = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
-- adds[hash index][field]: the row of counts this call adds there.
local adds = {}
local function add(h, field, k, reason)
  local rows = adds[h]
  if not rows then
    rows = {}
    adds[h] = rows
  end
  local row = rows[field]
  if not row then
    row = new_row()
    rows[field] = row
  end
  if reason then add_reason(row, reason, 1) else row.counts[k] = row.counts[k] + 1 end
end
local answers = {}
for t = 0, tallies - 1 do
  local i = 5 + hashes + t * ${TALLY_ARGS}
  local state, step, at = KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], ARGV[i + 3]
  local minute, ten, hour = tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6])
  local field, reason = ARGV[i + 7], ARGV[i + 8]
  -- k: 1 started, 2 delivered, 3 failed, 4 + bin a duration bin; or a reason.
  local function count(k, why)
    add(minute, field, k, why)
    add(ten, field, k, why)
    add(hour, field, k, why)
  end
  -- Numbers are written back as the caller's strings: Lua prints only 14 digits.
  local start = redis.call('HGET', state, 'at')
  local answer, changed = '', false
  if not start then
    redis.call('HSET', state, 'at', at)
    changed = true
    count(1)
  elseif step == 's' and tonumber(at) < tonumber(start) then
    redis.call('HSET', state, 'at', at)
    changed = true
  end
  if step ~= 's' and redis.call('HSETNX', state, 'final', '1') == 1 then
    changed = true
    if step == 'f' then
      count(3)
      count(nil, reason)
    else
      count(2)
      -- A message first heard of by its delivery has no duration.
      if start then
        local ms = tonumber(at) - tonumber(start)
        local bin = #BOUNDS
        for b = 1, #BOUNDS do
          if ms / 1000 <= BOUNDS[b] then
            bin = b - 1
            break
          end
        end
        count(4 + bin)
        answer = tostring(ms)
      end
    end
  end
  if changed then redis.call('EXPIRE', state, ttl) end
  answers[t + 1] = answer
end
if apply then
  for h, rows in pairs(adds) do
    local key = KEYS[states + h]
    for field, delta in pairs(rows) do
      local row = new_row()
      local stored = redis.call('HGET', key, field)
      if stored then merge(row, stored) end
      merge_row(row, delta)
      redis.call('HSET', key, field, pack(row))
    end
    redis.call('EXPIREAT', key, ARGV[5 + h])
  end
  return { answers }
end
local counts = {}
for h, rows in pairs(adds) do
  for field, delta in pairs(rows) do
    counts[#counts + 1] = h
    counts[#counts + 1] = field
    counts[#counts + 1] = pack(delta)
  end
end
return { answers, counts }
`,
};

/**
 * Adds counts to bucket hashes of one slot (one hour's, on Redis Cluster): KEYS are the
 * hashes; ARGV the `EXPIREAT` of each, then `KEYS index, field, packed value` triples (as
 * `DELIVERY_TALLY` answers them; one field may come more than once). Each field is read once,
 * added to and written once.
 */
export const DELIVERY_ADD: Script = {
  name: 'messenteDlrDeliveryAdd2',
  lua: `${ROW_LUA}
local n = #KEYS
local rows = {}
for i = n + 1, #ARGV, 3 do
  local k, field = tonumber(ARGV[i]), ARGV[i + 1]
  local own = rows[k]
  if not own then
    own = {}
    rows[k] = own
  end
  local row = own[field]
  if not row then
    row = new_row()
    local stored = redis.call('HGET', KEYS[k], field)
    if stored then merge(row, stored) end
    own[field] = row
  end
  merge(row, ARGV[i + 2])
end
for k, own in pairs(rows) do
  for field, row in pairs(own) do redis.call('HSET', KEYS[k], field, pack(row)) end
end
for k = 1, n do redis.call('EXPIREAT', KEYS[k], ARGV[k]) end
`,
};

/** The scripts of the delivery analytics, for `defineScripts`. */
export const DELIVERY_SCRIPTS: readonly Script[] = [DELIVERY_TALLY, DELIVERY_ADD];
