import { createHash } from 'node:crypto';
import { FINAL_STATUSES, KNOWN_STATUSES, statusPrecedence } from '../dlr-status.js';

/** A Lua script with its SHA1, sent with EVALSHA and re-sent with EVAL after a NOSCRIPT. */
export interface Script {
  readonly lua: string;
  readonly sha: string;
}

/** Prepends the status tables to a script body and computes its SHA1. */
function script(body: string): Script {
  // The tables come from dlr-status.ts so that Lua and TypeScript can never disagree.
  const lua = `local PRECEDENCE = { ${KNOWN_STATUSES.map((s) => `${s} = ${statusPrecedence(s)}`).join(', ')} }
local FINAL = { ${FINAL_STATUSES.map((s) => `${s} = true`).join(', ')} }
${body}`;
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

// Numbers reach Lua as the caller's strings and are written back unchanged: Lua's own number
// formatting keeps 14 digits only, which would corrupt millisecond timestamps.
/** Records one report: dedup, precedence, latest, history, omnimessage index, pending mark, TTLs. */
export const RECORD = script(`
local raw, id, status, member, now, leaseUntil, hasOmni, maxHistory, ttl = unpack(ARGV)
local msg, hist, omni, leases, pending, unsettled = unpack(KEYS)
if redis.call('HSETNX', msg, 'seen:' .. status, '1') == 0 then
  local lease = redis.call('ZSCORE', leases, member)
  if not lease or tonumber(lease) > tonumber(now) then return { 'duplicate' } end
  local report = redis.call('HGET', pending, member)
  if not report then return { 'duplicate' } end
  redis.call('ZADD', leases, leaseUntil, member)
  return { 'redelivery', report }
end
local previous = redis.call('HGET', msg, 'status')
local report = '{"raw":' .. raw .. ',"receivedAt":' .. now .. ',"previousStatus":'
  .. (previous and cjson.encode(previous) or 'null') .. '}'
redis.call('RPUSH', hist, report)
redis.call('LTRIM', hist, -tonumber(maxHistory), -1)
redis.call('EXPIRE', msg, ttl)
redis.call('EXPIRE', hist, ttl)
if previous and (PRECEDENCE[status] or 2) < (PRECEDENCE[previous] or 2) then return { 'stale' } end
redis.call('HSET', msg, 'status', status, 'latest', report)
if hasOmni == '1' then
  redis.call('ZADD', omni, 'NX', now, id)
  redis.call('EXPIRE', omni, ttl)
end
redis.call('ZADD', leases, leaseUntil, member)
redis.call('HSET', pending, member, report)
if FINAL[status] then redis.call('ZREM', unsettled, id) else redis.call('ZADD', unsettled, now, id) end
-- Messages that never became final would stay in the index after their keys expired.
redis.call('ZREMRANGEBYSCORE', unsettled, '-inf', '(' .. string.format('%d', tonumber(now) - tonumber(ttl) * 1000))
for i = 4, 6 do redis.call('EXPIRE', KEYS[i], ttl) end
return { 'change', report }
`);

/** Leases pending changes whose lease ended before ARGV[1]. */
export const CLAIM = script(`
local leases, pending = unpack(KEYS)
local claimed = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', '(' .. ARGV[1], 'LIMIT', 0, ARGV[3])) do
  local report = redis.call('HGET', pending, member)
  if report then
    redis.call('ZADD', leases, ARGV[2], member)
    claimed[#claimed + 1] = report
  else
    redis.call('ZREM', leases, member)
  end
end
return claimed
`);

/** Up to ARGV[1] pending changes, earliest lease end first, without leasing them. */
export const LIST_PENDING = script(`
local reports = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)) do
  local report = redis.call('HGET', KEYS[2], member)
  if report then reports[#reports + 1] = report end
end
return reports
`);

/** Forgets a pending change whose handlers all succeeded. */
export const COMPLETE = script(`
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
`);

/**
 * The latest change of each message of an omnimessage. Message keys are built here from ids
 * held in an index; ARGV[1] carries their full prefix.
 */
export const FOR_OMNIMESSAGE = script(`
local reports = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local report = redis.call('HGET', ARGV[1] .. id, 'latest')
  if report then reports[#reports + 1] = report end
end
return reports
`);

/** Latest changes that are not final and older than ARGV[2], oldest first. */
export const UNSETTLED = script(`
local limit, reports = tonumber(ARGV[3]), {}
while #reports < limit do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', #reports, limit - #reports)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local report = redis.call('HGET', ARGV[1] .. id, 'latest')
    -- A message whose keys expired leaves its id behind: drop it so it cannot clog the index.
    if report then reports[#reports + 1] = report else redis.call('ZREM', KEYS[1], id) end
  end
end
return reports
`);
