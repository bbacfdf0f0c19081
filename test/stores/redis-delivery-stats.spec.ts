import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Cluster, Redis, type Command } from 'ioredis';
import fc from 'fast-check';
import { DELIVERY_BIN_COUNT } from '../../lib/analytics/delivery-bins.js';
import {
  HOUR_MS,
  MINUTE_MS,
  deliveryBucketsOf,
  deliveryWindowRange,
} from '../../lib/analytics/delivery-window.js';
import type {
  DeliveryBucketRow,
  DeliveryTally,
  DeliveryWindow,
} from '../../lib/interfaces/delivery-stats.interface.js';
import { RedisDlrStore } from '../../lib/redis/index.js';
import { RedisDlrKeys } from '../../lib/redis/redis-dlr.keys.js';
import { DELIVERY_ADD, DELIVERY_TALLY } from '../../lib/redis/redis-delivery-stats.scripts.js';
import {
  DELIVERY_COUNTS,
  HOUR_KEEP_MS,
  MINUTE_KEEP_MS,
  TEN_MINUTES_MS,
  addDeliveryValue,
  decodeDeliveryReasons,
  deliveryPairField,
  emptyDeliverySum,
  parseDeliveryPairField,
} from '../../lib/redis/redis-delivery-stats.keys.js';
import { InMemoryDeliveryStats } from '../../lib/stores/in-memory-delivery-stats.js';
import { FUZZ_SEED, replayable, seededRandom, shuffled } from '../support/fuzz-seed.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { type RedisServer, describeWithRedis, startRedisServer } from '../support/redis-server.js';

/** Where the stores of a suite run: a standalone server or a cluster, with what a test needs to look inside. */
interface Target {
  /** A new client, as another app instance has its own. */
  client(): Redis | Cluster;
  /** Every key under `prefix`, with its PTTL. */
  keys(prefix: string): Promise<Map<string, number>>;
  /** `CLUSTER KEYSLOT` of each key (standalone: none). */
  slots?(keys: readonly string[]): Promise<number[]>;
}

const TTL_SECONDS = 7_200;
const CHANNELS = ['sms', 'viber', 'whatsapp'];
const COUNTRIES = ['EE', 'GB', '_OTHER'];
const REASONS = ['expired', 'no_route', null];

/**
 * A stream of tallies as several app instances' telemetry would hand them over: each message
 * started (sometimes twice, the second time earlier, as a `track()` after the first report),
 * then delivered or failed, sometimes with a later final step that must not count, sometimes
 * heard of only at its final step; received over the last 100 minutes, so in several minutes
 * and at least two hours. In batches of up to 7, in stream order.
 */
function streamOf(seed: number, now: number, messages = 150): DeliveryTally[][] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const steps: DeliveryTally[] = [];
  for (let m = 0; m < messages; m++) {
    const receivedAt = now - MINUTE_MS - Math.floor(random() * 100 * MINUTE_MS);
    const base = { messageId: `m${m}-${seed}`, channel: pick(CHANNELS), country: pick(COUNTRIES) };
    const at = receivedAt - Math.floor(random() * 30_000);
    const own: DeliveryTally[] = [];
    const kind = random();
    if (kind > 0.15) own.push({ ...base, step: 'started', reason: null, at, receivedAt });
    if (kind > 0.85) own.push({ ...base, step: 'started', reason: null, at: at - 40_000, receivedAt });
    const final = random() < 0.6 ? 'delivered' : 'failed';
    const finalAt = at + Math.floor(random() * 600_000);
    // Received a few seconds after the start: mostly the same minute, sometimes the next.
    const finalReceived = Math.min(now - 1, receivedAt + Math.floor(random() * 40_000));
    const reason = final === 'failed' ? pick(REASONS) : null;
    if (kind > 0.05) own.push({ ...base, step: final, reason, at: finalAt, receivedAt: finalReceived });
    if (kind > 0.7)
      own.push({ ...base, step: 'failed', reason: 'late', at: finalAt + 1, receivedAt: finalReceived });
    steps.push(...own);
  }
  // Messages interleave, each message's own steps in their order: its n-th place in the
  // shuffle takes its n-th step.
  const own = new Map<string, DeliveryTally[]>();
  for (const tally of steps) own.set(tally.messageId, [...(own.get(tally.messageId) ?? []), tally]);
  const taken = new Map<string, number>();
  const ordered = shuffled(steps, random).map(({ messageId }) => {
    const n = taken.get(messageId) ?? 0;
    taken.set(messageId, n + 1);
    return own.get(messageId)![n]!;
  });
  const batches: DeliveryTally[][] = [];
  for (let i = 0; i < ordered.length;) {
    const size = 1 + Math.floor(random() * 7);
    batches.push(ordered.slice(i, i + size));
    i += size;
  }
  return batches;
}

/** Rows summed per channel and country, sorted, reasons sorted: how two stores' rows compare. */
function totalsOf(rows: readonly DeliveryBucketRow[]): unknown[] {
  const totals = new Map<
    string,
    { started: number; delivered: number; failed: number; bins: number[]; reasons: Map<string, number> }
  >();
  for (const row of rows) {
    expect(row.bins).toHaveLength(DELIVERY_BIN_COUNT);
    const key = JSON.stringify([row.channel, row.country]);
    const sum = totals.get(key) ?? {
      started: 0,
      delivered: 0,
      failed: 0,
      bins: new Array<number>(DELIVERY_BIN_COUNT).fill(0),
      reasons: new Map<string, number>(),
    };
    totals.set(key, sum);
    sum.started += row.started;
    sum.delivered += row.delivered;
    sum.failed += row.failed;
    row.bins.forEach((count, bin) => (sum.bins[bin]! += count));
    for (const [reason, count] of Object.entries(row.reasons))
      sum.reasons.set(reason, (sum.reasons.get(reason) ?? 0) + count);
  }
  return [...totals]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, { reasons, ...sum }]) => ({ key, ...sum, reasons: [...reasons].sort() }));
}

function scriptsOf(commands: readonly Command[]): Command[] {
  return commands.filter((command) => command.name === 'evalsha' || command.name === 'eval');
}

function describeDeliveryStatsOn(name: string, setup: () => Target, cluster: boolean): void {
  describeWithRedis(name, () => {
    const target = setup();
    let prefixes = 0;
    let cleanups: (() => Promise<unknown>)[] = [];
    const prefix = () => `delivery-${cluster ? 'c' : 's'}-${++prefixes}:`;
    /** A store on a client of its own (closed after the test), as an app instance has. */
    function instance(keyPrefix: string): { store: RedisDlrStore; client: Redis | Cluster } {
      const client = target.client();
      const store = new RedisDlrStore({ client, keyPrefix, ttlSeconds: TTL_SECONDS });
      cleanups.push(async () => {
        await store.close();
        await client.quit();
      });
      return { store, client };
    }
    /** Every command `client` sent while `action` ran, and how many pipelines it made. */
    async function sent(client: Redis | Cluster, action: () => Promise<unknown>) {
      const send = jest.spyOn(client, 'sendCommand');
      const pipeline = jest.spyOn(client, 'pipeline');
      try {
        await action();
        return {
          commands: send.mock.calls.map(([command]) => command as Command),
          pipelines: pipeline.mock.calls.length,
        };
      } finally {
        send.mockRestore();
        pipeline.mockRestore();
      }
    }

    afterEach(async () => {
      await Promise.allSettled(cleanups.map((cleanup) => cleanup()));
      cleanups = [];
    });

    it(
      `two instances tallying the same stream at once count each step once (seed ${FUZZ_SEED})`,
      replayable(async () => {
        const keyPrefix = prefix();
        const [a, b] = [instance(keyPrefix), instance(keyPrefix)];
        const now = Date.now();
        const batches = streamOf(FUZZ_SEED, now);
        const reference = new InMemoryDeliveryStats(10_000);
        const expected = batches.map((batch) => reference.tally(batch, now));
        const run = async (store: RedisDlrStore) => {
          const answers: (readonly (number | null)[])[] = [];
          for (const batch of batches) answers.push(await store.tallyDelivery(batch));
          return answers;
        };
        const [fromA, fromB] = await Promise.all([run(a.store), run(b.store)]);
        // Each measured delivery is answered by one instance, with the reference's duration.
        batches.forEach((batch, i) =>
          batch.forEach((_, j) => {
            const answered = [fromA[i]![j], fromB[i]![j]].filter((answer) => answer !== null);
            expect(answered).toEqual(expected[i]![j] === null ? [] : [expected[i]![j]]);
          }),
        );
        expect(expected.flat().filter((answer) => answer !== null).length).toBeGreaterThan(20);
        for (const window of ['1h', '24h'] as DeliveryWindow[]) {
          const rows = await a.store.deliveryBuckets(window, now);
          expect(totalsOf(rows)).toEqual(totalsOf(reference.buckets(window, now)));
          expect(totalsOf(await b.store.deliveryBuckets(window, now))).toEqual(totalsOf(rows));
        }
        const day = totalsOf(await a.store.deliveryBuckets('24h', now)) as { started: number }[];
        const messages = new Set(batches.flat().map((tally) => tally.messageId));
        expect(day.reduce((sum, row) => sum + row.started, 0)).toBe(messages.size);
        expect(messages.size).toBeGreaterThan(130);
      }),
    );

    it('sets a TTL on every key it writes: messages by ttlSeconds, minutes and hours past their windows', async () => {
      const keyPrefix = prefix();
      const { store } = instance(keyPrefix);
      const now = Date.now();
      const batches = streamOf(FUZZ_SEED + 1, now, 60);
      for (const batch of batches) await store.tallyDelivery(batch);
      // A step received 3 hours ago: its minute is of no window any more, its hour is.
      const old = now - 3 * HOUR_MS;
      await store.tallyDelivery([
        {
          messageId: 'old',
          channel: 'sms',
          country: 'EE',
          step: 'started',
          reason: null,
          at: old,
          receivedAt: old,
        },
      ]);
      const tallies = [...batches.flat(), { messageId: 'old', receivedAt: old }];
      const keys = await target.keys(keyPrefix);
      // The store's layout record, written by its startup check, is meant to stay.
      expect(keys.get(`${keyPrefix}buckets`)).toBe(-1);
      keys.delete(`${keyPrefix}buckets`);
      // Not the old step's minute: its EXPIREAT has passed, so Redis dropped it at once.
      const minutes = new Set(batches.flat().map((t) => deliveryBucketsOf(t.receivedAt).minute));
      const tens = new Set(
        [...minutes].map((minute) => Math.floor(minute / TEN_MINUTES_MS) * TEN_MINUTES_MS),
      );
      const hours = new Set(tallies.map((t) => deliveryBucketsOf(t.receivedAt).hour));
      const messages = new Set(tallies.map((t) => t.messageId));
      const kinds = { message: 0, minute: 0, ten: 0, hour: 0 };
      for (const [key, pttl] of keys) {
        expect([key, pttl > 0]).toEqual([key, true]);
        const minute = /\{delivery:(\d+)\}:v2:minute:(\d+)$/.exec(key);
        const hour = /\{delivery:(\d+)\}:v2:hour$/.exec(key);
        const ten = /\{delivery:(\d+)\}:v2:ten:(\d+)$/.exec(key);
        if (ten) {
          kinds.ten++;
          expect(tens.has(Number(ten[2]))).toBe(true);
          expect(Math.floor(Number(ten[2]) / HOUR_MS) * HOUR_MS).toBe(Number(ten[1]));
          expect(pttl).toBeLessThanOrEqual(Number(ten[2]) + MINUTE_KEEP_MS - now + 1000);
          expect(pttl).toBeGreaterThan(Number(ten[2]) + MINUTE_KEEP_MS - Date.now() - 2000);
        } else if (minute) {
          kinds.minute++;
          expect(minutes.has(Number(minute[2]))).toBe(true);
          expect(Math.floor(Number(minute[2]) / HOUR_MS) * HOUR_MS).toBe(Number(minute[1]));
          expect(pttl).toBeLessThanOrEqual(Number(minute[2]) + MINUTE_KEEP_MS - now + 1000);
          expect(pttl).toBeGreaterThan(Number(minute[2]) + MINUTE_KEEP_MS - Date.now() - 2000);
        } else if (hour) {
          kinds.hour++;
          expect(hours.has(Number(hour[1]))).toBe(true);
          expect(pttl).toBeLessThanOrEqual(Number(hour[1]) + HOUR_KEEP_MS - now + 1000);
          expect(pttl).toBeGreaterThan(Number(hour[1]) + HOUR_KEEP_MS - Date.now() - 2000);
        } else {
          kinds.message++;
          expect(key).toMatch(new RegExp(`^${keyPrefix}\\{\\d+\\}:delivery:`));
          expect(pttl).toBeLessThanOrEqual(TTL_SECONDS * 1000);
          expect(pttl).toBeGreaterThan(TTL_SECONDS * 1000 - 60_000);
        }
      }
      expect(kinds).toEqual({
        message: messages.size,
        minute: minutes.size,
        ten: tens.size,
        hour: hours.size,
      });
      expect(hours.size).toBeGreaterThanOrEqual(3);
    });

    it('writes the fields its keys module reads and encodes, for any channel, country and reason', async () => {
      const keyPrefix = prefix();
      const { store, client } = instance(keyPrefix);
      const odd = ['"]', '\\', ',"s"]', '__proto__', 'a\u0000b', '中文', ''];
      const now = Date.now() - MINUTE_MS;
      const tallies: DeliveryTally[] = odd.flatMap((text, i) => [
        {
          messageId: `o${i}`,
          channel: text,
          country: odd[(i + 1) % odd.length]!,
          step: 'started',
          reason: null,
          at: now,
          receivedAt: now,
        },
        {
          messageId: `o${i}`,
          channel: text,
          country: odd[(i + 1) % odd.length]!,
          step: i % 2 ? 'delivered' : 'failed',
          reason: odd[(i + 2) % odd.length]!,
          at: now + 3000,
          receivedAt: now,
        },
      ]);
      await store.tallyDelivery(tallies);
      const { minute, hour } = deliveryBucketsOf(now);
      // One field per channel and country, whose value packs every counter of the pair.
      const hash = await client.hgetall(`${keyPrefix}{delivery:${hour}}:v2:minute:${minute}`);
      const expected = odd.map((channel, i) => {
        const country = odd[(i + 1) % odd.length]!;
        const counts = new Array<number>(DELIVERY_COUNTS).fill(0);
        counts[0] = 1;
        counts[i % 2 ? 1 : 2] = 1;
        if (i % 2) counts[3 + 2] = 1; // 3 s: the bin up to 5 s
        const reasons = i % 2 ? {} : { [odd[(i + 2) % odd.length]!]: 1 };
        return [deliveryPairField(channel, country), counts, reasons] as const;
      });
      expect(Object.keys(hash).sort()).toEqual(expected.map(([field]) => field).sort());
      for (const [field, counts, reasons] of expected) {
        expect(parseDeliveryPairField(field)).not.toBeNull();
        const sum = emptyDeliverySum();
        expect(addDeliveryValue(sum, hash[field]!)).toBe(true);
        expect([field, sum.counts, decodeDeliveryReasons(sum.reasons)]).toEqual([field, counts, reasons]);
      }
      // The minute's block of ten and its hour hold the same.
      const ten = Math.floor(minute / TEN_MINUTES_MS) * TEN_MINUTES_MS;
      expect(await client.hgetall(`${keyPrefix}{delivery:${hour}}:v2:ten:${ten}`)).toEqual(hash);
      expect(await client.hgetall(`${keyPrefix}{delivery:${hour}}:v2:hour`)).toEqual(hash);
      const rows = await store.deliveryBuckets('1h', Date.now());
      expect(rows.map((row) => [row.channel, row.country, row.started]).sort()).toEqual(
        odd.map((channel, i) => [channel, odd[(i + 1) % odd.length]!, 1]).sort(),
      );
      expect(rows.find((row) => row.channel === '')?.reasons).toEqual({ '\\': 1 });
      expect(rows.find((row) => row.channel === '"]')?.reasons).toEqual({ ',"s"]': 1 });
    });

    it('adds up a pair over many calls in one field, reasons in any text, and answers one row per pair', async () => {
      const keyPrefix = prefix();
      const { store, client } = instance(keyPrefix);
      const now = Date.now() - MINUTE_MS;
      const reasons = ['expired', 'a\nb', '1,"x"\n2,"y"', '\u2028', 'expired'];
      const calls = Array.from({ length: 40 }, (_, i): DeliveryTally[] => {
        const base = {
          messageId: `p${i}`,
          channel: 'sms',
          country: 'EE',
          receivedAt: now - (i % 3) * MINUTE_MS,
        };
        return [
          { ...base, step: 'started', reason: null, at: base.receivedAt },
          i % 4
            ? { ...base, step: 'delivered', reason: null, at: base.receivedAt + i * 1000 }
            : { ...base, step: 'failed', reason: reasons[(i / 4) % reasons.length]!, at: base.receivedAt },
        ];
      });
      const reference = new InMemoryDeliveryStats(1_000);
      for (const call of calls) {
        reference.tally(call);
        await store.tallyDelivery(call);
      }
      const { minute, hour } = deliveryBucketsOf(now);
      expect(Object.keys(await client.hgetall(`${keyPrefix}{delivery:${hour}}:v2:minute:${minute}`))).toEqual(
        [deliveryPairField('sms', 'EE')],
      );
      const rows = await store.deliveryBuckets('1h', Date.now());
      expect(rows).toHaveLength(1);
      for (const window of ['1h', '24h'] as DeliveryWindow[]) {
        expect(totalsOf(await store.deliveryBuckets(window, Date.now()))).toEqual(
          totalsOf(reference.buckets(window, Date.now())),
        );
      }
      expect(rows[0]!.reasons).toEqual({ expired: 4, 'a\nb': 2, '1,"x"\n2,"y"': 2, '\u2028': 2 });
    });

    it('answers the 1h window from blocks of ten and minutes, wherever it starts in a block', async () => {
      const { store } = instance(prefix());
      const end = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
      // Two messages per minute over the last 75 minutes, started and failed where received.
      const tallies = Array.from({ length: 150 }, (_, i): DeliveryTally[] => {
        const receivedAt = end - Math.floor(i / 2) * MINUTE_MS + 1_000 * (i % 2);
        const base = { messageId: `w${i}`, channel: 'sms', country: 'EE', receivedAt, at: receivedAt };
        return [
          { ...base, step: 'started', reason: null },
          { ...base, step: 'failed', reason: `r${i % 3}` },
        ];
      }).flat();
      await store.tallyDelivery(tallies);
      for (let shift = 0; shift < 12; shift++) {
        const now = end - shift * MINUTE_MS + 30_000;
        const { first, last } = deliveryWindowRange('1h', now);
        const inside = tallies.filter(
          (t) => t.step === 'failed' && t.receivedAt >= first && t.receivedAt < last + MINUTE_MS,
        );
        const reasons: Record<string, number> = {};
        for (const { reason } of inside) reasons[reason!] = (reasons[reason!] ?? 0) + 1;
        const rows = await store.deliveryBuckets('1h', now);
        expect([shift, rows.map(({ started, failed, reasons }) => ({ started, failed, reasons }))]).toEqual([
          shift,
          [{ started: inside.length, failed: inside.length, reasons }],
        ]);
      }
    });

    it('reads neither the per-counter hashes of earlier versions nor fields and values it does not know', async () => {
      const keyPrefix = prefix();
      const { store, client } = instance(keyPrefix);
      const now = Date.now() - MINUTE_MS;
      await store.tallyDelivery([
        {
          messageId: 'k',
          channel: 'sms',
          country: 'EE',
          step: 'started',
          reason: null,
          at: now,
          receivedAt: now,
        },
      ]);
      const { minute, hour } = deliveryBucketsOf(now);
      const before = await store.deliveryBuckets('1h', Date.now());
      // The layout before v2: one field per counter, under keys without `v2`.
      await client.hset(`${keyPrefix}{delivery:${hour}}:minute:${minute}`, '["sms","EE","s"]', '5');
      await client.hset(`${keyPrefix}{delivery:${hour}}:hour`, '["sms","EE","s"]', '5');
      // In each hash a window may read the minute from: itself, its block of ten, its hour.
      const ten = Math.floor(minute / TEN_MINUTES_MS) * TEN_MINUTES_MS;
      for (const key of [`minute:${minute}`, `ten:${ten}`, 'hour'].map(
        (name) => `${keyPrefix}{delivery:${hour}}:v2:${name}`,
      )) {
        await client.hset(key, '["sms","EE","s"]', '5', 'not json', '1', '["sms","LV"]', '1,2,3');
        await client.hset(key, '["sms","LT"]', `${new Array(DELIVERY_COUNTS).fill('x').join(',')}`);
        await client.hset(key, '["sms","LV","x"]', `1${',0'.repeat(DELIVERY_COUNTS - 1)}`);
      }
      await client.expire(`${keyPrefix}{delivery:${hour}}:minute:${minute}`, 60);
      await client.expire(`${keyPrefix}{delivery:${hour}}:hour`, 60);
      expect(before).toHaveLength(1);
      expect(await store.deliveryBuckets('1h', Date.now())).toEqual(before);
      expect(await store.deliveryBuckets('24h', Date.now())).toEqual(before);
    });

    it('rejects a tally without finite times as a TypeError, not as Redis being unavailable', async () => {
      const { store } = instance(prefix());
      const tally: DeliveryTally = {
        messageId: 'x',
        channel: 'sms',
        country: 'EE',
        step: 'started',
        reason: null,
        at: NaN,
        receivedAt: 1,
      };
      await expect(store.tallyDelivery([tally])).rejects.toThrow(TypeError);
      await expect(store.tallyDelivery([{ ...tally, at: 1, step: 'toString' as 'started' }])).rejects.toThrow(
        TypeError,
      );
      expect(await store.tallyDelivery([])).toEqual([]);
    });

    if (!cluster) {
      it('tallies a call with one script call and no other command, and reads a window in one pipeline', async () => {
        const { store, client } = instance(prefix());
        const now = Date.now();
        const batch = streamOf(FUZZ_SEED + 2, now, 40).flat();
        await store.tallyDelivery(batch.slice(0, 1)); // connects, checks the layout, loads the script
        const tally = await sent(client, () => store.tallyDelivery(batch.slice(1)));
        expect(tally.commands.map((command) => command.name)).toEqual(['evalsha']);
        // 1h: 6 blocks of ten when its first minute starts a block, else 5 and 15 - 5 minutes.
        const aligned = deliveryWindowRange('1h', now).first % TEN_MINUTES_MS === 0;
        for (const [window, buckets] of [
          ['1h', aligned ? 6 : 15],
          ['24h', 24],
        ] as const) {
          const read = await sent(client, () => store.deliveryBuckets(window, now));
          expect(read.pipelines).toBe(1);
          expect(read.commands.map((command) => command.name)).toEqual(new Array(buckets).fill('hgetall'));
        }
      });
    } else {
      it('decides each message bucket in one script and adds each hour in one, every script on one slot', async () => {
        const keyPrefix = prefix();
        const { store, client } = instance(keyPrefix);
        await store.ping();
        const id = fc.oneof(
          fc.uuid(),
          fc.string({ minLength: 1, maxLength: 24 }),
          fc.constantFrom('{', '}', '{}', 'a{b}c'),
        );
        const buckets = new RedisDlrKeys(keyPrefix, 16);
        const shas = new Map(
          [DELIVERY_TALLY, DELIVERY_ADD].map((script) => [
            createHash('sha1').update(script.lua).digest('hex'),
            script,
          ]),
        );
        /** The script a command runs: EVALSHA names it by SHA1, EVAL (a connection's first call) by its Lua. */
        const scriptOf = (command: Command) =>
          command.name === 'evalsha'
            ? shas.get(String(command.args[0]))
            : [DELIVERY_TALLY, DELIVERY_ADD].find((script) => script.lua === String(command.args[0]));
        await fc.assert(
          fc.asyncProperty(
            fc.array(
              fc.tuple(
                id,
                fc.constantFrom('started', 'delivered', 'failed'),
                fc.integer({ min: 0, max: 150 }),
              ),
              { minLength: 1, maxLength: 12 },
            ),
            async (drawn) => {
              const now = Date.now();
              const tallies: DeliveryTally[] = drawn.map(([messageId, step, minutesAgo]) => ({
                messageId,
                channel: 'sms',
                country: 'EE',
                step: step as DeliveryTally['step'],
                reason: null,
                at: now - minutesAgo * MINUTE_MS,
                receivedAt: now - minutesAgo * MINUTE_MS,
              }));
              const { commands } = await sent(client, () => store.tallyDelivery(tallies));
              const scripts = scriptsOf(commands);
              const messageBuckets = new Set(tallies.map((t) => buckets.bucketOf(t.messageId)));
              const hours = new Set(tallies.map((t) => deliveryBucketsOf(t.receivedAt).hour));
              // Decisions: one per message bucket. Counts: one per hour at most (none when nothing counted).
              expect(scripts.filter((command) => scriptOf(command) === DELIVERY_TALLY)).toHaveLength(
                messageBuckets.size,
              );
              expect(
                scripts.filter((command) => scriptOf(command) === DELIVERY_ADD).length,
              ).toBeLessThanOrEqual(hours.size);
              expect(commands).toHaveLength(scripts.length);
              expect(scripts.every((command) => scriptOf(command) !== undefined)).toBe(true);
              for (const command of scripts) {
                expect(new Set(await target.slots!(command.getKeys().map(String))).size).toBe(1);
              }
            },
          ),
          { numRuns: 40, seed: FUZZ_SEED },
        );
        for (const [window, groups] of [
          ['1h', [1, 2]],
          ['24h', [24]],
        ] as const) {
          const read = await sent(client, () => store.deliveryBuckets(window, Date.now()));
          expect(groups).toContain(read.pipelines);
        }
      });
    }
  });
}

describeDeliveryStatsOn(
  'RedisDlrStore delivery analytics (standalone Redis)',
  () => {
    let server: RedisServer;
    let admin: Redis;
    beforeAll(async () => {
      server = await startRedisServer();
      admin = new Redis(server.url);
    });
    afterAll(async () => {
      await admin.quit();
      await server.stop();
    });
    return {
      client: () => new Redis(server.url, { enableOfflineQueue: false }),
      async keys(prefix) {
        const found = new Map<string, number>();
        for await (const keys of admin.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<
          string[]
        >) {
          for (const key of keys) found.set(key, await admin.pttl(key));
        }
        return found;
      },
    };
  },
  false,
);

describeDeliveryStatsOn(
  'RedisDlrStore delivery analytics (Redis Cluster)',
  () => {
    let redisCluster: RedisCluster;
    let admin: Cluster;
    beforeAll(async () => {
      redisCluster = await startRedisCluster();
      admin = new Cluster([...redisCluster.nodes]);
    }, 30_000);
    afterAll(async () => {
      await admin.quit();
      await redisCluster.stop();
    });
    return {
      client: () => new Cluster([...redisCluster.nodes], { enableOfflineQueue: false }),
      async keys(prefix) {
        const found = new Map<string, number>();
        for (const node of admin.nodes('master')) {
          for await (const keys of node.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<
            string[]
          >) {
            for (const key of keys) found.set(key, await admin.pttl(key));
          }
        }
        return found;
      },
      slots: (keys) => redisCluster.keyslots(keys),
    };
  },
  true,
);
