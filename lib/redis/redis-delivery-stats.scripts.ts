import { DELIVERY_SECONDS_BOUNDS } from '../analytics/delivery-bins.js';
import type { Script } from './redis-dlr.scripts.js';

/** What the tally script takes per tally, after its head (see `DELIVERY_TALLY`). */
export const TALLY_ARGS = 7;

/**
 * Decides which steps of a call count, atomically per message, and counts them. The KEYS are
 * the per-message hashes (`RedisDeliveryKeys.state`), then, when ARGV[2] is `'1'` (standalone
 * Redis: one script for the whole call), the bucket hashes it adds to.
 *
 * ARGV: the message TTL in seconds, apply (`'1'`/`'0'`), how many message KEYS, how many
 * `EXPIREAT`s follow (one per bucket hash when applying, else none), how many tallies; then
 * those `EXPIREAT`s; then per tally (`TALLY_ARGS`): its message's KEYS index, step (`s`, `d`,
 * `f`), `at` (ms), the index (from 1) of its minute and of its hour hash, the row prefix of its
 * fields (`deliveryRowPrefix`), and the failure reason as JSON.
 *
 * Answers `{ answers }` when it applied the counts, else `{ answers, counts }` for the caller
 * to add (Redis Cluster, where the bucket hashes are in other slots): `counts` is flat
 * `hash index, field, amount` triples. `answers[i]` is the ms from start to the i-th tally's
 * delivery when it counted with a known start, else `''`. The duration bins come from
 * `DELIVERY_SECONDS_BOUNDS`, so that Lua and `deliveryBinOf` cannot disagree.
 */
export const DELIVERY_TALLY: Script = {
  name: 'messenteDlrDeliveryTally',
  lua: `
local BOUNDS = { ${DELIVERY_SECONDS_BOUNDS.join(', ')} }
local ttl, apply = ARGV[1], ARGV[2] == '1'
local states, hashes, tallies = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local adds = {}
local function add(h, field)
  local fields = adds[h]
  if not fields then
    fields = {}
    adds[h] = fields
  end
  fields[field] = (fields[field] or 0) + 1
end
local answers = {}
for t = 0, tallies - 1 do
  local i = 5 + hashes + t * ${TALLY_ARGS}
  local state, step, at = KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], ARGV[i + 3]
  local minute, hour, row, reason = tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5]), ARGV[i + 6], ARGV[i + 7]
  local function count(kind)
    add(minute, row .. kind .. ']')
    add(hour, row .. kind .. ']')
  end
  -- Numbers are written back as the caller's strings: Lua prints only 14 digits.
  local start = redis.call('HGET', state, 'at')
  local answer, changed = '', false
  if not start then
    redis.call('HSET', state, 'at', at)
    changed = true
    count('"s"')
  elseif step == 's' and tonumber(at) < tonumber(start) then
    redis.call('HSET', state, 'at', at)
    changed = true
  end
  if step ~= 's' and redis.call('HSETNX', state, 'final', '1') == 1 then
    changed = true
    if step == 'f' then
      count('"f"')
      count('"r",' .. reason)
    else
      count('"d"')
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
        count('"b",' .. bin)
        answer = tostring(ms)
      end
    end
  end
  if changed then redis.call('EXPIRE', state, ttl) end
  answers[t + 1] = answer
end
if apply then
  for h, fields in pairs(adds) do
    local key = KEYS[states + h]
    for field, n in pairs(fields) do redis.call('HINCRBY', key, field, n) end
    redis.call('EXPIREAT', key, ARGV[5 + h])
  end
  return { answers }
end
local counts = {}
for h, fields in pairs(adds) do
  for field, n in pairs(fields) do
    counts[#counts + 1] = h
    counts[#counts + 1] = field
    counts[#counts + 1] = n
  end
end
return { answers, counts }
`,
};

/**
 * Adds counts to bucket hashes of one slot (one hour's, on Redis Cluster): KEYS are the
 * hashes; ARGV the `EXPIREAT` of each, then `KEYS index, field, amount` triples.
 */
export const DELIVERY_ADD: Script = {
  name: 'messenteDlrDeliveryAdd',
  lua: `
local n = #KEYS
for i = n + 1, #ARGV, 3 do redis.call('HINCRBY', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2]) end
for k = 1, n do redis.call('EXPIREAT', KEYS[k], ARGV[k]) end
`,
};

/** The scripts of the delivery analytics, for `defineScripts`. */
export const DELIVERY_SCRIPTS: readonly Script[] = [DELIVERY_TALLY, DELIVERY_ADD];
