import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool, type PoolConfig } from 'pg';
import { DELIVERY_BIN_COUNT, deliveryBinOf } from '../../lib/analytics/delivery-bins.js';
import { HOUR_MS, MINUTE_MS } from '../../lib/analytics/delivery-window.js';
import type { DeliveryBucketRow, DeliveryTally } from '../../lib/interfaces/delivery-stats.interface.js';
import { PostgresDlrStore, type PostgresDlrStoreOptions } from '../../lib/postgres/index.js';
import {
  type PostgresServer,
  describeWithPostgres,
  startPostgresServer,
} from '../support/postgres-server.js';

const DAY = 86_400_000;
const TEN = 10 * MINUTE_MS;
const SIX = 6 * HOUR_MS;
/** 10:30:15 UTC on a fixed day: windows are asked for with this `now`, so that no test races the clock. */
const NOW = Date.UTC(2026, 0, 15, 10, 30, 15);

function tally(
  messageId: string,
  step: DeliveryTally['step'],
  at: number,
  extra: Partial<DeliveryTally> = {},
): DeliveryTally {
  return { messageId, channel: 'sms', country: 'EE', step, reason: null, at, receivedAt: at, ...extra };
}

function bins(...counted: [bin: number, count: number][]): number[] {
  const all = new Array<number>(DELIVERY_BIN_COUNT).fill(0);
  for (const [bin, count] of counted) all[bin] = count;
  return all;
}

const byPair = (rows: readonly DeliveryBucketRow[]) =>
  [...rows].sort((a, b) => `${a.channel}/${a.country}`.localeCompare(`${b.channel}/${b.country}`));

describeWithPostgres('PostgresDlrStore delivery analytics', () => {
  let server: PostgresServer;
  let admin: Pool;
  let schemas = 0;
  const schema = () => `stats_${++schemas}`;
  const cleanups: (() => Promise<unknown>)[] = [];
  function pool(config: PoolConfig = {}): Pool {
    const created = new Pool({ connectionString: server.url, ...config });
    created.on('error', () => undefined);
    cleanups.push(() => created.end());
    return created;
  }
  function store(options: PostgresDlrStoreOptions = {}): PostgresDlrStore {
    const created = new PostgresDlrStore(
      options.pool
        ? { pruneIntervalMs: 0, ...options }
        : { connectionString: server.url, schema: schema(), pruneIntervalMs: 0, ...options },
    );
    cleanups.unshift(() => created.close());
    return created;
  }
  const schemaOf = (dlrStore: PostgresDlrStore) => (dlrStore as unknown as { schema: string }).schema;

  beforeAll(async () => {
    server = await startPostgresServer();
    admin = new Pool({ connectionString: server.url, max: 2 });
    await admin.query('CREATE EXTENSION pg_stat_statements');
    await admin.query('CREATE DATABASE roundtrips');
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  });
  afterAll(async () => {
    await admin.end();
    await server.stop();
  });

  it('counts a start once and only the first final step, in the minute and the hour of receivedAt', async () => {
    const dlrStore = store();
    const t = NOW - 20 * MINUTE_MS;
    const answers = await dlrStore.tallyDelivery([
      tally('m1', 'started', t),
      tally('m1', 'started', t + 500),
      tally('m1', 'delivered', t + 4_000),
      tally('m1', 'delivered', t + 9_000),
      tally('m2', 'started', t, { channel: 'viber', country: 'LV' }),
      tally('m2', 'failed', t + 1_000, { channel: 'viber', country: 'LV', reason: 'expired' }),
      tally('m2', 'delivered', t + 2_000, { channel: 'viber', country: 'LV' }),
      tally('m3', 'delivered', t + 3_000),
      tally('m4', 'failed', t + 3_000, { channel: 'viber', country: 'LV' }),
    ]);
    expect(answers).toEqual([null, null, 4, null, null, null, null, null, null]);
    // A track() after the first report lowers the start; the delivery is measured from it.
    expect(
      await dlrStore.tallyDelivery([
        tally('m5', 'started', t + 60_000, { receivedAt: t + 60_000 }),
        tally('m5', 'started', t - 600_000, { receivedAt: t + 61_000 }),
        tally('m5', 'delivered', t + 120_000, { receivedAt: t + 121_000 }),
      ]),
    ).toEqual([null, null, 720]);

    const hour = byPair(await dlrStore.deliveryBuckets('24h', NOW));
    expect(hour).toEqual([
      {
        channel: 'sms',
        country: 'EE',
        started: 3,
        delivered: 3,
        failed: 0,
        bins: bins([2, 1], [10, 1]),
        reasons: {},
      },
      {
        channel: 'viber',
        country: 'LV',
        started: 2,
        delivered: 0,
        failed: 2,
        bins: bins(),
        reasons: { expired: 1, unknown: 1 },
      },
    ]);
    expect(deliveryBinOf(4)).toBe(2);
    expect(deliveryBinOf(720)).toBe(10);
    // The 1h window sums the minutes (m5's steps fell in two other minutes than the rest) into
    // one row per pair, as the 24h window sums its hour.
    const minutes = await dlrStore.deliveryBuckets('1h', NOW);
    expect(byPair(minutes)).toEqual(hour);
    const sum = (key: 'started' | 'delivered' | 'failed') =>
      minutes.reduce((total, row) => total + row[key], 0);
    expect([sum('started'), sum('delivered'), sum('failed')]).toEqual([5, 3, 2]);
    // Outside the windows: an hour later, the minutes are gone from 1h; a day later, the hour from 24h.
    expect(await dlrStore.deliveryBuckets('1h', NOW + HOUR_MS)).toEqual([]);
    expect(await dlrStore.deliveryBuckets('24h', NOW + 24 * HOUR_MS)).toEqual([]);
    expect(byPair(await dlrStore.deliveryBuckets('24h', NOW + 23 * HOUR_MS))).toEqual(hour);
  });

  it('keeps channels, countries and reasons PostgreSQL text cannot hold, and any reason as a key', async () => {
    const dlrStore = store();
    const odd = { channel: 'a\u0000b', country: '_OTHER' };
    await dlrStore.tallyDelivery([
      tally('x\u0000', 'failed', NOW, { ...odd, reason: '__proto__' }),
      tally('x\uD800', 'failed', NOW, { ...odd, reason: 'nul\u0000reason' }),
      tally('\u0001x', 'failed', NOW, { ...odd, reason: '__proto__' }),
    ]);
    const [row] = await dlrStore.deliveryBuckets('1h', NOW);
    expect(row).toMatchObject({ ...odd, started: 3, failed: 3 });
    expect(Object.entries(row!.reasons).sort()).toEqual([
      ['__proto__', 2],
      ['nul\u0000reason', 1],
    ]);
  });

  it('tallies a batch with one statement, and calls made while one is in flight together in the next', async () => {
    const url = server.url.replace(/\/postgres$/, '/roundtrips');
    const dlrStore = store({ connectionString: url, pool: undefined });
    await dlrStore.ensureSchema();
    const statements = async () =>
      (
        await admin.query<{ query: string; calls: string }>(
          `SELECT query, calls FROM pg_stat_statements
           WHERE toplevel AND dbid = (SELECT oid FROM pg_database WHERE datname = 'roundtrips')`,
        )
      ).rows.map((row) => ({ query: row.query, calls: Number(row.calls) }));
    await admin.query('SELECT pg_stat_statements_reset()');
    const batch = Array.from({ length: 50 }, (_, i) => [
      tally(`rt-${i}`, 'started', NOW),
      tally(`rt-${i}`, 'delivered', NOW + 1_000),
    ]).flat();
    const answers = await dlrStore.tallyDelivery(batch);
    expect(answers.filter((seconds) => seconds === 1)).toHaveLength(50);
    expect(await dlrStore.tallyDelivery([])).toEqual([]);
    expect(await statements()).toEqual([
      { query: expect.stringMatching(/\.tally_delivery\(\$1::text\[\]/), calls: 1 },
    ]);

    // 40 calls at once: the first is sent alone, the 39 made meanwhile together; each gets its answers.
    await admin.query('SELECT pg_stat_statements_reset()');
    const calls = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        dlrStore.tallyDelivery([
          tally(`together-${i}`, 'started', NOW),
          tally(`together-${i}`, 'delivered', NOW + i * 1_000),
        ]),
      ),
    );
    expect(calls).toEqual(Array.from({ length: 40 }, (_, i) => [null, i]));
    expect(await statements()).toEqual([{ query: expect.any(String), calls: 2 }]);
    // Calls that waited are sent together up to 1 000 tallies: three of 600 take three statements.
    await admin.query('SELECT pg_stat_statements_reset()');
    const large = (call: number) =>
      Array.from({ length: 600 }, (_, i) => tally(`large-${call}-${i}`, 'started', NOW));
    const counted = await Promise.all([0, 1, 2].map((call) => dlrStore.tallyDelivery(large(call))));
    expect(counted.map((answer) => answer.length)).toEqual([600, 600, 600]);
    expect(await statements()).toEqual([{ query: expect.any(String), calls: 3 }]);
    // A bad tally fails its own call only, before anything is sent.
    const [bad, good] = await Promise.allSettled([
      dlrStore.tallyDelivery([tally('bad', 'started', Number.NaN)]),
      dlrStore.tallyDelivery([tally('good', 'failed', NOW)]),
    ]);
    expect(bad).toMatchObject({ status: 'rejected', reason: expect.any(TypeError) });
    expect(good).toEqual({ status: 'fulfilled', value: [null] });
  });

  it('counts once what four instances tally at once, in opposite orders, without a deadlock', async () => {
    const shared = schema();
    const [a, b, c, d] = Array.from({ length: 4 }, () => store({ schema: shared }));
    await Promise.all([a, b, c, d].map((instance) => instance!.ensureSchema()));
    const deadlocks = async () =>
      Number(
        (await admin.query(`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`))
          .rows[0].deadlocks,
      );
    const before = await deadlocks();
    // 200 messages over 4 channels: every batch touches the same bucket rows as the others.
    const steps = (i: number) => {
      const channel = ['sms', 'viber', 'whatsapp', 'telegram'][i % 4]!;
      const final = i % 3 === 0 ? tally(`c-${i}`, 'failed', NOW + i, { channel, reason: 'err-1' }) : null;
      return [
        tally(`c-${i}`, 'started', NOW, { channel }),
        final ?? tally(`c-${i}`, 'delivered', NOW + 2_000 + i, { channel }),
      ];
    };
    const ids = Array.from({ length: 200 }, (_, i) => i);
    const batches = (order: number[]) =>
      Array.from({ length: 20 }, (_, k) => order.slice(k * 10, k * 10 + 10).flatMap(steps));
    const answers = await Promise.all([
      ...batches(ids).map((batch, k) => (k % 2 ? a : c)!.tallyDelivery(batch)),
      ...batches([...ids].reverse()).map((batch, k) => (k % 2 ? b : d)!.tallyDelivery(batch)),
    ]);
    const durations = answers.flat().filter((seconds) => seconds !== null);
    expect(durations).toHaveLength(133);
    const rows = await a!.deliveryBuckets('1h', NOW);
    const total = (key: 'started' | 'delivered' | 'failed') => rows.reduce((sum, row) => sum + row[key], 0);
    expect([total('started'), total('delivered'), total('failed')]).toEqual([200, 133, 67]);
    expect(rows.reduce((sum, row) => sum + row.bins.reduce((n, count) => n + count, 0), 0)).toBe(133);
    expect(rows.map((row) => row.channel).sort()).toEqual(['sms', 'telegram', 'viber', 'whatsapp']);
    expect(await deadlocks()).toBe(before);
  });

  it('sums exactly the 60 minutes of 1h from blocks of ten and minutes, wherever the window begins', async () => {
    const dlrStore = store();
    // One message started in each minute of three hours: minute m's message started at m.
    const from = NOW - (NOW % HOUR_MS) - 2 * HOUR_MS;
    await dlrStore.tallyDelivery(
      Array.from({ length: 180 }, (_, m) => tally(`each-${m}`, 'started', from + m * MINUTE_MS + 30_000)),
    );
    const s = schemaOf(dlrStore);
    const tens = await admin.query(`SELECT count(*) AS n, sum(started) AS started FROM ${s}.delivery_buckets
      WHERE bucket_ms = ${TEN}`);
    expect(tens.rows[0]).toEqual({ n: '18', started: '180' });
    // Every beginning in a block of ten and the minutes around the three hours' edges.
    for (let minute = 50; minute <= 190; minute += minute < 65 || minute > 175 ? 1 : 7) {
      const now = from + minute * MINUTE_MS + 59_999;
      const expected = Math.min(minute, 179) - Math.max(minute - 59, 0) + 1;
      const [row] = await dlrStore.deliveryBuckets('1h', now);
      expect([minute, row?.started]).toEqual([minute, expected]);
    }
  });

  it('sums exactly the 24 hours of 24h from blocks of six and hours, wherever the window begins', async () => {
    const dlrStore = store();
    // One message started in each hour of three days: hour h's message started at h.
    const from = NOW - (NOW % DAY) - 2 * DAY;
    await dlrStore.tallyDelivery(
      Array.from({ length: 72 }, (_, h) => tally(`each-${h}`, 'started', from + h * HOUR_MS + 1_800_000)),
    );
    const s = schemaOf(dlrStore);
    const sixes = await admin.query(`SELECT count(*) AS n, sum(started) AS started FROM ${s}.delivery_buckets
      WHERE bucket_ms = ${SIX}`);
    expect(sixes.rows[0]).toEqual({ n: '12', started: '72' });
    for (let hour = 20; hour <= 80; hour += 1) {
      const now = from + hour * HOUR_MS + HOUR_MS - 1;
      const expected = Math.min(hour, 71) - Math.max(hour - 23, 0) + 1;
      const [row] = await dlrStore.deliveryBuckets('24h', now);
      expect([hour, row?.started]).toEqual([hour, expected]);
    }
  });

  it('prunes silent messages past retentionDays, minutes and blocks of ten after 3 hours, hours and blocks of six after 48', async () => {
    const dlrStore = store({ retentionDays: 30, pruneBatchSize: 2 });
    const now = Date.now();
    const old = now - 31 * DAY;
    await dlrStore.tallyDelivery([
      ...Array.from({ length: 5 }, (_, i) => tally(`old-${i}`, 'started', old)),
      tally('recent', 'started', old),
      tally('recent', 'delivered', now - 29 * DAY),
      tally('minute-kept', 'started', now - 2 * HOUR_MS),
      tally('minute-gone', 'started', now - 3 * HOUR_MS - 2 * MINUTE_MS),
      tally('hour-kept', 'started', now - 46 * HOUR_MS),
    ]);
    const s = schemaOf(dlrStore);
    const left = async () => ({
      messages: (
        await admin.query<{ message_id: string }>(`SELECT message_id FROM ${s}.delivery_messages ORDER BY 1`)
      ).rows.map((row) => row.message_id),
      minutes: Number(
        (await admin.query(`SELECT count(*) AS n FROM ${s}.delivery_buckets WHERE bucket_ms = ${MINUTE_MS}`))
          .rows[0].n,
      ),
      tens: Number(
        (await admin.query(`SELECT count(*) AS n FROM ${s}.delivery_buckets WHERE bucket_ms = ${TEN}`))
          .rows[0].n,
      ),
      hours: Number(
        (await admin.query(`SELECT count(*) AS n FROM ${s}.delivery_buckets WHERE bucket_ms = ${HOUR_MS}`))
          .rows[0].n,
      ),
      sixes: (
        await admin.query<{ start_at: string }>(
          `SELECT start_at FROM ${s}.delivery_buckets WHERE bucket_ms = ${SIX} ORDER BY 1`,
        )
      ).rows.map((row) => Number(row.start_at)),
    });
    // The blocks of six hours of those times (some may share one), and those that start 48 h ago or later.
    const times = [
      old,
      now - 29 * DAY,
      now - 46 * HOUR_MS,
      now - 3 * HOUR_MS - 2 * MINUTE_MS,
      now - 2 * HOUR_MS,
    ];
    const blocks = [...new Set(times.map((at) => at - (at % SIX)))].sort((a, b) => a - b);
    // The buckets of 31 and 29 days, 46 h, 3 h 2 min and 2 h ago: five of each size.
    expect(await left()).toMatchObject({ minutes: 5, tens: 5, hours: 5, sixes: blocks });
    await dlrStore.prune();
    const after = await left();
    // Five old messages in batches of two: the backlog is worked off in one run.
    expect(after.messages).toEqual(['hour-kept', 'minute-gone', 'minute-kept', 'recent']);
    expect(after).toMatchObject({
      minutes: 1,
      tens: 1,
      hours: 3,
      sixes: blocks.filter((start) => start >= now - 48 * HOUR_MS),
    });
  });

  it('serves the window query and every statement of a tally from an index (EXPLAIN)', async () => {
    const planned = schema();
    const plans: string[] = [];
    const given = pool({ max: 1 });
    // auto_explain logs the plan of every statement, nested ones in tally_delivery() too, as notices.
    given.on('connect', (client) => {
      client.on('notice', (notice) => plans.push(notice.message ?? ''));
      void client.query(
        `LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
         SET client_min_messages = log; SET plan_cache_mode = force_generic_plan`,
      );
    });
    const dlrStore = store({ pool: given, schema: planned });
    await dlrStore.ensureSchema();
    // 20 days of hours and blocks of six (a block delivered 6, the sum of its hours), 2 days of
    // minutes and blocks of ten (a block started 10) for 20 pairs, and 20 000 messages.
    await admin.query(
      `INSERT INTO ${planned}.delivery_buckets (bucket_ms, start_at, channel, country, started, delivered, failed, bins, reasons)
       SELECT ms, ${NOW} - (${NOW} % ms) - i * ms, 'ch-' || (p % 4), 'C' || (p / 4), ms / ${MINUTE_MS}, greatest(ms / ${HOUR_MS}, 1), 0,
         array_fill(0, ARRAY[${DELIVERY_BIN_COUNT}]), '{}'
       FROM (VALUES (${MINUTE_MS}, 2880), (${TEN}, 288), (${HOUR_MS}, 480), (${SIX}, 80)) AS g(ms, n), generate_series(0, n) i,
         generate_series(0, 19) p;
       INSERT INTO ${planned}.delivery_messages (message_id, started_at, final, updated_at)
       SELECT 'seed-' || i, ${NOW}, i % 2 = 0, ${NOW} - i * 1000 FROM generate_series(1, 20000) i;
       ANALYZE ${planned}.delivery_buckets; ANALYZE ${planned}.delivery_messages;`,
    );
    plans.length = 0;
    // One row per pair, each the sum of the window's buckets: 60 minutes (9 + 5 blocks + 1 at
    // 10:30:15), or 24 hours (1 + 3 blocks + 5).
    const minutes = await dlrStore.deliveryBuckets('1h', NOW);
    expect(minutes).toHaveLength(20);
    expect(minutes.map((row) => row.started)).toEqual(new Array(20).fill(60));
    const hours = await dlrStore.deliveryBuckets('24h', NOW);
    expect(hours.map((row) => row.delivered)).toEqual(new Array(20).fill(24));
    await dlrStore.tallyDelivery([
      tally('seed-1', 'delivered', NOW),
      tally('seed-3', 'failed', NOW, { reason: 'expired' }),
      tally('plan-new', 'started', NOW),
      tally('plan-new', 'started', NOW - 1),
      tally('plan-new', 'delivered', NOW + 1_000),
    ]);
    await dlrStore.prune();
    const text = plans.join('\n\n');
    writeFileSync(join(tmpdir(), 'messente-dlr-postgres-delivery-plans.txt'), text);
    // The window query's own plans (1h and 24h): per range, a range of the primary key.
    const windowPlans = plans.filter((plan) => plan.includes('WHERE bucket_ms = $7 AND start_at >= $8'));
    expect(windowPlans).toHaveLength(2);
    for (const plan of windowPlans) {
      // Three ranges, read twice (the sums and the reasons).
      expect(plan.match(/Index Scan using delivery_buckets_pkey on delivery_buckets\b/g)).toHaveLength(6);
      expect(plan).toMatch(
        /Index Cond: \(\(bucket_ms = \$7\) AND \(start_at >= \$8\) AND \(start_at <= \$9\)\)/,
      );
      expect(plan).not.toMatch(/Seq Scan/);
    }
    expect(text).not.toMatch(/Seq Scan on delivery_(buckets|messages)\b/);
    for (const index of [
      'delivery_buckets_pkey',
      'delivery_messages_pkey',
      'delivery_messages_updated_idx',
    ]) {
      expect(text).toContain(index);
    }
  });
});
