import { jest } from '@jest/globals';
import { Injectable, Logger } from '@nestjs/common';
import { Pool } from 'pg';
import { OnDlrStatus, type DeliveryStatusChanged } from '../../lib/index.js';
import { PostgresDlrStore } from '../../lib/postgres/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { delay, postDlr, waitFor } from '../support/app.js';
import { expectEachOutcomeOnce } from '../support/instances-outcomes.js';
import {
  expectEachChangeOnce,
  expectLateRecordDispatchedOnce,
  expectNoHandlerForRefused,
  expectOutageAnswers,
  expectPendingHandedOver,
  expectRecoveredByItself,
  postToAllAtOnce,
  streamReports,
  useInstances,
} from '../support/instances.js';
import {
  describeWithPostgres,
  startPostgresServer,
  type PostgresServer,
} from '../support/postgres-server.js';

const SECRET = 'postgres-secret';

describeWithPostgres('several instances on one PostgreSQL database', () => {
  let postgres: PostgresServer;
  let schemas = 0;
  const instances = useInstances(SECRET);
  const { calls, apps, startOn } = instances;
  /** A store on this file's server, in `schema` (a fresh one by default). */
  const storeIn = (schema = `e2e_${++schemas}`) =>
    new PostgresDlrStore({ connectionString: postgres.url, schema, pruneIntervalMs: 0 });

  beforeAll(async () => {
    postgres = await startPostgresServer();
  });
  afterAll(() => postgres.stop());

  it('Express and Fastify instances receiving 5 000 reports each at the same instant fire each change once', async () => {
    const schema = `twins_${Date.now()}`;
    const one = await startOn('express', storeIn(schema));
    const two = await startOn('fastify', storeIn(schema));
    apps.push(one, two);
    const sent = await postToAllAtOnce([one, two], SECRET, 1_250);
    await expectEachChangeOnce(instances, [one, two], sent, { waitMs: 60_000, settleMs: 300 });
  }, 180_000); // 10 000 requests: on a busy 2-core machine this takes a while

  it('two instances given every track() and report at once fire each outcome exactly once', async () => {
    const schema = `outcomes_${Date.now()}`;
    await expectEachOutcomeOnce(instances, () => storeIn(schema));
  });

  it('a pending report left by a gracefully stopped instance reaches the next instance', async () => {
    const schema = `restart_${Date.now()}`;
    await expectPendingHandedOver(instances, () => storeIn(schema));
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
    const blocker = new Pool({ connectionString: postgres.url, max: 1 });
    try {
      await expectLateRecordDispatchedOnce(instances, storeIn(schema), async () => {
        // The messages table is locked for 2 s: longer than the webhook's deadline, shorter than the store's.
        const holder = await blocker.connect();
        await holder.query('BEGIN');
        await holder.query(`LOCK TABLE ${schema}.messages IN ACCESS EXCLUSIVE MODE`);
        const over = delay(2_000).then(async () => {
          await holder.query('COMMIT');
          holder.release();
        });
        return { over };
      });
    } finally {
      await blocker.end();
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
      expectOutageAnswers(answers, killedAt, errors);
      await expect(store.ping()).rejects.toThrow(/PostgreSQL is unavailable/);

      await own.start();
      // Intake recovers by itself: no new store, no app restart.
      await expectRecoveredByItself(app, SECRET);

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
      await expectNoHandlerForRefused(answers, calls);
    } finally {
      errors.mockRestore();
      await Promise.all(apps.splice(0).map((app) => app.close().catch(() => undefined)));
      await own.stop();
    }
  });
});
