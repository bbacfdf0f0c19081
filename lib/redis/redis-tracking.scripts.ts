import { FAILURE_STATUSES, FINAL_STATUSES } from '../dlr-status.js';
import { type RecordHooks, type Script, recordLua, script } from './redis-dlr.scripts.js';
import { HOME_CHECK } from './redis-home.scripts.js';

/**
 * The Lua of tracked outcomes. Outcomes are JSON documents decoded and re-encoded with cjson:
 * its numbers keep 14 significant digits, which holds every millisecond time (13 digits until
 * the year 2286) and every `err` exactly. Key layout: see `RedisTrackingKeys`.
 */

/** DELIVRD and SEEN: the final statuses that are not failures, as `decideOutcome` has them. */
const DELIVERED = FINAL_STATUSES.filter((status) => !FAILURE_STATUSES.includes(status));

/**
 * The functions every script that changes an outcome shares. `decide` is `decideOutcome`
 * (lib/outcomes/decide-outcome.ts) step by step; `settle` stores the decision and, when
 * `isOutcomeEvent`, pends the change leased until `leaseUntil`, answering the outcome's JSON
 * and the change's JSON ('' for none). `ttl` nil keeps the outcome's TTL.
 */
const OUTCOMES = `
local DELIVERED = { ${DELIVERED.map((s) => `${s} = true`).join(', ')} }
local function integer(value)
  if type(value) == 'number' and value == math.floor(value) then return value end
  return cjson.null
end
local function decide(o)
  if o.result == 'delivered' then return 'delivered', o.deliveredVia end
  for _, m in ipairs(o.messages) do
    if m.status ~= cjson.null and DELIVERED[m.status] then return 'delivered', m.channel end
  end
  for _, m in ipairs(o.messages) do
    if m.status == cjson.null or not FINAL[m.status] then
      return (o.result == 'overdue' and 'overdue' or 'pending'), cjson.null
    end
  end
  return 'failed', cjson.null
end
local function pend(json, previous, result, id, leases, changes, leaseUntil)
  local member = result .. ':' .. id
  local change = '{"outcome":' .. json .. ',"previousResult":"' .. previous .. '"}'
  redis.call('ZADD', leases, leaseUntil, member)
  redis.call('HSET', changes, member, change)
  return change
end
local function settle(o, at, okey, leases, changes, overdue, leaseUntil, ttl)
  local previous = o.result
  local result, via = decide(o)
  o.result = result
  o.deliveredVia = via
  local event = result ~= previous and result ~= 'pending'
  if event and result ~= 'overdue' then o.settledAt = at end
  -- Only a pending outcome can become overdue: anything else leaves the sweep's index, which
  -- lives as long as the pending outcomes it holds.
  if result ~= 'pending' then
    redis.call('ZREM', overdue, o.omnimessageId)
  elseif ttl then
    redis.call('EXPIRE', overdue, ttl)
  end
  local json = cjson.encode(o)
  if ttl then redis.call('SET', okey, json, 'EX', ttl) else redis.call('SET', okey, json, 'KEEPTTL') end
  if not event then return json, '' end
  return json, pend(json, previous, result, o.omnimessageId, leases, changes, leaseUntil)
end
local function reported(o, id, status, err, at, okey, leases, changes, overdue, leaseUntil, ttl)
  for _, m in ipairs(o.messages) do
    if m.messageId == id then
      m.status = status
      m.err = err
      m.at = at
    end
  end
  return settle(o, at, okey, leases, changes, overdue, leaseUntil, ttl)
end
`;

/** A script that changes outcomes: the status tables, then `OUTCOMES`, then `body`. */
function outcomeScript(name: string, numberOfKeys: number | undefined, body: string): Script {
  return script(name, numberOfKeys, OUTCOMES + body);
}

/** The hooks that make `RECORD` decide outcomes (`RECORD_TRACKED`). */
const TRACKED_HOOKS: RecordHooks = {
  link: `local linked = redis.call('GET', KEYS[9])
if linked then
  redis.call('EXPIRE', KEYS[9], ttl)
  linked = cjson.decode(linked)
end`,
  ref: ` .. (linked and (',"ref":' .. cjson.encode(linked[2])) or '')`,
  outcome: `if linked then
  if linked[1] ~= ARGV[16] then return { 'change', report, '', linked[1] } end
  local stored = redis.call('GET', KEYS[10])
  if stored then
    local err = ARGV[15] == '' and cjson.null or tonumber(ARGV[15])
    local _, change = reported(cjson.decode(stored), id, status, err, tonumber(now),
      KEYS[10], KEYS[11], KEYS[12], KEYS[13], leaseUntil, ttl)
    return { 'change', report, change }
  end
end`,
};

/**
 * `RECORD` that also decides the outcome of a tracked message, in the same step. KEYS 1–8 are
 * `RECORD`'s; 9 is the message's link (its home bucket), 10–13 the outcome keys of the report's
 * `omnimessage_id` (that omnimessage's bucket: the home itself on Redis Cluster). ARGV
 * 1–14 are `RECORD`'s (14, the account, is '' for none), 15 the report's `err` ('' for none),
 * 16 its omnimessage id ('').
 * An untracked report costs one GET more. Answers `RECORD`'s reply; a change of a tracked
 * message adds the outcome change's JSON (''), and, when the report names another omnimessage
 * than the one its message was tracked in (or none), '' and the tracked omnimessage's id
 * instead: `SYNC_OUTCOME` then applies it in a second step.
 */
export const RECORD_TRACKED = outcomeScript('messenteDlrRecordTracked', 13, recordLua(TRACKED_HOOKS));

/**
 * `RECORD_TRACKED` on Redis Cluster (layout 2), where every KEY is in the bucket the report is
 * recorded in. KEY 14 is the message's home index (see `HOME_CHECK`); ARGV 17 is '1' when that
 * bucket is the message id's own (the index is in this slot), 18 the bucket. KEYS 10–13 are the
 * outcome keys of the report's omnimessage when it is in this bucket, else any keys of this
 * bucket: then a linked message's omnimessage (in this bucket) is not the report's, and the
 * script answers `relink` without reading them. Answers `elsewhere` and the message's bucket
 * when the index names another.
 */
export const RECORD_TRACKED_HOMED = outcomeScript(
  'messenteDlrRecordTrackedHomed',
  14,
  recordLua({ ...TRACKED_HOOKS, home: HOME_CHECK }),
);

/**
 * Tracks an omnimessage. KEYS: outcome, leases, changes, overdue (the omnimessage's bucket),
 * the ref's index (the outcome key again when ARGV 9 is not '1'), then per message its link
 * and its message hash (each in the message's home bucket). ARGV: the outcome as tracked
 * (pending, no report), '1' when it has a ref, the ref, now, lease end, TTL, TTL of the ref
 * index, deadline, '1' to add the omnimessage to the ref's index here (standalone Redis: on a
 * cluster the index is in the ref's slot, and the caller writes it beside the script).
 * Answers `existing` or `ref_conflict` with the stored outcome, or `tracked`, the outcome
 * after the reports its messages already have, and the change they caused ('' for none).
 */
export const TRACK = outcomeScript(
  'messenteDlrTrack',
  undefined,
  `
local okey, leases, changes, overdue, refs = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local given, hasRef, ref, now, leaseUntil, ttl, refTtl, deadline, refHere = unpack(ARGV)
local stored = redis.call('GET', okey)
if stored then
  -- A ref is written once, by the first track(): any other (even over none) is a conflict.
  if hasRef == '1' and cjson.decode(stored).ref ~= ref then return { 'ref_conflict', stored } end
  return { 'existing', stored }
end
local o = cjson.decode(given)
local link = cjson.encode({ o.omnimessageId, o.ref })
for i, m in ipairs(o.messages) do
  local status, latest = unpack(redis.call('HMGET', KEYS[5 + 2 * i], 'status', 'latest'))
  if status and latest then
    local report = cjson.decode(latest)
    m.status = status
    m.err = integer(report.raw.err)
    m.at = report.receivedAt
  end
  redis.call('SET', KEYS[4 + 2 * i], link, 'EX', ttl)
end
if hasRef == '1' and refHere == '1' then
  redis.call('ZADD', refs, now, o.omnimessageId)
  redis.call('EXPIRE', refs, refTtl)
end
local json, change = settle(o, tonumber(now), okey, leases, changes, overdue, leaseUntil, ttl)
if o.result == 'pending' then
  redis.call('ZADD', overdue, deadline, o.omnimessageId)
  redis.call('EXPIRE', overdue, ttl)
end
return { 'tracked', json, change }
`,
);

/**
 * Applies a tracked message's latest change to its outcome, for a report `RECORD_TRACKED` could
 * not decide (it named another omnimessage or none). KEYS: the link, the message hash, then
 * the tracked omnimessage's outcome, leases, changes, overdue. ARGV: message id, lease end,
 * TTL, the omnimessage id. Reads the state rather than the report, so that running it twice,
 * or after a newer report, decides nothing twice. Answers the change's JSON, or ''.
 */
export const SYNC_OUTCOME = outcomeScript(
  'messenteDlrSyncOutcome',
  6,
  `
local link = redis.call('GET', KEYS[1])
if not link or cjson.decode(link)[1] ~= ARGV[4] then return '' end
local status, latest = unpack(redis.call('HMGET', KEYS[2], 'status', 'latest'))
local stored = redis.call('GET', KEYS[3])
if not status or not latest or not stored then return '' end
local report = cjson.decode(latest)
local _, change = reported(cjson.decode(stored), ARGV[1], status, integer(report.raw.err), report.receivedAt,
  KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[2], ARGV[3])
return change
`,
);

/**
 * Leases overdue candidates of one bucket: KEYS are its overdue index, then the outcome of
 * each candidate (ids in ARGV from 3 on, same order); ARGV[1] is now, ARGV[2] the lease end.
 * A candidate still due and still pending is re-scored to the lease end, so that no other
 * sweeper takes it until then; one that is gone or settled leaves the index. Answers the
 * claimed outcomes' JSON.
 */
export const CLAIM_OVERDUE = script(
  'messenteDlrClaimOverdue',
  undefined,
  `
local claimed = {}
for i = 2, #KEYS do
  local id = ARGV[i + 1]
  local score = redis.call('ZSCORE', KEYS[1], id)
  if score and tonumber(score) <= tonumber(ARGV[1]) then
    local stored = redis.call('GET', KEYS[i])
    if stored and cjson.decode(stored).result == 'pending' then
      redis.call('ZADD', KEYS[1], ARGV[2], id)
      claimed[#claimed + 1] = stored
    else
      redis.call('ZREM', KEYS[1], id)
    end
  end
end
return claimed
`,
);

/**
 * Makes a pending outcome overdue. KEYS: outcome, leases, changes, overdue (one bucket); ARGV:
 * the omnimessage id, the lease end. Answers the change's JSON, or nil when it is gone or no
 * longer pending. Its TTL is kept: no report renewed it.
 */
export const MARK_OVERDUE = outcomeScript(
  'messenteDlrMarkOverdue',
  4,
  `
redis.call('ZREM', KEYS[4], ARGV[1])
local stored = redis.call('GET', KEYS[1])
if not stored then return false end
local o = cjson.decode(stored)
if o.result ~= 'pending' then return false end
o.result = 'overdue'
local json = cjson.encode(o)
redis.call('SET', KEYS[1], json, 'KEEPTTL')
return pend(json, 'pending', 'overdue', ARGV[1], KEYS[2], KEYS[3], ARGV[2])
`,
);

/**
 * The tracking scripts. Kept apart from `SCRIPTS` (every key in one slot in any layout):
 * `RECORD_TRACKED`, `TRACK` and `SYNC_OUTCOME` touch a message's home and its omnimessage's
 * bucket, one slot in layout 2 (Redis Cluster) and two on standalone Redis (layout 1);
 * `CLAIM_OVERDUE` and `MARK_OVERDUE` use one slot.
 */
export const TRACKING_SCRIPTS: readonly Script[] = [
  RECORD_TRACKED,
  RECORD_TRACKED_HOMED,
  TRACK,
  SYNC_OUTCOME,
  CLAIM_OVERDUE,
  MARK_OVERDUE,
];
