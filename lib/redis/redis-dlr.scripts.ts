import { FINAL_STATUSES, KNOWN_STATUSES, statusPrecedence } from '../dlr-status.js';
import type { StoredReport } from '../interfaces/dlr-store.interface.js';
import { type UnidentifiedReport, identified } from '../stores/report-key.js';
import { MAX_RECENT } from '../stores/store-queries.js';

/**
 * A Lua script, run through ioredis `defineCommand` (EVALSHA, and EVAL on a connection or node
 * that does not have it yet). Every key it touches is passed in KEYS, and all of them share the
 * bucket's hash tag, so each call runs on one cluster slot.
 */
export interface Script {
  /** The command name given to `defineCommand`. */
  readonly name: string;
  readonly lua: string;
  /** The fixed number of KEYS, or undefined when the caller passes the count first. */
  readonly numberOfKeys?: number;
}

/** Prepends the status tables to a script body. */
export function script(name: string, numberOfKeys: number | undefined, body: string): Script {
  // The tables come from dlr-status.ts so that Lua and TypeScript can never disagree.
  const lua = `local PRECEDENCE = { ${KNOWN_STATUSES.map((s) => `${s} = ${statusPrecedence(s)}`).join(', ')} }
local FINAL = { ${FINAL_STATUSES.map((s) => `${s} = true`).join(', ')} }
${body}`;
  return { name, lua, numberOfKeys };
}

// Numbers reach Lua as the caller's strings and are written back unchanged: Lua's own number
// formatting keeps 14 digits only, which would corrupt millisecond timestamps.
/**
 * Records one report: dedup, precedence, latest, history, omnimessage index, pending mark, the
 * feed (the bucket's last ${MAX_RECENT} changes), the search index (see `RedisDlrKeys.find`), TTLs.
 * ARGV 1–13 as unpacked below; ARGV[14], the account as a JSON string, is kept in the report's
 * JSON ('' or absent: none, and the report has no `account`).
 */
export const RECORD = script('messenteDlrRecord', 8, recordLua());

/**
 * What the record script adds when it also decides outcomes (see `RECORD_TRACKED`) and, on
 * Redis Cluster, checks where its message lives (see `RECORD_TRACKED_HOMED`): `link` runs once
 * the report is known not to be a duplicate and may set the local `linked`, `ref` extends the
 * stored report's JSON, `outcome` runs once a change is recorded, before the script answers it.
 */
export interface RecordHooks {
  /** Runs first, before anything is read or written (layout 2: the check of the message's home). */
  readonly home?: string;
  readonly link: string;
  readonly ref: string;
  readonly outcome: string;
}

/** The body of the record script, with the tracking hooks or without (the `RECORD` of today). */
export function recordLua(hooks: RecordHooks = { link: '', ref: '', outcome: '' }): string {
  return `
local raw, id, status, member, now, leaseUntil, hasOmni, maxHistory, ttl, findTtl, byId, byOmni, byTo, account =
  unpack(ARGV)
local msg, hist, omni, leases, pending, unsettled, recent, find = unpack(KEYS)
${hooks.home ?? ''}
if redis.call('HSETNX', msg, 'seen:' .. status, '1') == 0 then
  local lease = redis.call('ZSCORE', leases, member)
  if not lease or tonumber(lease) > tonumber(now) then return { 'duplicate' } end
  local report = redis.call('HGET', pending, member)
  if not report then return { 'duplicate' } end
  redis.call('ZADD', leases, leaseUntil, member)
  return { 'redelivery', report }
end
local previous = redis.call('HGET', msg, 'status')
${hooks.link}
local report = '{"raw":' .. raw .. ',"receivedAt":' .. now .. ',"previousStatus":'
  .. (previous and cjson.encode(previous) or 'null')${hooks.ref}
  .. ((account and account ~= '') and (',"account":' .. account) or '') .. '}'
redis.call('RPUSH', hist, report)
redis.call('LTRIM', hist, -tonumber(maxHistory), -1)
redis.call('EXPIRE', msg, ttl)
redis.call('EXPIRE', hist, ttl)
-- Every report that is not a duplicate renews the message's search entries, as its TTLs.
redis.call('ZADD', find, 0, byId)
if byOmni ~= '' then redis.call('ZADD', find, 0, byOmni) end
if byTo ~= '' then redis.call('ZADD', find, 0, byTo) end
redis.call('EXPIRE', find, findTtl)
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
redis.call('ZADD', recent, now, member)
if redis.call('ZCARD', recent) > ${MAX_RECENT} then redis.call('ZREMRANGEBYRANK', recent, 0, -${MAX_RECENT + 1}) end
for i = 4, 7 do redis.call('EXPIRE', KEYS[i], ttl) end
${hooks.outcome}
return { 'change', report }
`;
}

/**
 * Leases up to ARGV[3] pending changes of one bucket whose lease ended before ARGV[1], earliest
 * first, until ARGV[2]. Answers report, lease end pairs. A lease without its report is dropped.
 */
export const CLAIM = script(
  'messenteDlrClaim',
  2,
  `
local leases, pending = unpack(KEYS)
local claimed = {}
local due = redis.call('ZRANGEBYSCORE', leases, '-inf', '(' .. ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[3])
for i = 1, #due, 2 do
  local report = redis.call('HGET', pending, due[i])
  if report then
    redis.call('ZADD', leases, ARGV[2], due[i])
    claimed[#claimed + 1] = report
    claimed[#claimed + 1] = due[i + 1]
  else
    redis.call('ZREM', leases, due[i])
  end
end
return claimed
`,
);

/** Up to ARGV[1] pending changes of one bucket, earliest lease end first, as report, lease end pairs. */
export const LIST_PENDING = script(
  'messenteDlrListPending',
  2,
  `
local reports = {}
local leases = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
for i = 1, #leases, 2 do
  local report = redis.call('HGET', KEYS[2], leases[i])
  if report then
    reports[#reports + 1] = report
    reports[#reports + 1] = leases[i + 1]
  end
end
return reports
`,
);

/** Forgets a pending change whose handlers all succeeded. */
export const COMPLETE = script(
  'messenteDlrComplete',
  2,
  `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
`,
);

/**
 * The latest change of each message in KEYS[2…] (ids in ARGV, same order), all of one bucket,
 * whose unsettled index is KEYS[1]. A message whose keys expired leaves its id behind in the
 * index: it is dropped here, atomically, so that a report arriving meanwhile cannot be lost.
 * Answers '' for those.
 */
export const UNSETTLED_LATEST = script(
  'messenteDlrUnsettledLatest',
  undefined,
  `
local reports = {}
for i = 2, #KEYS do
  local report = redis.call('HGET', KEYS[i], 'latest')
  if report then
    reports[#reports + 1] = report
  else
    redis.call('ZREM', KEYS[1], ARGV[i - 1])
    reports[#reports + 1] = ''
  end
end
return reports
`,
);

/**
 * Search entries of one bucket: KEYS are its search sets, newest period first; ARGV[1] is how
 * many members to answer at most, then lex ranges as min, max pairs. Answers members, those of
 * newer periods first, so that a query matching more than the bound keeps the newer ones.
 */
export const SEARCH = script(
  'messenteDlrSearch',
  undefined,
  `
local found = {}
local cap = tonumber(ARGV[1])
for _, key in ipairs(KEYS) do
  for i = 2, #ARGV, 2 do
    if #found >= cap then return found end
    local members = redis.call('ZRANGEBYLEX', key, ARGV[i], ARGV[i + 1], 'LIMIT', 0, cap - #found)
    for _, member in ipairs(members) do found[#found + 1] = member end
  end
end
return found
`,
);

/** Every script, for `defineCommand`. */
export const SCRIPTS: readonly Script[] = [RECORD, CLAIM, LIST_PENDING, COMPLETE, UNSETTLED_LATEST, SEARCH];

/** A script as `defineCommand` installed it on a client or pipeline: KEYS, then ARGV. */
export type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

/** The commands `defineCommand` needs to install every script on a client. */
interface Definable {
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
}

/**
 * Installs every script of `scripts` (default `SCRIPTS`) on `client`: EVALSHA, and EVAL on a connection that has not run the
 * script yet, per node on a cluster, so that a failover or a node's restart needs nothing more.
 */
export function defineScripts(client: Definable, scripts: readonly Script[] = SCRIPTS): void {
  for (const { name, lua, numberOfKeys } of scripts) client.defineCommand(name, { lua, numberOfKeys });
}

/** The command `defineScripts` made of `script` on `client`. */
export function scriptOn(client: object, script: Script): ScriptCall {
  return (...args) => (client as Record<string, ScriptCall>)[script.name]!(...args);
}

/**
 * A report as `RECORD` writes it (JSON of its raw body, time, previous status, when its message
 * is tracked the ref, and when it was recorded with one the account), with its identity: read
 * from `raw`, or given by a caller that knows it already (`record()`).
 */
export function parseReport(json: string, messageId?: string, status?: string): StoredReport {
  const report = JSON.parse(json) as UnidentifiedReport;
  const { raw, receivedAt, previousStatus, ref, account } = report;
  const base: { -readonly [K in keyof StoredReport]: StoredReport[K] } =
    messageId === undefined || status === undefined
      ? identified(report)
      : { messageId, status, raw, receivedAt, previousStatus };
  // A report of a tracked message carries its ref (null included); the others leave it out.
  if (ref !== undefined) base.ref = ref;
  // Only a report recorded with an account has one (reports stored before accounts have none).
  if (typeof account === 'string') base.account = account;
  return base;
}

/** The reports of a reply that lists them. */
export function parseReports(reply: unknown): StoredReport[] {
  return (reply as string[]).map((json) => parseReport(json));
}
