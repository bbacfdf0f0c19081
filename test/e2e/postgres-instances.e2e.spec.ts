import { jest } from '@jest/globals';
import { Injectable, Logger } from '@nestjs/common';
import { Pool } from 'pg';
import {
  DeliveryStatusChanged,
  DeliveryStatusService,
  MessenteDlrModule,
  OnDlrStatus,
  type MessenteDlrModuleOptions,
} from '../../lib/index.js';
import { PostgresDlrStore } from '../../lib/postgres/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { delay, postDlr, startApp, waitFor, type AdapterName, type TestApp } from '../support/app.js';
import { postToAllAtOnce, streamReports } from '../support/instances.js';
import {
  describeWithPostgres,
  startPostgresServer,
  type PostgresServer,
} from '../support/postgres-server.js';

const SECRET = 'postgres-secret';

/** Handler calls of every app in this file, as `messageId:status`. */
const calls: string[] = [];

@Injectable()
class Recorder {
  @OnDlrStatus('*') on(event: DeliveryStatusChanged) {
    calls.push(`${event.messageId}:${event.status}`);
  }
}

describeWithPostgres('several instances on one PostgreSQL database', () => {
  let postgres: PostgresServer;
  let schemas = 0;
  const apps: TestApp[] = [];
  /** A store on this file's server, in `schema` (a fresh one by default). */
  const storeIn = (schema = `e2e_${++schemas}`) =>
    new PostgresDlrStore({ connectionString: postgres.url, schema, pruneIntervalMs: 0 });

  function startOn(
    adapter: AdapterName,
    store: PostgresDlrStore,
    options: MessenteDlrModuleOptions = {},
    providers: unknown[] = [Recorder],
  ) {
    return startApp(adapter, {
      imports: [
        MessenteDlrModule.forRoot({
          signatureSecrets: [SECRET],
          allowedIps: ['127.0.0.1'],
          store,
          ...options,
        }),
      ],
      providers: providers as never[],
    });
  }

  beforeAll(async () => {
    postgres = await startPostgresServer();
  });
  afterAll(() => postgres.stop());
  beforeEach(() => {
    calls.length = 0;
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close().catch(() => undefined)));
  });

  it('Express and Fastify instances receiving 5 000 reports each at the same instant fire each change once', async () => {
    const schema = `twins_${Date.now()}`;
    const one = await startOn('express', storeIn(schema));
    const two = await startOn('fastify', storeIn(schema));
    apps.push(one, two);
    const { messages, model, expected, failures } = await postToAllAtOnce([one, two], SECRET, 1_250);
    expect(failures).toEqual([]);
    expect(expected.length).toBeGreaterThan(2_500);
    await waitFor(() => calls.length >= expected.length, 60_000);
    await delay(300);
    expect(calls.length).toBe(expected.length);
    expect(new Set(calls)).toEqual(new Set(expected));

    // Either instance sees every change.
    for (const app of [one, two]) {
      const statuses = app.app.get(DeliveryStatusService);
      const latest = await Promise.all(messages.map((id) => statuses.latest(id)));
      expect(latest.map((event) => event?.status)).toEqual(
        messages.map((id) => model.changes.get(id)!.at(-1)),
      );
    }
  }, 180_000); // 10 000 requests: on a busy 2-core machine this takes a while

  it('a pending report left by a gracefully stopped instance reaches the next instance', async () => {
    const schema = `restart_${Date.now()}`;
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const blockedCalls: string[] = [];
    @Injectable()
    class Blocking {
      @OnDlrStatus('*') async on(event: DeliveryStatusChanged) {
        blockedCalls.push(event.messageId);
        await blocked;
      }
    }
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const first = await startOn('fastify', storeIn(schema), { shutdownTimeoutMs: 100 }, [Blocking]);
      const ids = Array.from({ length: 5 }, () => crypto.randomUUID());
      for (const id of ids) {
        const body = dlrPayload({ message_id: id, status: 'DELIVRD' });
        expect((await postDlr(first.baseUrl, body, { secret: SECRET })).status).toBe(200);
      }
      await waitFor(() => blockedCalls.length === 5);
      await first.close();

      const second = await startOn('express', storeIn(schema));
      apps.push(second);
      await waitFor(() => calls.length === 5);
      expect(calls.sort()).toEqual(ids.map((id) => `${id}:DELIVRD`).sort());
    } finally {
      release();
      warn.mockRestore();
    }
  });

  it('a crashed instance’s pending reports are claimed by another once their lease runs out', async () => {
    const schema = `crash_${Date.now()}`;
    const stuck: string[] = [];
    @Injectable()
    class NeverFinishes {
      @OnDlrStatus('*') on(event: DeliveryStatusChanged) {
        stuck.push(event.messageId);
        return new Promise(() => undefined);
      }
    }
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      // Holds its leases for 300 ms and never finishes: as if it had crashed.
      const crashed = await startOn(
        'express',
        storeIn(schema),
        { pendingLeaseMs: 300, shutdownTimeoutMs: 0 },
        [NeverFinishes],
      );
      const ids = Array.from({ length: 3 }, () => crypto.randomUUID());
      for (const id of ids) {
        await postDlr(crashed.baseUrl, dlrPayload({ message_id: id, status: 'FAILED' }), { secret: SECRET });
      }
      await waitFor(() => stuck.length === 3);
      const survivor = await startOn('fastify', storeIn(schema), {
        pendingLeaseMs: 300,
        pendingSweepIntervalMs: 100,
      });
      apps.push(survivor);
      expect(calls).toEqual([]);
      await waitFor(() => calls.length === 3, 5_000);
      await delay(400);
      expect(calls.sort()).toEqual(ids.map((id) => `${id}:FAILED`).sort());
      apps.push(crashed);
    } finally {
      warn.mockRestore();
    }
  });

  it('a report PostgreSQL records just after the 503 went out is still dispatched, once', async () => {
    const schema = `late_${Date.now()}`;
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const blocker = new Pool({ connectionString: postgres.url, max: 1 });
    try {
      const app = await startOn('express', storeIn(schema));
      apps.push(app);
      expect((await postDlr(app.baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
      await waitFor(() => calls.length === 1);
      // The messages table is locked for 2 s: longer than the webhook's deadline, shorter than the store's.
      const holder = await blocker.connect();
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${schema}.messages IN ACCESS EXCLUSIVE MODE`);
      const unlocked = delay(2_000).then(async () => {
        await holder.query('COMMIT');
        holder.release();
      });
      const payload = dlrPayload({ status: 'DELIVRD' });
      const started = Date.now();
      const answer = await postDlr(app.baseUrl, payload, { secret: SECRET });
      expect(answer.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2_000);
      await unlocked;
      await waitFor(() => calls.length === 2, 4_000);
      expect(calls[1]).toBe(`${payload['message_id']}:DELIVRD`);
      // Messente's retry of the refused report is a plain duplicate: no second call.
      expect((await postDlr(app.baseUrl, payload, { secret: SECRET })).body).toEqual({
        outcome: 'duplicate',
      });
      await delay(100);
      expect(calls).toHaveLength(2);
    } finally {
      await blocker.end();
      errors.mockRestore();
    }
  });

  it('a server killed mid-stream: 200 or 503 within 2 s, nothing acknowledged lost, logged once, recovers by itself', async () => {
    const own = await startPostgresServer();
    const store = new PostgresDlrStore({ connectionString: own.url, pruneIntervalMs: 0 });
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const app = await startOn('fastify', store);
      apps.push(app);
      const stream = streamReports(app, SECRET);
      await delay(500);
      const killedAt = stream.answers.length;
      await own.kill();
      await delay(1_500);
      const answers = await stream.stop();

      expect(killedAt).toBeGreaterThan(0);
      expect(answers.length - killedAt).toBeGreaterThan(0);
      expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 503)).toEqual([]);
      expect(answers.filter((answer) => answer.status === 503).length).toBeGreaterThan(0);
      expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(2_000);
      const outageLogs = errors.mock.calls.filter(([message]) =>
        String(message).includes('store is unavailable'),
      );
      expect(outageLogs).toHaveLength(1);
      await expect(store.ping()).rejects.toThrow(/PostgreSQL is unavailable/);

      await own.start();
      // Intake recovers by itself: no new store, no app restart.
      let recovered = 0;
      for (let attempt = 0; attempt < 100 && recovered === 0; attempt++) {
        const answer = await postDlr(app.baseUrl, dlrPayload(), { secret: SECRET });
        if (answer.status === 200) recovered = attempt + 1;
        else await delay(50);
      }
      expect(recovered).toBeGreaterThan(0);

      // Every report answered 200 is in the database after the crash recovery.
      const accepted = answers.filter((answer) => answer.status === 200).map((answer) => answer.id);
      const pool = new Pool({ connectionString: own.url });
      try {
        const { rows } = await pool.query<{ message_id: string }>(
          'SELECT message_id FROM messente_dlr.reports WHERE message_id = ANY ($1)',
          [accepted],
        );
        expect(rows.map((row) => row.message_id).sort()).toEqual([...accepted].sort());
      } finally {
        await pool.end();
      }
      // And no handler ran for a report that was refused.
      const refused = new Set(answers.filter((answer) => answer.status === 503).map((answer) => answer.id));
      await delay(100);
      expect(calls.filter((call) => refused.has(call.split(':')[0]!))).toEqual([]);
    } finally {
      errors.mockRestore();
      await Promise.all(apps.splice(0).map((app) => app.close().catch(() => undefined)));
      await own.stop();
    }
  });
});
