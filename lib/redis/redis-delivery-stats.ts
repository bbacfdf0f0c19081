import { Cluster } from 'ioredis';
import { deliveryWindowRange } from '../analytics/delivery-window.js';
import type {
  DeliveryBucketRow,
  DeliveryTally,
  DeliveryWindow,
} from '../interfaces/delivery-stats.interface.js';
import type { RedisClient } from './redis-connection.js';
import {
  type DeliveryHash,
  type DeliverySum,
  RedisDeliveryKeys,
  addDeliveryValue,
  decodeDeliveryReasons,
  deliveryPairField,
  emptyDeliverySum,
  parseDeliveryPairField,
} from './redis-delivery-stats.keys.js';
import { DELIVERY_ADD, DELIVERY_SCRIPTS, DELIVERY_TALLY } from './redis-delivery-stats.scripts.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';
import { defineScripts, scriptOn } from './redis-dlr.scripts.js';

const STEP_CODES = { started: 's', delivered: 'd', failed: 'f' } as const;

/** A tally with the indexes (from 1) of its minute, block and hour hash in the call's list of hashes. */
interface Placed {
  readonly tally: DeliveryTally;
  readonly minute: number;
  readonly ten: number;
  readonly hour: number;
}

/** The reply of `DELIVERY_TALLY`: answers, and the counts it left to the caller. */
type TallyReply = [string[], (string | number)[]?];

/**
 * The delivery analytics of `RedisDlrStore` (`DlrDeliveryStatsStore`): the Redis operations of
 * each method, run by the store inside its deadline. Keys: `RedisDeliveryKeys`; Lua:
 * redis-delivery-stats.scripts.ts.
 */
export class RedisDeliveryStats {
  private readonly keys: RedisDeliveryKeys;
  /** On Redis Cluster the decisions and the counts are in different slots: two steps. */
  private readonly cluster: boolean;

  constructor(
    private readonly client: RedisClient,
    private readonly dlrKeys: RedisDlrKeys,
    private readonly ttlSeconds: number,
  ) {
    this.keys = new RedisDeliveryKeys(dlrKeys);
    this.cluster = client instanceof Cluster;
    defineScripts(client, DELIVERY_SCRIPTS);
  }

  /**
   * `tallyDelivery`: checks the tallies at once (a `TypeError` for one without finite times or
   * with an unknown step) and answers the operation the store runs inside its deadline. Each
   * message's steps are decided by `DELIVERY_TALLY` on its own hash, so that instances tallying
   * the same steps at once count them once.
   *
   * Cost: on standalone Redis, one script call (one round trip) for the whole call: per tally
   * an HGET and at most two writes and an EXPIRE of its message's hash, then an HGET and an
   * HSET per channel and country changed in each bucket hash (minute, block of ten, hour), and
   * one EXPIREAT per bucket hash. On Redis Cluster, two rounds of
   * concurrent script calls: one per message bucket the tallies fall in (the decisions), then
   * one per hour they were received in, usually one (`DELIVERY_ADD`, the counts); counts
   * decided but not added (a master failing in between) are lost. No `WAIT`
   * (`waitForReplicas`): counts lost with a failing master only make the panel a little low.
   */
  tally(tallies: readonly DeliveryTally[]): () => Promise<(number | null)[]> {
    // Checked before the call, so that bad input is a TypeError and not "Redis unavailable".
    for (const { at, receivedAt, step } of tallies) {
      if (!Number.isFinite(at) || !Number.isFinite(receivedAt) || !Object.hasOwn(STEP_CODES, step)) {
        throw new TypeError('RedisDlrStore: a tally needs finite at and receivedAt, and a known step');
      }
    }
    return () => this.tallyChecked(tallies);
  }

  private async tallyChecked(tallies: readonly DeliveryTally[]): Promise<(number | null)[]> {
    if (tallies.length === 0) return [];
    const hashes = new Map<string, { readonly hash: DeliveryHash; readonly index: number }>();
    const indexOf = (hash: DeliveryHash): number => {
      let entry = hashes.get(hash.key);
      if (!entry) hashes.set(hash.key, (entry = { hash, index: hashes.size + 1 }));
      return entry.index;
    };
    const placed = tallies.map((tally): Placed => {
      const { minute, ten, hour } = this.keys.bucketsOf(tally.receivedAt);
      return { tally, minute: indexOf(minute), ten: indexOf(ten), hour: indexOf(hour) };
    });
    const list = [...hashes.values()].map((entry) => entry.hash);
    if (!this.cluster) {
      const [answers] = await this.decide(placed, list);
      return answers.map(secondsOf);
    }
    const answers = new Array<number | null>(tallies.length).fill(null);
    const counts = new Map<number, string[]>();
    const byBucket = groupBy(
      placed.map((entry, position) => ({ entry, position })),
      ({ entry }) => this.dlrKeys.bucketOf(entry.tally.messageId),
    );
    const decided = await Promise.allSettled(
      [...byBucket.values()].map(async (group) => {
        const [own, flat = []] = await this.decide(
          group.map(({ entry }) => entry),
          null,
        );
        own.forEach((answer, i) => (answers[group[i]!.position] = secondsOf(answer)));
        for (let i = 0; i + 2 < flat.length; i += 3) {
          const pairs = counts.get(Number(flat[i])) ?? [];
          counts.set(Number(flat[i]), pairs);
          pairs.push(String(flat[i + 1]), String(flat[i + 2]));
        }
      }),
    );
    // Steps decided on a master that answered are counted even when another master failed:
    // they are decided now, and would not be counted again.
    await this.add(list, counts);
    const failed = decided.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    return answers;
  }

  /**
   * `deliveryBuckets`: an HGETALL of each hash of the window in one pipeline, one round trip:
   * for `1h` its whole blocks of ten minutes and the minutes at either end (6 to 15 hashes
   * for 60 minutes), for `24h` its 24 hours; on Redis Cluster one pipeline per hour (the slot
   * of its minutes, blocks and itself), all at once. A hash holds one field per channel and
   * country, so the process parses (pairs × hashes) values; it answers one row per channel
   * and country, summed over the window (what `summarizeDelivery` would do with them anyway).
   */
  async buckets(window: DeliveryWindow, now: number): Promise<DeliveryBucketRow[]> {
    const { first, last, bucketMs } = deliveryWindowRange(window, now);
    const hashes = this.keys.range(first, last, bucketMs);
    const groups = this.cluster ? [...groupBy(hashes, (hash) => hash.hour).values()] : [hashes];
    const replies = await Promise.all(
      groups.map(async (group) => {
        const pipeline = this.client.pipeline();
        for (const hash of group) pipeline.hgetall(hash.key);
        return ((await pipeline.exec()) ?? []).map(([error, reply]) => {
          if (error) throw error;
          return reply as Record<string, string>;
        });
      }),
    );
    return rowsOf(replies.flat());
  }

  /**
   * Runs `DELIVERY_TALLY` on tallies whose messages share a slot: applying the counts to
   * `hashes` (standalone Redis), or, with null, answering them.
   */
  private async decide(
    placed: readonly Placed[],
    hashes: readonly DeliveryHash[] | null,
  ): Promise<TallyReply> {
    const states = new Map<string, number>();
    const tallyArgs = placed.flatMap(({ tally, minute, ten, hour }) => {
      const key = this.keys.state(tally.messageId);
      if (!states.has(key)) states.set(key, states.size + 1);
      return [
        String(states.get(key)),
        STEP_CODES[tally.step],
        String(tally.at),
        String(minute),
        String(ten),
        String(hour),
        deliveryPairField(tally.channel, tally.country),
        JSON.stringify(tally.reason ?? 'unknown'),
      ];
    });
    const keys = [...states.keys(), ...(hashes ?? []).map((hash) => hash.key)];
    return (await scriptOn(this.client, DELIVERY_TALLY)(
      keys.length,
      ...keys,
      String(this.ttlSeconds),
      hashes ? '1' : '0',
      String(states.size),
      String(hashes?.length ?? 0),
      String(placed.length),
      ...(hashes ?? []).map((hash) => String(hash.expireAt)),
      ...tallyArgs,
    )) as TallyReply;
  }

  /**
   * Adds counts (by index from 1 in `hashes`: flat field, packed value pairs) with one
   * `DELIVERY_ADD` per hour, all at once.
   */
  private async add(hashes: readonly DeliveryHash[], counts: ReadonlyMap<number, readonly string[]>) {
    const byHour = groupBy([...counts.keys()], (index) => hashes[index - 1]!.hour);
    await Promise.all(
      [...byHour.values()].map((indexes) => {
        const own = indexes.map((index) => hashes[index - 1]!);
        const triples = indexes.flatMap((index, k) => {
          const pairs = counts.get(index)!;
          const own: string[] = [];
          for (let i = 0; i + 1 < pairs.length; i += 2) own.push(String(k + 1), pairs[i]!, pairs[i + 1]!);
          return own;
        });
        return scriptOn(this.client, DELIVERY_ADD)(
          own.length,
          ...own.map((hash) => hash.key),
          ...own.map((hash) => String(hash.expireAt)),
          ...triples,
        );
      }),
    );
  }
}

/** The seconds of a tally script answer (ms, or '' for none). */
function secondsOf(answer: string): number | null {
  return answer === '' ? null : Number(answer) / 1000;
}

function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/**
 * The rows of a window's bucket hashes: one per channel and country, summed over the buckets.
 * Values are summed by their field's text and decoded once per pair at the end; fields and
 * values it does not know are ignored.
 */
function rowsOf(hashes: readonly Readonly<Record<string, string>>[]): DeliveryBucketRow[] {
  const sums = new Map<string, DeliverySum>();
  for (const fields of hashes) {
    for (const [field, value] of Object.entries(fields)) {
      const sum = sums.get(field) ?? emptyDeliverySum();
      if (addDeliveryValue(sum, value)) sums.set(field, sum);
    }
  }
  const rows: DeliveryBucketRow[] = [];
  for (const [field, { counts, reasons }] of sums) {
    const pair = parseDeliveryPairField(field);
    if (!pair) continue;
    const [started, delivered, failed, ...bins] = counts;
    rows.push({
      ...pair,
      started: started!,
      delivered: delivered!,
      failed: failed!,
      bins,
      reasons: decodeDeliveryReasons(reasons),
    });
  }
  return rows;
}
