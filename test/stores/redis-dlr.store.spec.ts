import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import type { RecordResult, StoredReport } from '../../lib/interfaces/dlr-store.interface.js';
import { RedisDlrStore, type RedisDlrStoreOptions } from '../../lib/redis/index.js';
import { DEFAULT_BUCKETS, RedisDlrKeys } from '../../lib/redis/redis-dlr.keys.js';
import { type RedisServer, describeWithRedis, startRedisServer } from '../support/redis-server.js';
import { dlr, expectExclusiveClaims, expectOneChangePerReport } from '../support/store-races.js';
import type { OutcomeChange, TrackInput } from '../../lib/interfaces/outcome-store.interface.js';
import { sendInput, sentReport } from '../../lib/testing/dlr-store-contract.tracking.js';

const LONG = 3_600_000;
const past = () => Date.now() - LONG;

/** `calls` per command from `INFO commandstats`. */
async function commandCalls(admin: Redis): Promise<Map<string, number>> {
  const info = await admin.info('commandstats');
  return new Map(
    [...info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)].map(([, name, calls]) => [name!, Number(calls)]),
  );
}

function delta(before: Map<string, number>, after: Map<string, number>, name: string): number {
  return (after.get(name) ?? 0) - (before.get(name) ?? 0);
}

/**
 * Commands each client sent while `action` ran, seen through MONITOR. INFO commandstats cannot
 * tell this: it also counts the commands a script runs, and not who sent them.
 */
async function commandsByClient(url: string, action: () => Promise<void>): Promise<Map<string, string[]>> {
  const echo = new Redis(url);
  await echo.ping();
  const monitor = await echo.monitor();
  const seen = new Map<string, string[]>();
  const marker = `end-${Math.random()}`;
  const done = new Promise<void>((resolve) => {
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args[1] === marker) {
        monitor.removeAllListeners('monitor');
        return resolve();
      }
      seen.set(source, [...(seen.get(source) ?? []), args[0]!.toLowerCase()]);
    });
  });
  await action();
  // MONITOR feeds commands in the order Redis ran them: once the marker arrives, all have.
  await echo.echo(marker);
  await done;
  echo.disconnect();
  monitor.disconnect();
  return seen;
}

describeWithRedis('RedisDlrStore', () => {
  let server: RedisServer;
  let admin: Redis;
  let prefixes = 0;
  const prefix = () => `spec-${++prefixes}:`;
  let cleanups: (() => Promise<unknown>)[] = [];
  function store(
    options: Omit<RedisDlrStoreOptions, 'url' | 'client'> & { client?: Redis } = {},
  ): RedisDlrStore {
    const created = new RedisDlrStore(
      options.client ? options : { url: server.url, keyPrefix: prefix(), ...options },
    );
    cleanups.push(() => created.close());
    return created;
  }
  function client(options: RedisOptions = {}): Redis {
    const created = new Redis(server.url, options);
    cleanups.push(() => created.quit());
    return created;
  }

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterEach(async () => {
    await Promise.allSettled(cleanups.map((cleanup) => cleanup()));
    cleanups = [];
  });
  afterAll(async () => {
    await admin.quit();
    await server.stop();
  });

  it('warns about a given client that queues commands while Redis is down, and not about one that does not', async () => {
    const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const offlineQueue = () =>
      warnings.mock.calls.filter(([message]) => String(message).includes('enableOfflineQueue'));
    try {
      store({ client: client({ enableOfflineQueue: false }), keyPrefix: prefix() });
      store();
      expect(offlineQueue()).toHaveLength(0);
      const queuing = store({ client: client(), keyPrefix: prefix() });
      expect(offlineQueue()).toHaveLength(1);
      expect(String(offlineQueue()[0]![0])).toContain('{ enableOfflineQueue: false }');
      // A warning, not a refusal: the store works with that client.
      await expect(queuing.record(dlr('queued-client'), past(), LONG)).resolves.toMatchObject({
        outcome: 'change',
      });
    } finally {
      warnings.mockRestore();
    }
  });

  it('records each report in one round trip: one EVALSHA, no other command', async () => {
    const dlrStore = store();
    await dlrStore.record(dlr('warm-up'), past(), LONG);
    const before = await commandCalls(admin);
    let results: RecordResult[] = [];
    const byClient = await commandsByClient(server.url, async () => {
      results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => dlrStore.record(dlr(`rt-${i}`), past(), LONG)),
      );
    });
    const after = await commandCalls(admin);
    expect(results.every((result) => result.outcome === 'change')).toBe(true);
    expect(delta(before, after, 'evalsha') + delta(before, after, 'eval')).toBe(200);
    const { lua, ...clients } = Object.fromEntries(byClient);
    expect(lua?.length).toBeGreaterThan(200);
    expect(Object.values(clients)).toEqual([Array(200).fill('evalsha')]);
  });

  it('falls back to EVAL when Redis has lost the script', async () => {
    const dlrStore = store();
    await dlrStore.record(dlr('before-flush'), past(), LONG);
    await admin.script('FLUSH');
    const before = await commandCalls(admin);
    const receivedAt = past();
    expect((await dlrStore.record(dlr('after-flush'), receivedAt, 10)).outcome).toBe('change');
    expect((await dlrStore.record(dlr('after-flush'), receivedAt + 10, 10)).outcome).toBe('redelivery');
    const after = await commandCalls(admin);
    expect(delta(before, after, 'eval')).toBe(1);
    expect(delta(before, after, 'evalsha')).toBe(2);
  });

  it('yields one change per report across two instances recording concurrently', async () => {
    const keyPrefix = prefix();
    await expectOneChangePerReport([store({ keyPrefix }), store({ keyPrefix })]);
  });

  it('never lets two instances claim the same pending report', async () => {
    const keyPrefix = prefix();
    const stores = [store({ keyPrefix }), store({ keyPrefix })];
    for (let i = 0; i < 200; i++) await stores[0]!.record(dlr(`claim-${i}`), past(), 1000);
    await expectExclusiveClaims(stores);
  });

  it('applies ttlSeconds to every key it writes', async () => {
    const keyPrefix = prefix();
    const dlrStore = store({ keyPrefix, ttlSeconds: 120 });
    await dlrStore.record(dlr('ttl-1', 'ACCEPTD'), Date.now(), LONG);
    await dlrStore.record(dlr('ttl-1', 'DELIVRD'), Date.now(), LONG);
    // The bucket count is configuration, not data: it has no TTL.
    const keys = (await admin.keys(`${keyPrefix}*`)).filter((key) => key !== `${keyPrefix}buckets`);
    expect(keys.filter((key) => key.includes('ttl-1')).length).toBeGreaterThanOrEqual(3);
    expect(keys.filter((key) => key.includes(':recent'))).toHaveLength(1);
    const find = keys.filter((key) => key.includes(':find:'));
    expect(find).toHaveLength(1);
    for (const key of keys) {
      const ttl = await admin.ttl(key);
      expect(ttl).toBeGreaterThan(0);
      // The search index outlives its messages by at most one period (a quarter of the TTL).
      expect(ttl).toBeLessThanOrEqual(find.includes(key) ? 150 : 120);
    }
    expect(await admin.ttl(find[0]!)).toBeGreaterThan(120);
  });

  it('keeps the newest 500 changes of a bucket for the feed, and finds only messages that still live', async () => {
    const keyPrefix = prefix();
    const dlrStore = store({ keyPrefix, buckets: 1 });
    for (let i = 0; i < 520; i++) await dlrStore.record(dlr(`feed-${i}`), past() + i, LONG);
    expect(await admin.zcard(`${keyPrefix}{0}:recent`)).toBe(500);
    const recent = await dlrStore.recent(500);
    expect(recent.map((report) => report.raw['message_id'])).toEqual(
      Array.from({ length: 500 }, (_, i) => `feed-${519 - i}`),
    );
    expect(await dlrStore.search('feed-519', 10)).toEqual(['feed-519']);
    // A message whose keys expired (deleted here) is neither found nor in the feed.
    await admin.del(`${keyPrefix}{0}:msg:feed-519`, `${keyPrefix}{0}:hist:feed-519`);
    expect(await dlrStore.search('feed-519', 10)).toEqual([]);
    expect((await dlrStore.recent(1))[0]?.raw['message_id']).toBe('feed-518');
  });

  it('drops messages older than ttlSeconds from the unsettled index as new reports arrive', async () => {
    const keyPrefix = prefix();
    const dlrStore = store({ keyPrefix, ttlSeconds: 60, buckets: 1 });
    await dlrStore.record(dlr('ancient', 'ACCEPTD'), Date.now() - 120_000, LONG);
    await dlrStore.record(dlr('recent', 'ACCEPTD'), Date.now() - 30_000, LONG);
    // Pruning happens in the bucket a report lands in: one bucket here, so each report prunes all.
    expect(await admin.zrange(`${keyPrefix}{0}:unsettled`, 0, -1)).toEqual(['recent']);
    await dlrStore.record(dlr('fresh', 'ACK'), Date.now(), LONG);
    expect(await admin.zrange(`${keyPrefix}{0}:unsettled`, 0, -1)).toEqual(['recent', 'fresh']);
  });

  it('honours the keyPrefix of a client it is given, and leaves that client open', async () => {
    const given = client({ keyPrefix: 'app:' });
    const dlrStore = store({ client: given, keyPrefix: 'dlr:' });
    await dlrStore.record(dlr('prefixed', 'ACCEPTD'), past(), LONG);
    expect(await admin.keys('app:dlr:{*}:msg:prefixed')).toHaveLength(1);
    const messageIds = (reports: StoredReport[]) => reports.map((report) => report.raw['message_id']);
    expect(messageIds(await dlrStore.forOmnimessage('omni-prefixed'))).toEqual(['prefixed']);
    expect(messageIds(await dlrStore.unsettled(Date.now(), 10))).toEqual(['prefixed']);
    await dlrStore.close();
    expect(given.status).toBe('ready');
  });

  it('keeps layout 1 (the bare bucket count) and its keys, and refuses a key prefix written on Redis Cluster', async () => {
    const keyPrefix = prefix();
    const dlrStore = store({ keyPrefix });
    await dlrStore.record(dlr('layout-1', 'ACCEPTD'), past(), LONG);
    expect(await admin.get(`${keyPrefix}buckets`)).toBe(String(DEFAULT_BUCKETS));
    // A message's keys stay in its id's bucket, whatever omnimessage it names; no home index.
    const keys = new RedisDlrKeys(keyPrefix, DEFAULT_BUCKETS);
    expect(await admin.exists(keys.message('layout-1'), keys.history('layout-1'))).toBe(2);
    expect(await admin.keys(`${keyPrefix}*:home:*`)).toEqual([]);
    const clustered = prefix();
    await admin.set(`${clustered}buckets`, `${DEFAULT_BUCKETS} v2`);
    await expect(store({ keyPrefix: clustered }).onModuleInit()).rejects.toThrow(
      /data in layout 2 \(a message in the bucket of its omnimessage: Redis Cluster.*on standalone Redis, uses layout 1.*Use another keyPrefix/,
    );
  });

  it('records a report of a tracked message in one round trip too, deciding its outcome in it', async () => {
    const dlrStore = store();
    const input = sendInput(past(), LONG, ['viber', 'sms'], { ref: 'rt-order' });
    await dlrStore.track(input, past(), LONG);
    await dlrStore.record(dlr('warm-up'), past(), LONG);
    let results: RecordResult[] = [];
    const byClient = await commandsByClient(server.url, async () => {
      results = [
        await dlrStore.record(sentReport(input, 0, 'FAILED', 1), past(), LONG),
        await dlrStore.record(sentReport(input, 1, 'DELIVRD'), past(), LONG),
      ];
    });
    const { lua, ...clients } = Object.fromEntries(byClient);
    expect(lua?.length).toBeGreaterThan(0);
    expect(Object.values(clients)).toEqual([['evalsha', 'evalsha']]);
    expect(results.map((result) => result.report?.ref)).toEqual(['rt-order', 'rt-order']);
    expect(results[0]!.outcomeChange).toBeNull();
    expect(results[1]!.outcomeChange?.outcome).toMatchObject({ result: 'delivered', deliveredVia: 'sms' });
    // The report keeps its ref wherever it is read back; an untracked one has none.
    expect((await dlrStore.latest(input.messages[1]!.messageId))?.ref).toBe('rt-order');
    expect(await dlrStore.latest('warm-up')).not.toHaveProperty('ref');
  });

  it('keeps the account in the record script call, tracked or not; reports stored without one have none', async () => {
    const keyPrefix = prefix();
    const dlrStore = store({ keyPrefix });
    const T = past();
    const account = 'shop "ee" \\ ✓ ü';
    const input = sendInput(T, LONG, ['sms'], { ref: 'acc-order' });
    await dlrStore.track(input, T, LONG);
    await dlrStore.record(dlr('acc-warm-up'), T, LONG);
    let results: RecordResult[] = [];
    const byClient = await commandsByClient(server.url, async () => {
      results = [
        await dlrStore.record(sentReport(input, 0, 'DELIVRD'), T + 1, 10, account),
        await dlrStore.record(dlr('acc-untracked', 'ACK'), T + 2, LONG, account),
      ];
    });
    const { lua, ...clients } = Object.fromEntries(byClient);
    expect(lua?.length).toBeGreaterThan(0);
    expect(Object.values(clients)).toEqual([['evalsha', 'evalsha']]);
    expect(results[0]!.report).toMatchObject({ ref: 'acc-order', account });
    expect(results[0]!.outcomeChange?.outcome).toMatchObject({ result: 'delivered', deliveredVia: 'sms' });
    expect(results[1]!.report).toMatchObject({ account });
    expect(results[1]!.report).not.toHaveProperty('ref');
    const messageId = input.messages[0]!.messageId;
    // A redelivery answers the pending report as stored, account included.
    const redelivered = await dlrStore.record(sentReport(input, 0, 'DELIVRD'), T + 20, LONG, account);
    expect(redelivered).toMatchObject({ outcome: 'redelivery', report: { account, ref: 'acc-order' } });
    expect((await dlrStore.unsettled(Date.now(), 10)).map((report) => report.account)).toEqual([account]);
    expect((await dlrStore.latest(messageId))?.account).toBe(account);
    // Without an account the report is stored as before, and one stored before reads without one.
    const plain = await dlrStore.record(dlr('acc-plain'), T + 3, LONG);
    expect(plain.report).not.toHaveProperty('account');
    const keys = new RedisDlrKeys(keyPrefix, DEFAULT_BUCKETS);
    expect(await admin.hget(keys.message('acc-plain'), 'latest')).not.toContain('account');
    const legacy = { raw: dlr('acc-legacy'), receivedAt: T, previousStatus: null };
    await admin.hset(keys.message('acc-legacy'), 'status', 'DELIVRD', 'latest', JSON.stringify(legacy));
    expect(await dlrStore.latest('acc-legacy')).toEqual({
      messageId: 'acc-legacy',
      status: 'DELIVRD',
      ...legacy,
    });
  });

  it('applies a report that names no omnimessage (or another) to the outcome its message was tracked in', async () => {
    const dlrStore = store();
    const T = past();
    const input = sendInput(T, LONG, ['sms']);
    await dlrStore.track(input, T, LONG);
    const { omnimessage_id: _, ...anonymous } = sentReport(input, 0, 'DELIVRD');
    const result = await dlrStore.record(anonymous, T + 1, LONG);
    expect(result.report?.ref).toBeNull();
    expect(result.outcomeChange).toMatchObject({
      previousResult: 'pending',
      outcome: { result: 'delivered', settledAt: T + 1 },
    });
    const other = { ...sentReport(input, 0, 'SEEN'), omnimessage_id: 'somebody-else' };
    expect((await dlrStore.record(other, T + 2, LONG)).outcomeChange).toBeNull();
    expect((await dlrStore.outcome(input.omnimessageId))?.messages[0]?.status).toBe('SEEN');
    expect(await dlrStore.countPendingOutcomes()).toBe(1);
  });

  it('expires tracked outcomes with ttlSeconds, and never pending outcome changes', async () => {
    const keyPrefix = prefix();
    const dlrStore = store({ keyPrefix, ttlSeconds: 120 });
    const input = sendInput(Date.now(), LONG, ['viber', 'sms'], { ref: 'ttl-ref' });
    await dlrStore.track(input, Date.now(), LONG);
    await dlrStore.record(sentReport(input, 0, 'FAILED', 1), Date.now(), LONG);
    await dlrStore.record(sentReport(input, 1, 'UNDELIV', 1), Date.now(), LONG);
    const keys = await admin.keys(`${keyPrefix}*`);
    const ttlOf = async (part: string) => {
      const found = keys.filter((key) => key.includes(part));
      expect(found.length).toBeGreaterThan(0);
      return Promise.all(found.map((key) => admin.ttl(key)));
    };
    for (const ttl of [...(await ttlOf(':outcome:')), ...(await ttlOf(':track:'))]) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(120);
    }
    // The ref index outlives the outcomes it names, whose reports renew them and not it.
    for (const ttl of await ttlOf(':ref:')) expect(ttl).toBeGreaterThan(120);
    expect(await ttlOf(':outcome-pending')).toEqual([-1]);
    expect(await ttlOf(':outcome-changes')).toEqual([-1]);
    await dlrStore.completeOutcome({ omnimessageId: input.omnimessageId, result: 'failed' });
    expect(await admin.keys(`${keyPrefix}*outcome-*`)).toEqual([]);
  });

  it('decides one outcome change per (omnimessage, result) across two instances given the same work', async () => {
    const keyPrefix = prefix();
    const instances = [store({ keyPrefix }), store({ keyPrefix })];
    const now = Date.now();
    const kinds = ['fallback', 'failed', 'overdue'] as const;
    const sends = Array.from({ length: 200 }, (_, i) => {
      const kind = kinds[i % 3]!;
      const deadline = kind === 'overdue' ? now - 1000 : now + LONG;
      return { kind, input: sendInput(now - LONG, LONG, ['viber', 'sms'], { deadline, ref: `r-${i % 7}` }) };
    });
    const reportsOf = (kind: (typeof kinds)[number], input: TrackInput) =>
      kind === 'fallback'
        ? [sentReport(input, 0, 'FAILED', 1), sentReport(input, 1, 'DELIVRD')]
        : kind === 'failed'
          ? [sentReport(input, 0, 'FAILED', 1), sentReport(input, 1, 'UNDELIV', 3)]
          : [sentReport(input, 0, 'ACK')];
    const changes: OutcomeChange[] = [];
    const keep = (change: OutcomeChange | null | undefined) => change && changes.push(change);
    // Every instance gets every track() and every report, in an order of its own, all at once.
    const work = sends.flatMap(({ kind, input }) =>
      instances.flatMap((instance) => [
        () => instance.track(input, now - LONG, LONG).then((result) => keep(result.change)),
        ...reportsOf(kind, input).map(
          (raw, i) => () =>
            instance.record(raw, now - LONG + i, LONG).then((result) => keep(result.outcomeChange)),
        ),
      ]),
    );
    work.sort(() => Math.random() - 0.5);
    await Promise.all(work.map((step) => step()));
    // Overdue: four sweepers per instance at once, each claiming and marking what it won.
    const claimed: string[] = [];
    const sweep = async (instance: RedisDlrStore) => {
      for (let batch = await instance.claimOverdue(Date.now(), 5, LONG); batch.length > 0;) {
        for (const outcome of batch) {
          claimed.push(outcome.omnimessageId);
          keep(await instance.markOverdue(outcome.omnimessageId, Date.now(), LONG));
        }
        batch = await instance.claimOverdue(Date.now(), 5, LONG);
      }
    };
    await Promise.all([...instances, ...instances, ...instances, ...instances].map(sweep));

    const expected = sends.map(({ kind, input }) => {
      const result = kind === 'fallback' ? 'delivered' : kind;
      return `${input.omnimessageId}/${result}`;
    });
    const decided = changes.map((change) => `${change.outcome.omnimessageId}/${change.outcome.result}`);
    expect(decided.sort()).toEqual(expected.sort());
    expect(claimed.sort()).toEqual(
      sends
        .filter(({ kind }) => kind === 'overdue')
        .map(({ input }) => input.omnimessageId)
        .sort(),
    );
    expect(await instances[1]!.countPendingOutcomes()).toBe(200);
    for (const { kind, input } of sends.slice(0, 3)) {
      expect(await instances[0]!.outcome(input.omnimessageId)).toMatchObject({
        result: kind === 'fallback' ? 'delivered' : kind,
        deliveredVia: kind === 'fallback' ? 'sms' : null,
      });
    }
    expect(
      (await instances[1]!.findByRef('r-0', 500)).map((outcome) => outcome.omnimessageId).sort(),
    ).toEqual(
      sends
        .filter((_, i) => i % 7 === 0)
        .map(({ input }) => input.omnimessageId)
        .sort(),
    );
  });

  it('fails within timeoutMs when Redis does not answer a client it was given', async () => {
    const dlrStore = store({ client: client(), keyPrefix: prefix(), timeoutMs: 200 });
    await dlrStore.ping();
    await admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
    await expect(dlrStore.record(dlr('paused'), past(), LONG)).rejects.toThrow(/Redis is unavailable/);
  });

  it('still takes the deprecated commandTimeoutMs for timeoutMs, which wins when both are given', async () => {
    expect(() => new RedisDlrStore({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 0 })).toThrow(
      'RedisDlrStore: commandTimeoutMs must be a positive integer, got 0',
    );
    expect(
      () => new RedisDlrStore({ url: 'redis://127.0.0.1:1', timeoutMs: 0, commandTimeoutMs: 100 }),
    ).toThrow('RedisDlrStore: timeoutMs must be a positive integer, got 0');
    const dlrStore = store({ client: client(), keyPrefix: prefix(), commandTimeoutMs: 200 });
    await dlrStore.ping();
    await admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
    const started = Date.now();
    await expect(dlrStore.record(dlr('paused-alias'), past(), LONG)).rejects.toThrow(
      /no answer within 200 ms/,
    );
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('rejects within 2 s while Redis is down and recovers by itself', async () => {
    const own = await startRedisServer();
    cleanups.push(() => own.stop());
    const dlrStore = new RedisDlrStore({ url: own.url });
    cleanups.unshift(() => dlrStore.close());
    expect((await dlrStore.record(dlr('outage-1'), past(), LONG)).outcome).toBe('change');

    await own.kill();
    const started = Date.now();
    await expect(dlrStore.record(dlr('outage-2'), past(), LONG)).rejects.toThrow(/Redis is unavailable/);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(dlrStore.ping()).rejects.toThrow(/Redis is unavailable/);

    await own.restart();
    const deadline = Date.now() + 10_000;
    let outcome: string | undefined;
    while (outcome === undefined && Date.now() < deadline) {
      outcome = await dlrStore.record(dlr('outage-3'), past(), LONG).then(
        (result) => result.outcome,
        () => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100)),
      );
    }
    expect(outcome).toBe('change');
  });
});
