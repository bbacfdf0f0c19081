import { type Script, script } from './redis-dlr.scripts.js';

/**
 * The Lua of message homes in layout 2 (Redis Cluster, see `RedisMessageHomes`): the home index
 * `<prefix>{b}:home:<message id>` lives in the bucket of the message id and holds the bucket
 * where the message's keys are.
 */

/**
 * The `home` hook of the record script on a cluster (`RECORD_TRACKED_HOMED`): its last KEY is
 * the message's home index when the script runs in the message id's own bucket (ARGV[#ARGV - 1]
 * '1'; else a key of the slot it does not touch), and its last ARGV the bucket it runs in. An
 * index naming another bucket answers `elsewhere` and that bucket, having written nothing; else
 * the index is (re)written, so that every message of that bucket has one, and renewed.
 */
export const HOME_CHECK = `
if ARGV[#ARGV - 1] == '1' then
  local home = redis.call('GET', KEYS[#KEYS])
  if home and home ~= ARGV[#ARGV] then return { 'elsewhere', home } end
  redis.call('SET', KEYS[#KEYS], ARGV[#ARGV], 'EX', ttl)
end`;

/**
 * Claims a message's home: KEYS[1] its home index, ARGV the bucket its report was recorded
 * in, the TTL. An absent index takes that bucket; one that holds it is renewed. Answers the
 * bucket the index holds: another one means that the message lives there, and the report was
 * recorded in the wrong bucket (`FORGET_MISPLACED`).
 */
export const CLAIM_HOME = script(
  'messenteDlrClaimHome',
  1,
  `
local home = redis.call('GET', KEYS[1])
if not home then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return ARGV[1]
end
if home == ARGV[1] then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return home
`,
);

/**
 * Undoes a report recorded in a bucket that is not its message's home (its report named an
 * omnimessage of another bucket than the one the message's first report named): KEYS are the
 * record script's 8 in that bucket, ARGV the message id, the report's key, then its three
 * search entries ('' for none). The message's keys there hold only such reports, since its
 * home is elsewhere: they are deleted, and the report's entries in the bucket's indexes removed.
 */
export const FORGET_MISPLACED = script(
  'messenteDlrForgetMisplaced',
  8,
  `
local msg, hist, omni, leases, pending, unsettled, recent, find = unpack(KEYS)
local id, member = ARGV[1], ARGV[2]
redis.call('DEL', msg, hist)
redis.call('ZREM', omni, id)
redis.call('ZREM', unsettled, id)
redis.call('ZREM', leases, member)
redis.call('HDEL', pending, member)
redis.call('ZREM', recent, member)
for i = 3, 5 do
  if ARGV[i] ~= '' then redis.call('ZREM', find, ARGV[i]) end
end
`,
);

/** The scripts of message homes, for `defineScripts`. */
export const HOME_SCRIPTS: readonly Script[] = [CLAIM_HOME, FORGET_MISPLACED];
