import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { Cluster, Redis, type Command } from 'ioredis';
import { RedisDlrStore, type RedisDlrStoreOptions } from '../../lib/redis/index.js';
import type { RecordResult } from '../../lib/interfaces/dlr-store.interface.js';
import type { TrackInput } from '../../lib/interfaces/outcome-store.interface.js';
import { RECORD, SCRIPTS, type Script } from '../../lib/redis/redis-dlr.scripts.js';
import { RedisDlrKeys } from '../../lib/redis/redis-dlr.keys.js';
import type { Recording, RedisRecorder } from '../../lib/redis/redis-recorder.js';
import {
  RECORD_TRACKED,
  RECORD_TRACKED_HOMED,
  SYNC_OUTCOME,
  TRACKING_SCRIPTS,
} from '../../lib/redis/redis-tracking.scripts.js';
import { CLAIM_HOME, FORGET_MISPLACED, HOME_SCRIPTS } from '../../lib/redis/redis-home.scripts.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { waitFor } from '../support/app.js';
import { describeWithRedis } from '../support/redis-server.js';
import { sendInput, sentReport } from '../../lib/testing/dlr-store-contract.tracking.js';
import { dlr } from '../support/store-races.js';

const LONG = 3_600_000;

/** What a test reaches of the store's recorder, to leave what a failed record() leaves. */
interface RecorderInternals {
  prepare: RedisRecorder['prepare'];
  run(recording: Recording, bucket: number): Promise<unknown>;
}
const ALL_SCRIPTS = [...SCRIPTS, ...TRACKING_SCRIPTS, ...HOME_SCRIPTS];
const shas = new Map(
  ALL_SCRIPTS.map((script) => [createHash('sha1').update(script.lua).digest('hex'), script]),
);

/** The scripts `commands` ran (EVALSHA by SHA1; an EVAL, a connection's first call of one, by its body). */
function scriptsOf(commands: readonly Command[]): Script[] {
  return commands.flatMap((command) => {
    if (command.name === 'evalsha') return [shas.get(String(command.args[0]))!];
    if (command.name === 'eval')
      return ALL_SCRIPTS.filter((script) => script.lua === String(command.args[0]));
    return [];
  });
}
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

  /** The home index key of a message (where a lookup by its id finds its bucket). */
  function homeIndexOf(messageId: string, keyPrefix = `cluster-${prefixes}:`): string {
    return new RedisDlrKeys(keyPrefix, 16, true).homeIndex(messageId);
  }
  /** Every key of the cluster that matches `pattern`. */
  async function findKeys(pattern: string): Promise<string[]> {
    return (await Promise.all(client.nodes('master').map((node) => node.keys(pattern)))).flat();
  }
  /** The one key of the cluster that matches `pattern`. */
  async function findKey(pattern: string): Promise<string> {
    const found = (await Promise.all(client.nodes('master').map((node) => node.keys(pattern)))).flat();
    expect(found).toHaveLength(1);
    return found[0]!;
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
            const send = { messages: [{ messageId, channel: 'sms' }], to: null, account: null };
            const tracked = { ...send, omnimessageId: omnimessageId ?? messageId, ref: messageId };
            const deadline = Date.now() - LONG;
            await dlrStore.track({ ...tracked, deadline }, Date.now() - LONG, 10);
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
            await dlrStore.latest(messageId);
            await dlrStore.claimOverdue(Date.now(), 5, LONG);
            await dlrStore.markOverdue(omnimessageId ?? messageId, Date.now(), LONG);
            await dlrStore.completeOutcome({ omnimessageId: omnimessageId ?? messageId, result: 'overdue' });
            await dlrStore.claimPendingOutcomes(5, LONG);
            await dlrStore.outcome(tracked.omnimessageId);
            await dlrStore.findByRef(messageId, 5);
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
    // Every script ran (by SHA1: after the first call on each connection, an EVAL, all are EVALSHA),
    // but standalone Redis's record scripts, and those of rare cases (tests of their own).
    const rare = [RECORD, RECORD_TRACKED, SYNC_OUTCOME, FORGET_MISPLACED];
    const all = ALL_SCRIPTS.filter((script) => !rare.includes(script));
    expect(all.filter((script) => !used.has(script.name))).toEqual([]);
  });

  it('records each report with one script call, and beside it one claim of its home when elsewhere', async () => {
    const dlrStore = store();
    await dlrStore.record({ message_id: 'warm-up', status: 'ACCEPTD' }, Date.now(), LONG);
    const reports = Array.from({ length: 200 }, (_, i) => ({
      message_id: `one-call-${i}`,
      status: 'DELIVRD',
      omnimessage_id: `omni-${i % 7}`,
    }));
    const commands = await sent(() =>
      Promise.all(reports.map((raw) => dlrStore.record(raw, Date.now(), LONG))),
    );
    const scripts = scriptsOf(commands);
    // Nothing but scripts, one record script per report.
    expect(scripts).toHaveLength(commands.length);
    expect(scripts.filter((script) => script === RECORD_TRACKED_HOMED)).toHaveLength(200);
    // A message lives in its omnimessage's bucket; when that is not its id's bucket, the home
    // index there is claimed beside the script.
    const elsewhere = reports.filter((raw) => crc32(raw.omnimessage_id) % 16 !== crc32(raw.message_id) % 16);
    expect(elsewhere.length).toBeGreaterThan(100);
    const claims = commands.filter((_, i) => scripts[i] === CLAIM_HOME);
    expect(claims.map((command) => String(command.getKeys()[0])).sort()).toEqual(
      elsewhere.map((raw) => homeIndexOf(raw.message_id)).sort(),
    );
    expect(commands).toHaveLength(200 + elsewhere.length);
  });

  it('keeps the account in the record script call, and sends an empty one without', async () => {
    const dlrStore = store();
    const T = Date.now() - LONG;
    await dlrStore.record(dlr('acc-cluster-warm-up'), T, LONG);
    await dlrStore.record({ message_id: 'acc-cluster-warm-up', status: 'ACK' }, T, LONG);
    const withAccount = await sent(() => dlrStore.record(dlr('acc-cluster'), T, 10, 'shop-lt'));
    const plain = { message_id: 'acc-cluster-plain', status: 'DELIVRD' };
    const without = await sent(() => dlrStore.record(plain, T, LONG));
    const recordCall = (commands: Command[]) =>
      commands.find((_, i) => scriptsOf(commands)[i] === RECORD_TRACKED_HOMED)!.args;
    // KEYS count, 14 KEYS, 18 ARGV, the account's JSON the 14th ('' for none).
    expect(recordCall(withAccount)).toHaveLength(1 + 1 + 14 + 18);
    expect(recordCall(withAccount).at(-5)).toBe('"shop-lt"');
    expect(recordCall(without)).toHaveLength(1 + 1 + 14 + 18);
    expect(recordCall(without).at(-5)).toBe('');
    const redelivered = await dlrStore.record(dlr('acc-cluster'), T + 20, LONG, 'shop-lt');
    expect(redelivered).toMatchObject({ outcome: 'redelivery', report: { account: 'shop-lt' } });
    expect(redelivered.report).not.toHaveProperty('ref');
    expect((await dlrStore.history('acc-cluster'))[0]?.account).toBe('shop-lt');
    expect(await dlrStore.latest('acc-cluster-plain')).not.toHaveProperty('account');
  });

  it('tracks on Redis Cluster: reports before and after track(), a fallback, each decided in one script', async () => {
    const keyPrefix = prefix();
    const dlrStore = store({ keyPrefix });
    const T = Date.now() - LONG;
    // Viber and SMS in buckets other than the omnimessage's: only co-location puts them in one slot.
    const keys = new RedisDlrKeys(keyPrefix, 16);
    const apart = (send: TrackInput) =>
      send.messages.every(({ messageId }) => keys.bucketOf(messageId) !== keys.bucketOf(send.omnimessageId));
    let input = sendInput(T, LONG, ['viber', 'sms'], { ref: 'cluster-ref' });
    while (!apart(input)) input = sendInput(T, LONG, ['viber', 'sms'], { ref: 'cluster-ref' });
    // Viber failed before track(): tracking counts it.
    await dlrStore.record(sentReport(input, 0, 'FAILED', 1), T, LONG);
    const tracked = await dlrStore.track(input, T + 1, LONG);
    expect(tracked.status).toBe('tracked');
    expect(tracked.outcome).toMatchObject({ result: 'pending', ref: 'cluster-ref' });
    expect(tracked.outcome.messages[0]).toMatchObject({ status: 'FAILED', err: 1, at: T });
    // SMS delivers after track(): the change comes with the report, from one script call.
    let result: RecordResult | undefined;
    const commands = await sent(async () => {
      result = await dlrStore.record(sentReport(input, 1, 'DELIVRD'), T + 2, LONG);
    });
    // The record script, and beside it the claim of the message's home (its id's bucket is another).
    expect(scriptsOf(commands).map((script) => script.name)).toEqual([
      RECORD_TRACKED_HOMED.name,
      CLAIM_HOME.name,
    ]);
    expect(commands).toHaveLength(2);
    expect(result?.report?.ref).toBe('cluster-ref');
    expect(result?.outcomeChange).toMatchObject({
      previousResult: 'pending',
      outcome: { result: 'delivered', deliveredVia: 'sms', settledAt: T + 2 },
    });
    // Every key of a message is in the omnimessage's slot; the message id's bucket says where.
    const [omniSlot] = await cluster.keyslots([`${keyPrefix}{${keys.bucketOf(input.omnimessageId)}}:x`]);
    for (const { messageId } of input.messages) {
      const found = await Promise.all(
        [':msg:', ':hist:', ':track:'].map((kind) => findKey(`${keyPrefix}{*}${kind}${messageId}`)),
      );
      expect(await cluster.keyslots(found)).toEqual([omniSlot, omniSlot, omniSlot]);
      const home = await client.get(homeIndexOf(messageId, keyPrefix));
      expect(home).toBe(String(keys.bucketOf(input.omnimessageId)));
    }
    // Lookups by message id, by ref and by omnimessage find them.
    expect((await dlrStore.latest(input.messages[1]!.messageId))?.status).toBe('DELIVRD');
    const viber = await dlrStore.history(input.messages[0]!.messageId);
    expect(viber.map((report) => report.status)).toEqual(['FAILED']);
    const both = await dlrStore.forOmnimessage(input.omnimessageId);
    expect(both.map((report) => report.status).sort()).toEqual(['DELIVRD', 'FAILED']);
    const byRef = await dlrStore.findByRef('cluster-ref', 10);
    expect(byRef.map((outcome) => outcome.result)).toEqual(['delivered']);
    expect(await dlrStore.countPendingOutcomes()).toBe(1);
    await dlrStore.completeOutcome({ omnimessageId: input.omnimessageId, result: 'delivered' });
    expect(await dlrStore.countPendingOutcomes()).toBe(0);
    // Tracking again, from another instance, changes nothing; the ref's index keeps one entry.
    const again = await store({ keyPrefix }).track({ ...input, deadline: T + 5 }, T + 3, LONG);
    expect(again).toEqual({ status: 'existing', outcome: byRef[0], change: null });
    expect(await dlrStore.findByRef('cluster-ref', 10)).toHaveLength(1);
    // A report that names no omnimessage is kept by its message id, as before, and tracks nothing.
    const untracked = await dlrStore.record({ message_id: 'no-omni', status: 'DELIVRD' }, T, LONG);
    expect(untracked.outcome).toBe('change');
    expect(untracked).not.toHaveProperty('outcomeChange');
    expect(await client.exists(`${keyPrefix}{${keys.bucketOf('no-omni')}}:msg:no-omni`)).toBe(1);
    expect(await client.get(homeIndexOf('no-omni', keyPrefix))).toBe(String(keys.bucketOf('no-omni')));
    expect((await dlrStore.latest('no-omni'))?.status).toBe('DELIVRD');
  });

  it('finds a message by id through its home index, and a claim writes a lost index again', async () => {
    const keyPrefix = prefix();
    const dlrStore = store({ keyPrefix });
    const T = Date.now() - LONG;
    const keys = new RedisDlrKeys(keyPrefix, 16);
    let omnimessageId = 'omni-home';
    while (keys.bucketOf(omnimessageId) === keys.bucketOf('homed')) omnimessageId += '-';
    const raw = { message_id: 'homed', status: 'DELIVRD', omnimessage_id: omnimessageId };
    await dlrStore.record(raw, T, LONG);
    await dlrStore.release({ messageId: 'homed', status: 'DELIVRD' });
    expect((await dlrStore.claimPending(10, LONG)).map((report) => report.messageId)).toEqual(['homed']);
    await dlrStore.complete({ messageId: 'homed', status: 'DELIVRD' });
    expect(await dlrStore.countPending()).toBe(0);
    // The index write beside a report's script failed (here: deleted): no lookup finds it…
    await dlrStore.record({ ...raw, status: 'SEEN' }, T + 1, 10);
    await client.del(homeIndexOf('homed', keyPrefix));
    expect(await dlrStore.latest('homed')).toBeNull();
    // …until a sweep claims its pending change, which writes the index before anyone completes it.
    const [claimed] = await dlrStore.claimPending(10, LONG);
    expect(claimed).toMatchObject({ messageId: 'homed', status: 'SEEN' });
    expect((await dlrStore.latest('homed'))?.status).toBe('SEEN');
    await dlrStore.complete({ messageId: 'homed', status: 'SEEN' });
    expect(await dlrStore.countPending()).toBe(0);
    expect(await dlrStore.search('homed', 5)).toEqual(['homed']);
    expect((await dlrStore.recent(5)).map((report) => report.status)).toEqual(['SEEN', 'DELIVRD']);
    expect((await dlrStore.unsettled(Date.now(), 5)).map((report) => report.status)).toEqual([]);
  });

  it('keeps a message whose reports name different omnimessages, or none, in one home: one change per status', async () => {
    const keyPrefix = prefix();
    const dlrStore = store({ keyPrefix });
    const T = Date.now() - LONG;
    const keys = new RedisDlrKeys(keyPrefix, 16);
    const own = keys.bucketOf('mixed');
    // Three omnimessage ids in three buckets, none the message id's own.
    const omnis: string[] = [];
    for (let i = 0; omnis.length < 3; i++) {
      const bucket = keys.bucketOf(`omni-${i}`);
      if (bucket !== own && !omnis.some((id) => keys.bucketOf(id) === bucket)) omnis.push(`omni-${i}`);
    }
    const [first, second, third] = omnis as [string, string, string];
    const home = keys.bucketOf(first);
    const report = (status: string, omnimessage_id?: string) => ({
      message_id: 'mixed',
      status,
      omnimessage_id,
    });
    expect((await dlrStore.record(report('ACK', first), T, LONG)).outcome).toBe('change');
    // Another omnimessage's bucket: recorded there first, found misplaced, undone, recorded at home.
    const commands = await sent(() => dlrStore.record(report('ACK', second), T + 1, LONG));
    expect(
      scriptsOf(commands)
        .map((script) => script.name)
        .sort(),
    ).toEqual(
      [RECORD_TRACKED_HOMED, RECORD_TRACKED_HOMED, CLAIM_HOME, FORGET_MISPLACED]
        .map((script) => script.name)
        .sort(),
    );
    expect((await dlrStore.record(report('DELIVRD', second), T + 2, LONG)).outcome).toBe('change');
    // None: the id's own bucket, whose index (read by the script itself) sends it home.
    expect((await dlrStore.record(report('DELIVRD'), T + 3, LONG)).outcome).toBe('duplicate');
    expect((await dlrStore.record(report('ACCEPTD', third), T + 4, LONG)).outcome).toBe('stale');
    expect((await dlrStore.history('mixed')).map((entry) => entry.status)).toEqual([
      'ACK',
      'DELIVRD',
      'ACCEPTD',
    ]);
    expect((await dlrStore.latest('mixed'))?.raw['omnimessage_id']).toBe(second);
    // Nothing of the message is left outside its home.
    const found = await Promise.all(
      [':msg:', ':hist:'].map((kind) => findKeys(`${keyPrefix}{*}${kind}mixed`)),
    );
    expect(found.flat().sort()).toEqual([keys.message('mixed', home), keys.history('mixed', home)].sort());
    expect(await dlrStore.search('mixed', 5)).toEqual(['mixed']);
    expect((await dlrStore.recent(5)).map((entry) => entry.status)).toEqual(['DELIVRD', 'ACK']);
    expect(await dlrStore.countPending()).toBe(2);
    await dlrStore.complete({ messageId: 'mixed', status: 'ACK' });
    await dlrStore.complete({ messageId: 'mixed', status: 'DELIVRD' });
    expect(await dlrStore.countPending()).toBe(0);
  });

  it('applies a report naming another omnimessage to the outcome its message was tracked in', async () => {
    const keyPrefix = prefix();
    const dlrStore = store({ keyPrefix });
    const T = Date.now() - LONG;
    const keys = new RedisDlrKeys(keyPrefix, 16);
    const input = sendInput(T, LONG, ['sms']);
    const { messageId } = input.messages[0]!;
    let other = 'other-omni';
    while ([keys.bucketOf(messageId), keys.bucketOf(input.omnimessageId)].includes(keys.bucketOf(other))) {
      other += '-';
    }
    await dlrStore.track(input, T, LONG);
    await dlrStore.record(sentReport(input, 0, 'ACK'), T + 1, LONG);
    const commands = await sent(async () => {
      const result = await dlrStore.record(
        { ...sentReport(input, 0, 'DELIVRD'), omnimessage_id: other },
        T + 2,
        LONG,
      );
      expect(result.outcome).toBe('change');
      expect(result.outcomeChange).toMatchObject({ outcome: { result: 'delivered', deliveredVia: 'sms' } });
    });
    // Recorded in the other omnimessage's bucket, undone, recorded at home, then the second step.
    expect(
      scriptsOf(commands)
        .map((script) => script.name)
        .sort(),
    ).toEqual(
      [RECORD_TRACKED_HOMED, RECORD_TRACKED_HOMED, CLAIM_HOME, FORGET_MISPLACED, SYNC_OUTCOME]
        .map((script) => script.name)
        .sort(),
    );
    expect((await dlrStore.outcome(input.omnimessageId))?.result).toBe('delivered');
  });

  it('a claim undoes, instead of handing out, a report left in the wrong bucket by a record() that failed midway', async () => {
    const keyPrefix = prefix();
    const dlrStore = store({ keyPrefix });
    const T = Date.now() - LONG;
    const keys = new RedisDlrKeys(keyPrefix, 16);
    const taken = [keys.bucketOf('left')];
    const [first, second] = ['left-a', 'left-b'].map((id) => {
      while (taken.includes(keys.bucketOf(id))) id += '-';
      taken.push(keys.bucketOf(id));
      return id;
    }) as [string, string];
    await dlrStore.record({ message_id: 'left', status: 'ACK', omnimessage_id: first }, T, LONG);
    // What the first half of a record() leaves when the rest fails: the script in the bucket of
    // a report's omnimessage, which is not the message's home.
    const recorder = (dlrStore as unknown as { recorder: RecorderInternals }).recorder;
    const raw = { message_id: 'left', status: 'FAILED', omnimessage_id: second };
    await recorder.run(recorder.prepare(raw, T, 10, undefined), keys.bucketOf(second));
    expect(await client.exists(keys.message('left', keys.bucketOf(second)))).toBe(1);
    expect(await dlrStore.countPending()).toBe(2);
    expect(await dlrStore.claimPending(10, LONG, Date.now() + LONG * 2)).toEqual([
      expect.objectContaining({ messageId: 'left', status: 'ACK' }),
    ]);
    expect(await client.exists(keys.message('left', keys.bucketOf(second)))).toBe(0);
    expect((await dlrStore.latest('left'))?.status).toBe('ACK');
    expect(await dlrStore.countPending()).toBe(1);
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

  it('records layout 2 beside the bucket count, and refuses a key prefix written in layout 1', async () => {
    const keyPrefix = prefix();
    await store({ keyPrefix }).onModuleInit();
    expect(await client.get(`${keyPrefix}buckets`)).toBe('16 v2');
    // What standalone Redis, and every version before tracking on Redis Cluster, recorded.
    const older = prefix();
    await client.set(`${older}buckets`, '16');
    const refused = store({ keyPrefix: older }).onModuleInit();
    await expect(refused).rejects.toThrow(/data in layout 1 \(each message in the bucket of its own id/);
    await expect(refused).rejects.toThrow(/on Redis Cluster, uses layout 2 .*Use another keyPrefix/);
    await expect(store({ keyPrefix: older }).record(dlr('x'), Date.now(), LONG)).rejects.toThrow(/layout 1/);
    expect(await client.get(`${older}buckets`)).toBe('16');
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
