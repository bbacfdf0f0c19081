import { randomInt } from 'node:crypto';
import { type Entry, groupByBucket, mergeByScore, readBuckets } from './bucket-entries.js';
import type { RedisClient } from './redis-connection.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';
import { CLAIM, scriptOn } from './redis-dlr.scripts.js';

/**
 * Leasing from pending sets split into buckets (a sorted set of lease ends and a hash of what
 * is pending, per bucket): what `claimPending` and `claimPendingOutcomes` share.
 */

/** Where a kind of pending item lives in a bucket. */
export interface PendingIndex {
  /** The bucket's lease ends: a sorted set of members scored by lease end (ms). */
  readonly leases: (bucket: number) => string;
  /** The bucket's items: a hash from member to JSON. */
  readonly items: (bucket: number) => string;
}

/**
 * The `count` entries scored lowest, below `max` (a `ZRANGEBYSCORE` bound: `(n` excludes n), of
 * a shared index (`index` names its key in a bucket) across its buckets: each bucket answers
 * its own `count` lowest, at once.
 */
export async function lowestAcross(
  client: RedisClient,
  index: (bucket: number) => string,
  walk: number[],
  max: string,
  count: number,
): Promise<Entry[]> {
  const read = (bucket: number) =>
    client.zrangebyscore(index(bucket), '-inf', max, 'WITHSCORES', 'LIMIT', 0, count);
  return (await readBuckets(walk, read)).slice(0, count);
}

/**
 * Leases up to `count` pending items whose lease ended before `endedBefore`, until `leaseUntil`,
 * and answers their JSON (`member`), each with the bucket it was claimed in. Reads the due head of every bucket (bounded by `count`), finds how
 * many of the `count` leases that ended first lie in each bucket (ties: buckets reached first
 * in a walk from a random bucket), and claims that many from the head of each bucket,
 * atomically per bucket. When other instances claimed some meanwhile, it walks the buckets
 * from a random start to claim the rest, so that concurrent sweeps share the backlog instead
 * of colliding.
 */
export async function claimAcrossBuckets(
  client: RedisClient,
  keys: RedisDlrKeys,
  index: PendingIndex,
  endedBefore: number,
  leaseUntil: number,
  count: number,
): Promise<Entry[]> {
  const claim = async (bucket: number, n: number) =>
    (await scriptOn(client, CLAIM)(
      index.leases(bucket),
      index.items(bucket),
      String(endedBefore),
      String(leaseUntil),
      String(n),
    )) as string[];
  const walk = keys.walk(randomInt(keys.buckets));
  const chosen = await lowestAcross(client, index.leases, walk, `(${endedBefore}`, count);
  const quotas = [...groupByBucket(chosen)].map(([bucket, entries]) => [bucket, entries.length] as const);
  const buckets = quotas.map(([bucket]) => bucket);
  const replies = await Promise.all(quotas.map(([bucket, n]) => claim(bucket, n)));
  let claimed = replies.reduce((total, reply) => total + reply.length / 2, 0);
  if (claimed < chosen.length) {
    for (const bucket of keys.walk(randomInt(keys.buckets))) {
      if (claimed >= count) break;
      const reply = await claim(bucket, count - claimed);
      buckets.push(bucket);
      replies.push(reply);
      claimed += reply.length / 2;
    }
  }
  // A lease shorter than a millisecond could let the walk claim an item twice.
  const unique = new Map(mergeByScore(replies, buckets).map((entry) => [entry.member, entry]));
  return [...unique.values()];
}
