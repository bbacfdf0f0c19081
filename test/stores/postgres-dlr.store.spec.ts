import { setTimeout as delay } from 'node:timers/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import type { RecordResult, StoredReport } from '../../lib/interfaces/dlr-store.interface.js';
import type { OutcomeChange, TrackInput } from '../../lib/interfaces/outcome-store.interface.js';
import {
  POSTGRES_DLR_SCHEMA_VERSION,
  PostgresDlrStore,
  postgresDlrSchemaSql,
  type PostgresDlrStoreOptions,
} from '../../lib/postgres/index.js';
import {
  type PostgresServer,
  describeWithPostgres,
  startPostgresServer,
} from '../support/postgres-server.js';
import { dlr, expectExclusiveClaims, expectOneChangePerReport } from '../support/store-races.js';

const LONG = 3_600_000;
const DAY = 86_400_000;
const past = () => Date.now() - LONG;

/** What track() is given for `omnimessageId` sent as `messageIds`, the last on SMS, the others on Viber. */
function trackInput(omnimessageId: string, messageIds: string[], deadline = Date.now() + LONG): TrackInput {
  return {
    omnimessageId,
    ref: `ref-${omnimessageId}`,
    to: '+37255550000',
    account: null,
    deadline,
    messages: messageIds.map((messageId, i) => ({
      messageId,
      channel: i === messageIds.length - 1 ? 'sms' : 'viber',
    })),
  };
}

describeWithPostgres('PostgresDlrStore', () => {
  let server: PostgresServer;
  let admin: Pool;
  let schemas = 0;
  const schema = () => `spec_${++schemas}`;
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

  it('records each report with one statement: no BEGIN, no second query', async () => {
    const url = server.url.replace(/\/postgres$/, '/roundtrips');
    const dlrStore = store({ connectionString: url, pool: undefined });
    await dlrStore.ensureSchema();
    await admin.query('SELECT pg_stat_statements_reset()');
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => dlrStore.record(dlr(`rt-${i}`), past(), LONG)),
    );
    expect(results.every((result) => result.outcome === 'change')).toBe(true);
    const { rows } = await admin.query<{ query: string; calls: string }>(
      `SELECT query, calls FROM pg_stat_statements
       WHERE toplevel AND dbid = (SELECT oid FROM pg_database WHERE datname = 'roundtrips')`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.query).toMatch(/\.record\(\$1, \$2/);
    expect(Number(rows[0]!.calls)).toBe(200);
  });

  it('yields one change per report across two instances recording concurrently', async () => {
    const shared = schema();
    await expectOneChangePerReport([store({ schema: shared }), store({ schema: shared })]);
  });

  it('loses no update when different statuses of one message race on two instances', async () => {
    const shared = schema();
    const stores = [store({ schema: shared }), store({ schema: shared })];
    const statuses = ['ACCEPTD', 'DELIVRD', 'SEEN', 'ACK'];
    const ids = Array.from({ length: 150 }, (_, i) => `race-${i}`);
    const results = await Promise.all(
      ids.flatMap((id) =>
        statuses.map((status, i) =>
          stores[i % 2]!.record(dlr(id, status), Date.now(), LONG).then((result) => ({ id, status, result })),
        ),
      ),
    );
    for (const id of ids) {
      const mine = results.filter((entry) => entry.id === id);
      const changes = mine.filter((entry) => entry.result.outcome === 'change');
      // Every change names the change before it: together they form one chain from null.
      const previous = new Set(changes.map((entry) => entry.result.report!.previousStatus));
      expect(previous.size).toBe(changes.length);
      expect(previous.has(null)).toBe(true);
      expect(mine.every((entry) => ['change', 'stale'].includes(entry.result.outcome))).toBe(true);
      expect((await stores[0]!.latest(id))?.raw['status']).toBe('SEEN');
      expect(await stores[1]!.history(id)).toHaveLength(4);
    }
  });

  it('never lets two instances claim the same pending report (FOR UPDATE SKIP LOCKED)', async () => {
    const shared = schema();
    const stores = [store({ schema: shared }), store({ schema: shared })];
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => stores[0]!.record(dlr(`claim-${i}`), past(), 1000)),
    );
    await expectExclusiveClaims(stores);
  });

  it('claims around a pending row another transaction holds locked, without waiting for it', async () => {
    const claimSchema = schema();
    // A deadline far beyond the race below: a claim that waited for the lock would still be waiting.
    const dlrStore = store({ schema: claimSchema, timeoutMs: 30_000 });
    for (const [i, id] of ['held', 'free-1', 'free-2'].entries()) {
      await dlrStore.record(dlr(id), past() + i, 1000);
    }
    const holder: PoolClient = await admin.connect();
    try {
      await holder.query('BEGIN');
      // The earliest lease, the first a claim would take: held as a sweeping instance holds it.
      await holder.query(`SELECT 1 FROM ${claimSchema}.pending WHERE message_id = 'held' FOR UPDATE`);
      const waiting = Symbol('still waiting for the locked row');
      const claimed = await Promise.race([
        dlrStore.claimPending(10, LONG),
        new Promise<typeof waiting>((resolve) => setTimeout(() => resolve(waiting), 5_000).unref()),
      ]);
      expect(claimed).not.toBe(waiting);
      expect((claimed as StoredReport[]).map((report) => report.raw['message_id'])).toEqual([
        'free-1',
        'free-2',
      ]);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    // The lock gone, the row it held is claimable as before.
    expect((await dlrStore.claimPending(10, LONG)).map((report) => report.raw['message_id'])).toEqual([
      'held',
    ]);
  });

  it('redelivers a change whose lease ran out to exactly one of many concurrent copies', async () => {
    const shared = schema();
    const stores = [store({ schema: shared }), store({ schema: shared })];
    await stores[0]!.record(dlr('lease'), past(), 1000);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores[i % 2]!.record(dlr('lease'), Date.now(), LONG)),
    );
    expect(results.filter((result) => result.outcome === 'redelivery')).toHaveLength(1);
    expect(results.filter((result) => result.outcome === 'duplicate')).toHaveLength(19);
  });

  it('yields one outcome change per (omnimessage, result) across two instances tracking, recording and sweeping at once', async () => {
    const shared = schema();
    // Some 2 400 calls queue for two pools at once: a long deadline, since this is about
    // exactly once, not latency (a busy machine must not fail it).
    const stores = [
      store({ schema: shared, timeoutMs: 60_000 }),
      store({ schema: shared, timeoutMs: 60_000 }),
    ];
    await Promise.all(stores.map((dlrStore) => dlrStore.ensureSchema()));
    const kinds = ['fallback', 'failed', 'overdue'] as const;
    const sends = Array.from({ length: 201 }, (_, i) => {
      const kind = kinds[i % 3]!;
      const omnimessageId = `race-omni-${i}`;
      const ids =
        kind === 'overdue' ? [`${omnimessageId}-sms`] : [`${omnimessageId}-viber`, `${omnimessageId}-sms`];
      // Overdue ones are due already; the others not for an hour, so that no sweep takes them.
      return { kind, input: trackInput(omnimessageId, ids, kind === 'overdue' ? past() : Date.now() + LONG) };
    });
    const report = (input: TrackInput, index: number, status: string, err: number | null = null) => ({
      message_id: input.messages[index]!.messageId,
      omnimessage_id: input.omnimessageId,
      status,
      err,
    });
    const changes: OutcomeChange[] = [];
    const keep = (change: OutcomeChange | null | undefined) => void (change && changes.push(change));
    // Every call on both instances at once, track() and reports in an order that varies per
    // send: reports often arrive before track(), as they do from Messente, and a message's
    // second status meets track() while its first is stored already.
    const calls: (() => Promise<void>)[] = [];
    for (const [i, { kind, input }] of sends.entries()) {
      const reports =
        kind === 'fallback'
          ? [report(input, 1, 'ACCEPTD'), report(input, 0, 'FAILED', 1), report(input, 1, 'DELIVRD')]
          : kind === 'failed'
            ? [report(input, 1, 'ACCEPTD'), report(input, 0, 'FAILED', 1), report(input, 1, 'UNDELIV', 3)]
            : [];
      for (const dlrStore of stores) {
        const track = async () => keep((await dlrStore.track(input, Date.now(), LONG)).change);
        const records = reports.map(
          (raw) => async () => keep((await dlrStore.record(raw, Date.now(), LONG)).outcomeChange),
        );
        calls.push(...(i % 2 === 0 ? [track, ...records] : [...records, track]));
      }
    }
    await Promise.all(calls.map((call) => call()));
    // Both instances sweep for overdue outcomes at once, in small batches; each marks what it
    // claimed, and then, to be sure, what the other one claimed too.
    const claimedBy = await Promise.all(
      stores.map(async (dlrStore) => {
        const mine: string[] = [];
        for (;;) {
          const batch = await dlrStore.claimOverdue(Date.now(), 7, LONG);
          if (batch.length === 0) return mine;
          mine.push(...batch.map((outcome) => outcome.omnimessageId));
          await Promise.all(
            batch.map(async (outcome) =>
              keep(await dlrStore.markOverdue(outcome.omnimessageId, Date.now(), LONG)),
            ),
          );
        }
      }),
    );
    const [first, second] = claimedBy as [string[], string[]];
    expect(first.filter((id) => second.includes(id))).toEqual([]);
    expect(new Set([...first, ...second]).size).toBe(67);
    await Promise.all(
      [
        ...first.map((id) => stores[1]!.markOverdue(id, Date.now(), LONG)),
        ...second.map((id) => stores[0]!.markOverdue(id, Date.now(), LONG)),
      ].map(async (marked) => keep(await marked)),
    );
    // A late report of every overdue send, on both instances at once: failed, once.
    await Promise.all(
      sends
        .filter(({ kind }) => kind === 'overdue')
        .flatMap(({ input }) =>
          stores.map(async (dlrStore) =>
            keep((await dlrStore.record(report(input, 0, 'EXPIRED', 2), Date.now(), LONG)).outcomeChange),
          ),
        ),
    );

    const seen = changes.map(
      (change) => `${change.outcome.omnimessageId}/${change.previousResult}>${change.outcome.result}`,
    );
    const expected = sends.flatMap(({ kind, input }) =>
      kind === 'fallback'
        ? [`${input.omnimessageId}/pending>delivered`]
        : kind === 'failed'
          ? [`${input.omnimessageId}/pending>failed`]
          : [`${input.omnimessageId}/pending>overdue`, `${input.omnimessageId}/overdue>failed`],
    );
    expect([...seen].sort()).toEqual([...expected].sort());
    expect(await stores[0]!.countPendingOutcomes()).toBe(expected.length);
    for (const { kind, input } of sends) {
      const outcome = await stores[1]!.outcome(input.omnimessageId);
      expect(outcome).toMatchObject(
        kind === 'fallback'
          ? { result: 'delivered', deliveredVia: 'sms' }
          : { result: 'failed', deliveredVia: null },
      );
      expect(outcome!.messages.every((message) => message.status !== null)).toBe(true);
    }
  });

  it('prunes tracked outcomes silent and due past retentionDays, never a pending outcome change', async () => {
    const dlrStore = store({ retentionDays: 30 });
    const old = Date.now() - 31 * DAY;
    const oldSend = trackInput('omni-pruned', ['pruned-sms'], old);
    await dlrStore.track(oldSend, old, 1000);
    // Its change stays pending (never completed): retention must keep it.
    await dlrStore.record(
      { message_id: 'pruned-sms', omnimessage_id: 'omni-pruned', status: 'DELIVRD' },
      old,
      1000,
    );
    await dlrStore.complete({ messageId: 'pruned-sms', status: 'DELIVRD' });
    // Tracked long ago, but due in the future: kept until its deadline is past retention too.
    await dlrStore.track(trackInput('omni-due-later', ['later-sms'], Date.now() + DAY), old, 1000);
    await dlrStore.track(trackInput('omni-recent', ['recent-sms']), Date.now() - 29 * DAY, 1000);
    expect(await dlrStore.countPendingOutcomes()).toBe(1);

    expect(await dlrStore.prune()).toBe(1);
    expect(await dlrStore.outcome('omni-pruned')).toBeNull();
    expect(await dlrStore.outcome('omni-due-later')).not.toBeNull();
    expect(await dlrStore.outcome('omni-recent')).not.toBeNull();
    const s = (dlrStore as unknown as { schema: string }).schema;
    const { rows } = await admin.query(`SELECT message_id FROM ${s}.outcome_messages ORDER BY message_id`);
    expect(rows).toEqual([{ message_id: 'later-sms' }, { message_id: 'recent-sms' }]);
    expect(await dlrStore.countPendingOutcomes()).toBe(1);
    const [change] = await dlrStore.claimPendingOutcomes(10, LONG);
    expect(change).toMatchObject({
      previousResult: 'pending',
      outcome: { omnimessageId: 'omni-pruned', result: 'delivered' },
    });
    // A report of a pruned omnimessage's message is untracked again: no ref, no outcome change.
    const late = await dlrStore.record({ message_id: 'pruned-sms', status: 'SEEN' }, Date.now(), 1000);
    expect(late).toEqual({
      outcome: 'change',
      report: expect.not.objectContaining({ ref: expect.anything() }),
    });
    expect(late.report).not.toHaveProperty('ref');
  });

  it('creates the schema once when several instances start at once, and records its version', async () => {
    const shared = schema();
    const stores = Array.from({ length: 6 }, () => store({ schema: shared }));
    await Promise.all(stores.map((dlrStore) => dlrStore.ensureSchema()));
    const { rows } = await admin.query(`SELECT version FROM ${shared}.schema_version`);
    expect(rows).toEqual([{ version: POSTGRES_DLR_SCHEMA_VERSION }]);
    const results = await Promise.all(stores.map((dlrStore) => dlrStore.record(dlr('start'), past(), LONG)));
    expect(results.filter((result) => result.outcome === 'change')).toHaveLength(1);
  });

  it('exports idempotent SQL for migration tools, and works on it with createSchema: false', async () => {
    const migrated = schema();
    await admin.query(postgresDlrSchemaSql(migrated));
    await admin.query(postgresDlrSchemaSql(migrated));
    const dlrStore = store({ schema: migrated, createSchema: false });
    expect((await dlrStore.record(dlr('migrated'), past(), LONG)).outcome).toBe('change');
    await expect(store({ schema: schema(), createSchema: false }).ping()).resolves.toBeUndefined();
    await expect(store({ schema: schema(), createSchema: false }).latest('x')).rejects.toThrow(
      /PostgresDlrStore: .*does not exist/,
    );
  });

  it('brings up to date a schema at this version without the current record (an earlier build’s): old rows read as no account', async () => {
    const early = schema();
    await admin.query(postgresDlrSchemaSql(early));
    // What an earlier build created: no reports.account, no record(…, account).
    await admin.query(
      `DROP FUNCTION ${early}.record(json, text, text, text, bigint, bigint, smallint, boolean, text, double precision, text);
       ALTER TABLE ${early}.reports DROP COLUMN account;
       INSERT INTO ${early}.messages (message_id, status, precedence, final, received_at, updated_at)
         VALUES ('early-1', 'DELIVRD', 3, true, 1, 1);
       INSERT INTO ${early}.reports (message_id, status, raw, received_at)
         VALUES ('early-1', 'DELIVRD', '{"message_id":"early-1","status":"DELIVRD"}', 1);`,
    );
    const dlrStore = store({ schema: early });
    const recorded = await dlrStore.record(dlr('early-2'), past(), LONG, 'shop-ee');
    expect(recorded.report?.account).toBe('shop-ee');
    expect(await dlrStore.latest('early-1')).not.toHaveProperty('account');
    expect((await dlrStore.latest('early-2'))?.account).toBe('shop-ee');
    // The earlier build's signature, still called during a rolling upgrade, records without one.
    const { rows } = await admin.query(
      `SELECT outcome FROM ${early}.record($1, $2, 'DELIVRD', NULL, $3, $4, 3::smallint, true, NULL, NULL)`,
      [JSON.stringify(dlr('early-3')), 'early-3', past(), past() + LONG],
    );
    expect(rows).toEqual([{ outcome: 'change' }]);
    expect(await dlrStore.latest('early-3')).not.toHaveProperty('account');
  });

  it('upgrades a database of schema version 1: rows written before are in the feed and found', async () => {
    const upgraded = schema();
    const v1 = readFileSync(new URL('fixtures/postgres-schema-v1.sql', import.meta.url), 'utf8');
    await admin.query(v1.replaceAll('v1_schema_placeholder', upgraded));
    // Reports recorded by the release before: a change, a later change, a stale one.
    for (const [status, precedence, at] of [
      ['ACCEPTD', 1, 1],
      ['DELIVRD', 3, 2],
      ['ACK', 1, 3],
    ] as const) {
      await admin.query(`SELECT * FROM ${upgraded}.record($1, $2, $3, NULL, $4, $5, $6, false)`, [
        JSON.stringify(dlr('old-message-1', status)),
        'old-message-1',
        status,
        past() + at,
        past() + at + LONG,
        precedence,
      ]);
    }
    const dlrStore = store({ schema: upgraded });
    await dlrStore.record({ ...dlr('new-message-1'), to: '+3725550' }, Date.now(), LONG);
    const { rows } = await admin.query(`SELECT version FROM ${upgraded}.schema_version ORDER BY version`);
    expect(rows).toEqual([{ version: 1 }, { version: POSTGRES_DLR_SCHEMA_VERSION }]);
    const feed = (await dlrStore.recent(10)).map(
      (report) => `${String(report.raw['message_id'])}/${String(report.raw['status'])}`,
    );
    expect(feed).toEqual(['new-message-1/DELIVRD', 'old-message-1/DELIVRD', 'old-message-1/ACCEPTD']);
    expect(await dlrStore.search('old-mess', 10)).toEqual(['old-message-1']);
    expect(await dlrStore.search('+3725550', 10)).toEqual(['new-message-1']);
    // An instance of the release before, still running during a rolling upgrade, still records.
    await admin.query(`SELECT * FROM ${upgraded}.record($1, $2, $3, NULL, $4, $5, $6, false)`, [
      JSON.stringify(dlr('old-message-2')),
      'old-message-2',
      'DELIVRD',
      Date.now() + 1,
      Date.now() + LONG,
      3,
    ]);
    expect(await dlrStore.search('old-message-2', 10)).toEqual(['old-message-2']);

    // Version 3: a report recorded by the release before counts when its omnimessage is tracked.
    const tracked = await dlrStore.track(trackInput('omni-old-1', ['old-message-1']), Date.now(), LONG);
    expect(tracked.status).toBe('tracked');
    expect(tracked.outcome).toMatchObject({ result: 'delivered', deliveredVia: 'sms' });
    expect(tracked.outcome.messages).toEqual([
      { messageId: 'old-message-1', channel: 'sms', status: 'DELIVRD', err: null, at: expect.any(Number) },
    ]);
    expect(tracked.change).toMatchObject({ previousResult: 'pending' });
    // The old signature, still called by an instance not yet upgraded, settles tracked outcomes too,
    // and leaves the outcome change pending for this release's sweep.
    await dlrStore.track(trackInput('omni-rolling', ['old-message-3']), Date.now(), LONG);
    await admin.query(`SELECT * FROM ${upgraded}.record($1, $2, $3, NULL, $4, $5, $6, false)`, [
      JSON.stringify({ ...dlr('old-message-3', 'UNDELIV'), err: 3 }),
      'old-message-3',
      'UNDELIV',
      past(),
      past() + 1000,
      3,
    ]);
    expect(await dlrStore.outcome('omni-rolling')).toMatchObject({
      result: 'failed',
      messages: [{ messageId: 'old-message-3', status: 'UNDELIV', err: 3 }],
    });
    const claimed = await dlrStore.claimPendingOutcomes(10, LONG);
    expect(claimed.map((change) => `${change.outcome.omnimessageId}/${change.outcome.result}`)).toEqual([
      'omni-rolling/failed',
    ]);
  });

  it('upgrades a database of schema version 2: its reports, pending changes and signature keep working', async () => {
    const upgraded = schema();
    const v2 = readFileSync(new URL('fixtures/postgres-schema-v2.sql', import.meta.url), 'utf8');
    await admin.query(v2.replaceAll('v2_schema_placeholder', upgraded));
    // What the release before recorded, with its record(…, recipient): changes, a stale report.
    const recordV2 = (messageId: string, status: string, precedence: number, at: number, to: string | null) =>
      admin.query<{ outcome: string }>(
        `SELECT outcome FROM ${upgraded}.record($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          JSON.stringify({ ...dlr(messageId, status), ...(to === null ? {} : { to }) }),
          messageId,
          status,
          `omni-${messageId}`,
          at,
          at + 1000,
          precedence,
          ['DELIVRD', 'UNDELIV'].includes(status),
          to,
        ],
      );
    const t = past();
    for (const [messageId, status, precedence, at] of [
      ['v2-1', 'ACCEPTD', 1, t],
      ['v2-1', 'DELIVRD', 3, t + 1],
      ['v2-1', 'ACK', 1, t + 2],
      ['v2-2', 'UNDELIV', 3, t + 3],
    ] as const) {
      await recordV2(messageId, status, precedence, at, '+3725552');
    }
    await admin.query(`DELETE FROM ${upgraded}.pending WHERE message_id = 'v2-1' AND status = 'ACCEPTD'`);

    const dlrStore = store({ schema: upgraded });
    await dlrStore.ensureSchema();
    const { rows } = await admin.query(`SELECT version FROM ${upgraded}.schema_version ORDER BY version`);
    expect(rows).toEqual([{ version: 2 }, { version: POSTGRES_DLR_SCHEMA_VERSION }]);
    // The reports as they were: no ref, no account; the feed, the search by id and by phone.
    expect(await dlrStore.latest('v2-1')).toEqual({
      messageId: 'v2-1',
      status: 'DELIVRD',
      raw: { ...dlr('v2-1', 'DELIVRD'), to: '+3725552' },
      receivedAt: t + 1,
      previousStatus: 'ACCEPTD',
    });
    expect((await dlrStore.history('v2-1')).map((report) => report.status)).toEqual([
      'ACCEPTD',
      'DELIVRD',
      'ACK',
    ]);
    expect((await dlrStore.recent(10)).map((report) => `${report.messageId}/${report.status}`)).toEqual([
      'v2-2/UNDELIV',
      'v2-1/DELIVRD',
      'v2-1/ACCEPTD',
    ]);
    expect(await dlrStore.search('+3725552', 10)).toEqual(['v2-2', 'v2-1']);
    expect(await dlrStore.forOmnimessage('omni-v2-2')).toHaveLength(1);
    // Pending changes the release before left (their leases over) are claimed by this one.
    expect(
      (await dlrStore.claimPending(10, LONG)).map((report) => `${report.messageId}/${report.status}`),
    ).toEqual(['v2-1/DELIVRD', 'v2-2/UNDELIV']);
    expect((await dlrStore.record(dlr('v2-1', 'DELIVRD'), Date.now(), LONG)).outcome).toBe('duplicate');

    // What this release added works on the upgraded schema: tracking, accounts, delivery analytics.
    const tracked = await dlrStore.track(trackInput('omni-v2-track', ['v2-2']), Date.now(), LONG);
    expect(tracked.outcome).toMatchObject({ result: 'failed' });
    expect((await dlrStore.record(dlr('v2-3'), Date.now(), LONG, 'shop-lv')).report?.account).toBe('shop-lv');
    const now = Date.now();
    expect(
      await dlrStore.tallyDelivery([
        {
          messageId: 'v2-3',
          channel: 'sms',
          country: 'LV',
          step: 'started',
          reason: null,
          at: now - 2000,
          receivedAt: now,
        },
        {
          messageId: 'v2-3',
          channel: 'sms',
          country: 'LV',
          step: 'delivered',
          reason: null,
          at: now,
          receivedAt: now,
        },
      ]),
    ).toEqual([null, 2]);
    expect(await dlrStore.deliveryBuckets('1h', now)).toMatchObject([
      { channel: 'sms', country: 'LV', delivered: 1 },
    ]);
    // An instance of the release before, still running during a rolling upgrade, still records.
    expect((await recordV2('v2-4', 'DELIVRD', 3, Date.now(), null)).rows).toEqual([{ outcome: 'change' }]);
    expect((await dlrStore.latest('v2-4'))?.status).toBe('DELIVRD');
  });

  it('upgrades a database of schema version 3 in place: reports, accounts and outcomes stay, the analytics start', async () => {
    const upgraded = schema();
    const v3 = readFileSync(new URL('fixtures/postgres-schema-v3.sql', import.meta.url), 'utf8');
    await admin.query(v3.replaceAll('v3_schema_placeholder', upgraded));
    // The release before's statements are this one's (record and track kept their signatures):
    // a store that does not touch the schema stands for an instance of it.
    const before = store({ schema: upgraded, createSchema: false });
    await before.track(trackInput('omni-v3', ['v3-viber', 'v3-sms']), past(), LONG);
    await before.record({ ...dlr('v3-sms', 'DELIVRD'), to: '+3725553' }, past(), LONG, 'shop-ee');
    expect(await before.outcome('omni-v3')).toMatchObject({ result: 'delivered', deliveredVia: 'sms' });
    await expect(before.tallyDelivery([])).resolves.toEqual([]);
    await expect(before.deliveryBuckets('1h', Date.now())).rejects.toThrow(
      /PostgresDlrStore: .*delivery_buckets.* does not exist/,
    );

    const dlrStore = store({ schema: upgraded });
    await dlrStore.ensureSchema();
    const { rows } = await admin.query(`SELECT version FROM ${upgraded}.schema_version ORDER BY version`);
    expect(rows).toEqual([{ version: 3 }, { version: POSTGRES_DLR_SCHEMA_VERSION }]);
    expect(await dlrStore.latest('v3-sms')).toMatchObject({
      status: 'DELIVRD',
      account: 'shop-ee',
      ref: 'ref-omni-v3',
    });
    expect(await dlrStore.outcome('omni-v3')).toMatchObject({ result: 'delivered', deliveredVia: 'sms' });
    expect(await dlrStore.countPendingOutcomes()).toBe(1);
    const now = Date.now();
    await dlrStore.tallyDelivery([
      {
        messageId: 'v3-new',
        channel: 'viber',
        country: 'EE',
        step: 'failed',
        reason: 'expired',
        at: now,
        receivedAt: now,
      },
    ]);
    expect(await dlrStore.deliveryBuckets('24h', now)).toEqual([
      {
        channel: 'viber',
        country: 'EE',
        started: 1,
        delivered: 0,
        failed: 1,
        bins: expect.any(Array),
        reasons: { expired: 1 },
      },
    ]);
    // An instance of the release before, still running, records on the upgraded schema.
    expect((await before.record(dlr('v3-late'), Date.now(), LONG)).outcome).toBe('change');
    expect((await dlrStore.latest('v3-late'))?.status).toBe('DELIVRD');
  });

  it('refuses a schema written by a newer release, and names that are not plain identifiers', async () => {
    const newer = schema();
    await admin.query(postgresDlrSchemaSql(newer));
    await admin.query(
      `INSERT INTO ${newer}.schema_version (version) VALUES (${POSTGRES_DLR_SCHEMA_VERSION + 1})`,
    );
    await expect(store({ schema: newer }).latest('x')).rejects.toThrow(/newer than this release/);
    expect(
      () => new PostgresDlrStore({ connectionString: server.url, schema: 'x"; DROP TABLE y; --' }),
    ).toThrow(/schema must be a lower-case SQL identifier/);
    expect(() => new PostgresDlrStore({})).toThrow(
      /exactly one of the options `pool` and `connectionString`/,
    );
    expect(() => new PostgresDlrStore({ connectionString: server.url, retentionDays: 0 })).toThrow(
      /retentionDays/,
    );
  });

  it('keeps ids PostgreSQL text cannot hold apart: NUL, lone surrogates, a leading U+0001', async () => {
    const dlrStore = store();
    const ids = ['a\u0000b', 'a', '\u0001"a\\u0000b"', 'x\uD800', 'x\uFFFD', 'ok \u{1F600}'];
    for (const id of ids) expect((await dlrStore.record(dlr(id), past(), LONG)).outcome).toBe('change');
    for (const id of ids) expect((await dlrStore.latest(id))?.raw['message_id']).toBe(id);
    await dlrStore.complete({ messageId: 'a\u0000b', status: 'DELIVRD' });
    expect(await dlrStore.countPending()).toBe(ids.length - 1);
  });

  it('ends a pool it created on close, and leaves a pool it was given open', async () => {
    const given = pool();
    const withGiven = store({ pool: given, schema: schema() });
    await withGiven.ping();
    await withGiven.close();
    expect((await given.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

    const owned = new PostgresDlrStore({
      connectionString: server.url,
      schema: schema(),
      pruneIntervalMs: 0,
    });
    await owned.ping();
    const connections = async () =>
      Number(
        (
          await admin.query(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'nestjs-messente-dlr'`,
          )
        ).rows[0].n,
      );
    expect(await connections()).toBeGreaterThan(0);
    await owned.close();
    // The server ends a backend shortly after its client hangs up: wait for it, boundedly.
    const deadline = Date.now() + 5_000;
    while ((await connections()) > 0 && Date.now() < deadline) await delay(20);
    expect(await connections()).toBe(0);
  });

  it('prunes messages silent past retentionDays in bounded batches, never a pending one, skipping locked rows', async () => {
    const dlrStore = store({ retentionDays: 30, pruneBatchSize: 3 });
    const old = Date.now() - 31 * DAY;
    for (let i = 0; i < 7; i++) {
      await dlrStore.record(dlr(`old-${i}`), old, 1000);
      await dlrStore.complete({ messageId: `old-${i}`, status: 'DELIVRD' });
    }
    await dlrStore.record(dlr('old-pending'), old, 1000);
    await dlrStore.record(dlr('recent', 'ACCEPTD'), Date.now() - 29 * DAY, 1000);
    await dlrStore.complete({ messageId: 'recent', status: 'ACCEPTD' });
    await dlrStore.record(dlr('old-locked'), old, 1000);
    await dlrStore.complete({ messageId: 'old-locked', status: 'DELIVRD' });

    // Another session holds one old message (as intake would): pruning skips it, without waiting.
    const holder: PoolClient = await admin.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        `SELECT 1 FROM ${(dlrStore as unknown as { schema: string }).schema}.messages WHERE message_id = 'old-locked' FOR UPDATE`,
      );
      const started = Date.now();
      expect(await dlrStore.prune()).toBe(7);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await dlrStore.latest('old-3')).toBeNull();
    expect(await dlrStore.history('old-3')).toEqual([]);
    expect(await dlrStore.latest('old-pending')).not.toBeNull();
    expect(await dlrStore.latest('recent')).not.toBeNull();
    expect(await dlrStore.prune()).toBe(1);
    expect(await dlrStore.latest('old-locked')).toBeNull();
  });

  it('prunes by the last report, not the last change: a message with a recent stale report stays', async () => {
    const dlrStore = store({ retentionDays: 30 });
    const old = Date.now() - 31 * DAY;
    await dlrStore.record(dlr('changed-long-ago', 'DELIVRD'), old, 1000);
    await dlrStore.complete({ messageId: 'changed-long-ago', status: 'DELIVRD' });
    // A stale report now: its latest change (received_at) stays old, its last report is recent.
    expect((await dlrStore.record(dlr('changed-long-ago', 'ACCEPTD'), Date.now(), 1000)).outcome).toBe(
      'stale',
    );
    await dlrStore.record(dlr('silent-long-ago', 'DELIVRD'), old, 1000);
    await dlrStore.complete({ messageId: 'silent-long-ago', status: 'DELIVRD' });
    expect(await dlrStore.prune()).toBe(1);
    expect(await dlrStore.latest('silent-long-ago')).toBeNull();
    expect((await dlrStore.history('changed-long-ago')).map((report) => report.raw['status'])).toEqual([
      'DELIVRD',
      'ACCEPTD',
    ]);
  });

  it('still takes the deprecated queryTimeoutMs for timeoutMs, which wins when both are given', async () => {
    expect(() => new PostgresDlrStore({ connectionString: server.url, queryTimeoutMs: 0 })).toThrow(
      'PostgresDlrStore: queryTimeoutMs must be a positive integer, got 0',
    );
    expect(
      () => new PostgresDlrStore({ connectionString: server.url, timeoutMs: 0, queryTimeoutMs: 100 }),
    ).toThrow('PostgresDlrStore: timeoutMs must be a positive integer, got 0');
    const slowSchema = schema();
    const dlrStore = store({ pool: pool({ max: 2 }), schema: slowSchema, queryTimeoutMs: 300 });
    await dlrStore.ping();
    const holder = await admin.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${slowSchema}.messages IN ACCESS EXCLUSIVE MODE`);
      const started = Date.now();
      await expect(dlrStore.record(dlr('slow-alias'), past(), LONG)).rejects.toThrow(
        /PostgreSQL is unavailable/,
      );
      expect(Date.now() - started).toBeLessThan(900);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });

  it('fails within timeoutMs while a table is locked, and within the pool wait when the pool is exhausted', async () => {
    const slowSchema = schema();
    // A pool of the user's, configured with no timeout at all: the store's own deadline holds.
    const given = pool({ max: 2 });
    const dlrStore = store({ pool: given, schema: slowSchema, timeoutMs: 500 });
    await dlrStore.ping();
    const holder = await admin.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${slowSchema}.messages IN ACCESS EXCLUSIVE MODE`);
      const started = Date.now();
      await expect(dlrStore.record(dlr('slow'), past(), LONG)).rejects.toThrow(/PostgreSQL is unavailable/);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect((await dlrStore.record(dlr('after-lock'), past(), LONG)).outcome).toBe('change');

    const held = [await given.connect(), await given.connect()];
    const started = Date.now();
    await expect(dlrStore.record(dlr('exhausted'), past(), LONG)).rejects.toThrow(
      /no connection within 500 ms/,
    );
    expect(Date.now() - started).toBeLessThan(1000);
    held.forEach((client) => client.release());
    expect((await dlrStore.record(dlr('exhausted'), past(), LONG)).outcome).toBe('change');
  });

  it('rejects within 2 s while PostgreSQL is down and recovers by itself', async () => {
    const own = await startPostgresServer();
    cleanups.push(() => own.stop());
    const dlrStore = new PostgresDlrStore({ connectionString: own.url, pruneIntervalMs: 0 });
    cleanups.unshift(() => dlrStore.close());
    expect((await dlrStore.record(dlr('outage-1'), past(), LONG)).outcome).toBe('change');

    await own.kill();
    const started = Date.now();
    await expect(dlrStore.record(dlr('outage-2'), past(), LONG)).rejects.toThrow(/PostgreSQL is unavailable/);
    await expect(dlrStore.ping()).rejects.toThrow(/PostgreSQL is unavailable/);
    expect(Date.now() - started).toBeLessThan(2000);

    await own.start();
    const deadline = Date.now() + 10_000;
    let result: RecordResult | undefined;
    while (result === undefined && Date.now() < deadline) {
      result = await dlrStore.record(dlr('outage-3'), past(), LONG).catch(() => undefined);
    }
    expect(result?.outcome).toBe('change');
    expect((await dlrStore.latest('outage-1'))?.raw['message_id']).toBe('outage-1');
  });

  it('serves every query from an index (EXPLAIN of each statement, the record function’s included)', async () => {
    const planned = schema();
    const plans: string[] = [];
    const given = pool({ max: 1 });
    // auto_explain logs the plan of every statement, nested ones in record() too, as notices.
    given.on('connect', (client) => {
      client.on('notice', (notice) => plans.push(notice.message ?? ''));
      void client.query(
        `LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
         SET client_min_messages = log; SET plan_cache_mode = force_generic_plan`,
      );
    });
    const dlrStore = store({ pool: given, schema: planned });
    await dlrStore.ensureSchema();
    await admin.query(
      `INSERT INTO ${planned}.messages (message_id, status, precedence, final, received_at, omnimessage_id, updated_at)
       SELECT 'seed-' || i, 'DELIVRD', 3, i % 3 = 0, i, 'omni-' || (i / 2), i FROM generate_series(1, 20000) i;
       INSERT INTO ${planned}.reports (message_id, status, raw, received_at)
       SELECT 'seed-' || i, 'DELIVRD', '{}', i FROM generate_series(1, 20000) i;
       INSERT INTO ${planned}.pending (message_id, status, lease_until)
       SELECT 'seed-' || i, 'DELIVRD', ${Date.now() + LONG} + i FROM generate_series(1, 20000) i;
       ANALYZE ${planned}.messages; ANALYZE ${planned}.reports; ANALYZE ${planned}.pending;
       INSERT INTO ${planned}.outcomes (omnimessage_id, ref, result, deadline, tracked_at, updated_at)
       SELECT 'seed-omni-' || i, 'seed-ref-' || (i / 3), CASE WHEN i % 2 = 0 THEN 'pending' ELSE 'failed' END,
         ${Date.now() + LONG} + i, i, i FROM generate_series(1, 20000) i;
       INSERT INTO ${planned}.outcome_messages (omnimessage_id, position, message_id, channel)
       SELECT 'seed-omni-' || i, 0, 'seed-tracked-' || i, 'sms' FROM generate_series(1, 20000) i;
       INSERT INTO ${planned}.outcome_pending (omnimessage_id, result, change, lease_until)
       SELECT 'seed-omni-' || i, 'failed', '{}', ${Date.now() + LONG} + i FROM generate_series(1, 20000) i;
       ANALYZE ${planned}.outcomes; ANALYZE ${planned}.outcome_messages; ANALYZE ${planned}.outcome_pending;`,
    );
    plans.length = 0;
    await dlrStore.record(dlr('plan'), past(), 1000);
    await dlrStore.record(dlr('plan', 'ACCEPTD'), past(), 1000);
    await dlrStore.record(dlr('plan'), Date.now(), 1000);
    await dlrStore.record(dlr('plan', 'SEEN'), Date.now(), 1000);
    await dlrStore.latest('plan');
    await dlrStore.history('plan');
    await dlrStore.forOmnimessage('omni-plan');
    await dlrStore.unsettled(Date.now(), 10);
    await dlrStore.claimPending(10, LONG);
    await dlrStore.listPending(10);
    await dlrStore.release({ messageId: 'plan', status: 'SEEN' });
    await dlrStore.complete({ messageId: 'plan', status: 'SEEN' });
    await dlrStore.recent(50);
    await dlrStore.search('seed-1234', 50);
    await dlrStore.search('a\u0000b-with-nul', 50);
    await dlrStore.track(trackInput('omni-plan-tracked', ['plan-viber', 'plan-sms'], past()), past(), 1000);
    await dlrStore.record({ message_id: 'plan-sms', status: 'DELIVRD' }, past(), 1000);
    await dlrStore.outcome('omni-plan-tracked');
    await dlrStore.findByRef('ref-omni-plan-tracked', 10);
    await dlrStore.track(trackInput('omni-plan-due', ['plan-due'], past()), past(), 1000);
    await dlrStore.claimOverdue(Date.now(), 10, LONG);
    await dlrStore.markOverdue('omni-plan-due', Date.now(), LONG);
    await dlrStore.claimPendingOutcomes(10, LONG);
    await dlrStore.releaseOutcome({ omnimessageId: 'omni-plan-due', result: 'overdue' });
    await dlrStore.completeOutcome({ omnimessageId: 'omni-plan-due', result: 'overdue' });
    await dlrStore.prune();
    const text = plans.join('\n\n');
    writeFileSync(join(tmpdir(), 'messente-dlr-postgres-plans.txt'), text);
    const tables = new RegExp(
      `Seq Scan on (messages|reports|pending|outcomes|outcome_messages|outcome_pending)\\b`,
    );
    expect(text).not.toMatch(tables);
    for (const index of [
      'messages_pkey',
      'reports_pkey',
      'pending_pkey',
      'pending_lease_idx',
      'messages_omnimessage_idx',
      'messages_unsettled_idx',
      'messages_updated_idx',
      'messages_id_prefix_idx',
      'messages_omnimessage_prefix_idx',
      'reports_recipient_idx',
      'reports_recent_idx',
      'outcomes_pkey',
      'outcomes_ref_idx',
      'outcomes_overdue_idx',
      'outcomes_updated_idx',
      'outcome_messages_pkey',
      'outcome_messages_message_idx',
      'outcome_pending_pkey',
      'outcome_pending_lease_idx',
    ]) {
      expect(text).toContain(index);
    }
  });
});
