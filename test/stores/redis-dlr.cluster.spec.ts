import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { Cluster, Redis, type Command } from 'ioredis';
import { RedisDlrStore, type RedisDlrStoreOptions } from '../../lib/redis/index.js';
import { SCRIPTS } from '../../lib/redis/redis-dlr.scripts.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { waitFor } from '../support/app.js';
import { describeWithRedis } from '../support/redis-server.js';
import { sendInput, sentReport } from '../../lib/testing/dlr-store-contract.tracking.js';
import { dlr } from '../support/store-races.js';

const LONG = 3_600_000;
const STATUSES = ['ACCEPTD', 'ACK', 'UNKNOWN', 'DELIVRD', 'FAILED', 'SEEN', 'SOMETHING_NEW'];

describeWithRedis('RedisDlrStore on Redis Cluster', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let prefixes = 0;
  const prefix = () => `cluster-${++prefixes}:`;
  let cleanups: (() => Promise<unknown>)[] = [];
  function store(options: Omit<RedisDlrStoreOptions, 'client'> = {}): RedisDlrStore {
    const created = new RedisDlrStore(
      options.cluster ? options : { client, keyPrefix: prefix(), ...options },
    );
    cleanups.push(() => created.close());
    return created;
  }
  /** Every command the store sends through the shared client while `action` runs. */
  async function sent(action: () => Promise<unknown>): Promise<Command[]> {
    const spy = jest.spyOn(client, 'sendCommand');
    try {
      await action();
      return spy.mock.calls.map(([command]) => command as Command);
    } finally {
      spy.mockRestore();
    }
  }

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = new Cluster([...cluster.nodes], { enableOfflineQueue: false });
  }, 30_000);
  afterEach(async () => {
    await Promise.allSettled(cleanups.map((cleanup) => cleanup()));
    cleanups = [];
  });
  afterAll(async () => {
    await client.quit();
    await cluster.stop();
  });

  it('passes every key of every script in KEYS, all on one slot, for any ids', async () => {
    const shas = new Map(
      SCRIPTS.map((script) => [createHash('sha1').update(script.lua).digest('hex'), script]),
    );
    const used = new Set<string>();
    const id = fc.oneof(
      fc.uuid(),
      fc.string({ minLength: 1, maxLength: 24 }),
      fc.constantFrom('{', '}', '{}', '}{', 'a{b}c', '{x}', '__proto__'),
    );
    const dlrStore = store();
    await dlrStore.ping();
    await fc.assert(
      fc.asyncProperty(
        id,
        fc.option(id, { nil: undefined }),
        fc.constantFrom(...STATUSES),
        async (messageId, omnimessageId, status) => {
          const commands = await sent(async () => {
            const raw = { message_id: messageId, status, omnimessage_id: omnimessageId };
            await dlrStore.record(raw, Date.now() - LONG, 10);
            await dlrStore.record(raw, Date.now() - LONG + 20, 10); // a redelivery
            await dlrStore.claimPending(5, LONG, Date.now() + 1);
            await dlrStore.listPending(5);
            await dlrStore.unsettled(Date.now(), 5);
            await dlrStore.release({ messageId, status });
            await dlrStore.complete({ messageId, status });
            await dlrStore.forOmnimessage(omnimessageId ?? messageId);
            await dlrStore.history(messageId);
            await dlrStore.recent(5);
            await dlrStore.search(messageId, 5);
            // The tracking methods that work on a cluster (all but track()) keep to one slot too.
            await dlrStore.markOverdue(omnimessageId ?? messageId, Date.now(), LONG);
            await dlrStore.completeOutcome({ omnimessageId: omnimessageId ?? messageId, result: 'overdue' });
          });
          const scripts = commands.filter((command) => command.name === 'evalsha' || command.name === 'eval');
          expect(scripts.length).toBeGreaterThanOrEqual(5);
          for (const command of scripts) {
            const script = command.name === 'evalsha' ? shas.get(String(command.args[0])) : undefined;
            if (script) used.add(script.name);
            const keys = command.getKeys().map(String);
            expect(keys.length).toBeGreaterThan(0);
            expect(new Set(await cluster.keyslots(keys)).size).toBe(1);
          }
        },
      ),
      { numRuns: 60 },
    );
    // Every script ran (by SHA1: after the first call on each connection, an EVAL, all are EVALSHA).
    expect(SCRIPTS.filter((script) => !used.has(script.name))).toEqual([]);
  });

  it('records each report with one script call and no other command', async () => {
    const dlrStore = store();
    await dlrStore.record({ message_id: 'warm-up', status: 'ACCEPTD' }, Date.now(), LONG);
    const commands = await sent(() =>
      Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          dlrStore.record(
            { message_id: `one-call-${i}`, status: 'DELIVRD', omnimessage_id: `omni-${i % 7}` },
            Date.now(),
            LONG,
          ),
        ),
      ),
    );
    // EVALSHA, or EVAL on a connection's first call of the script: one of them per report.
    expect(commands.filter((command) => command.name !== 'evalsha' && command.name !== 'eval')).toEqual([]);
    expect(commands).toHaveLength(200);
  });

  it('keeps the account in the record script call, and sends no account argument without one', async () => {
    const dlrStore = store();
    const T = Date.now() - LONG;
    await dlrStore.record(dlr('acc-cluster-warm-up'), T, LONG);
    const withAccount = await sent(() => dlrStore.record(dlr('acc-cluster'), T, 10, 'shop-lt'));
    const without = await sent(() => dlrStore.record(dlr('acc-cluster-plain'), T, LONG));
    // EVALSHA, or EVAL on a connection's first call of the script: one call per report.
    const names = [...withAccount, ...without].map((command) => command.name.replace('evalsha', 'eval'));
    expect(names).toEqual(['eval', 'eval']);
    // KEYS count, 8 KEYS, 13 ARGV, and the account's JSON only when there is one.
    expect(withAccount[0]!.args).toHaveLength(1 + 1 + 8 + 14);
    expect(withAccount[0]!.args.at(-1)).toBe('"shop-lt"');
    expect(without[0]!.args).toHaveLength(1 + 1 + 8 + 13);
    const redelivered = await dlrStore.record(dlr('acc-cluster'), T + 20, LONG, 'shop-lt');
    expect(redelivered).toMatchObject({ outcome: 'redelivery', report: { account: 'shop-lt' } });
    expect(redelivered.report).not.toHaveProperty('ref');
    expect((await dlrStore.history('acc-cluster'))[0]?.account).toBe('shop-lt');
    expect(await dlrStore.latest('acc-cluster-plain')).not.toHaveProperty('account');
  });

  it('refuses track() with an error naming the Cluster limitation, and keeps recording reports untracked', async () => {
    const dlrStore = store();
    const input = sendInput(Date.now() - LONG, LONG, ['viber', 'sms'], { ref: 'cluster-ref' });
    const refused = dlrStore.track(input, Date.now(), LONG);
    await expect(refused).rejects.toThrow(/track\(\) cannot work on Redis Cluster/);
    await expect(refused).rejects.toThrow(/different hash slots/);
    await expect(refused).rejects.not.toThrow(/Redis is unavailable/);
    const result = await dlrStore.record(sentReport(input, 1, 'DELIVRD'), Date.now(), LONG);
    expect(result.outcome).toBe('change');
    expect(result.report).not.toHaveProperty('ref');
    expect(result).not.toHaveProperty('outcomeChange');
    // Nothing was tracked: the other tracking methods answer so, without a cross-slot error.
    expect(await dlrStore.outcome(input.omnimessageId)).toBeNull();
    expect(await dlrStore.findByRef('cluster-ref', 10)).toEqual([]);
    expect(await dlrStore.claimOverdue(Date.now() + LONG * 2, 10, LONG)).toEqual([]);
    expect(await dlrStore.claimPendingOutcomes(10, LONG)).toEqual([]);
    expect(await dlrStore.countPendingOutcomes()).toBe(0);
  });

  it('lets concurrent sweeps of two instances share a backlog, never claiming a report twice', async () => {
    const keyPrefix = prefix();
    const stores = [store({ keyPrefix }), store({ keyPrefix })];
    for (let i = 0; i < 200; i++) {
      await stores[0]!.record({ message_id: `claim-${i}`, status: 'FAILED' }, Date.now() - LONG, 1000);
    }
    const batches = await Promise.all(
      Array.from({ length: 40 }, (_, i) => stores[i % 2]!.claimPending(10, LONG)),
    );
    const claimed = batches.flat().map((report) => report.raw['message_id']);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed).toHaveLength(200);
    expect(await stores[1]!.claimPending(10, LONG)).toEqual([]);
    expect(await stores[1]!.countPending()).toBe(200);
  });

  it('spreads the buckets over every master', async () => {
    const keyPrefix = prefix();
    const slots = await cluster.keyslots(Array.from({ length: 16 }, (_, b) => `${keyPrefix}{${b}}:pending`));
    const masters = await Promise.all(slots.map((slot) => cluster.masterOf(slot)));
    const perMaster = [...new Set(masters)].map((port) => masters.filter((m) => m === port).length);
    expect(perMaster).toHaveLength(3);
    expect(Math.min(...perMaster)).toBeGreaterThanOrEqual(4);
  });

  it('refuses to start with a bucket count other than the one recorded for its key prefix', async () => {
    const keyPrefix = prefix();
    await store({ keyPrefix, buckets: 16 }).onModuleInit();
    await expect(store({ keyPrefix, buckets: 8 }).onModuleInit()).rejects.toThrow(
      /in 16 buckets, not 8: set the option `buckets` to 16/,
    );
    await expect(store({ keyPrefix, buckets: 16 }).onModuleInit()).resolves.toBeUndefined();
  });

  it('refuses a key prefix with a brace, its own or the client’s', () => {
    expect(() => new RedisDlrStore({ client, keyPrefix: 'dlr{x}:' })).toThrow(/keyPrefix must not contain/);
    const braced = new Cluster([...cluster.nodes], { keyPrefix: '{app}:', lazyConnect: true });
    expect(() => new RedisDlrStore({ client: braced })).toThrow(/keyPrefix must not contain/);
    braced.disconnect();
  });

  it('creates a Cluster from `cluster` nodes, reading from masters, and closes it', async () => {
    const dlrStore = store({ cluster: [...cluster.nodes], keyPrefix: prefix() });
    expect((await dlrStore.record({ message_id: 'own', status: 'ACK' }, Date.now(), LONG)).outcome).toBe(
      'change',
    );
    expect((await dlrStore.latest('own'))?.raw['status']).toBe('ACK');
    await expect(dlrStore.ping()).resolves.toBeUndefined();
    const own = (dlrStore as unknown as { client: Cluster }).client;
    expect(own.options.scaleReads).toBe('master');
    await dlrStore.close();
    await waitFor(() => own.status === 'end');
  });

  it('with waitForReplicas, answers only once replicas acknowledged, in one pipeline', async () => {
    const keyPrefix = prefix();
    const replicated = store({ keyPrefix, waitForReplicas: 1 });
    await replicated.ping();
    const [slot] = await cluster.keyslots([`${keyPrefix}{${crc32('waited') % 16}}:msg:waited`]);
    const master = new Redis(await cluster.masterOf(slot!), '127.0.0.1');
    const calls = async (name: string) =>
      Number(
        /calls=(\d+)/.exec((await master.info('commandstats')).split(`cmdstat_${name}:`)[1] ?? '')?.[1] ?? 0,
      );
    const before = [await calls('wait'), await calls('evalsha'), await calls('eval')];
    const commands = await sent(() =>
      replicated.record({ message_id: 'waited', status: 'DELIVRD' }, Date.now(), LONG),
    );
    const after = [await calls('wait'), await calls('evalsha'), await calls('eval')];
    master.disconnect();
    // The script and WAIT went to that master as one pipeline.
    const shape = commands.map((command) => [
      command.name.toLowerCase().replace('evalsha', 'eval'),
      (command as Command & { pipelineIndex?: number }).pipelineIndex,
    ]);
    expect(shape).toEqual([
      ['eval', 0],
      ['wait', 1],
    ]);
    expect(after[0]! - before[0]!).toBe(1);
    expect(after[1]! + after[2]! - before[1]! - before[2]!).toBe(1);
    expect((await replicated.latest('waited'))?.raw['status']).toBe('DELIVRD');

    // Each master has one replica: asking for two can never be satisfied, and fails fast.
    const impossible = store({ waitForReplicas: 2, waitForReplicasTimeoutMs: 100 });
    const started = Date.now();
    await expect(
      impossible.record({ message_id: 'unreplicated', status: 'DELIVRD' }, Date.now(), LONG),
    ).rejects.toThrow(/Redis is unavailable \(1 of 2 replicas acknowledged within 100 ms\)/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
