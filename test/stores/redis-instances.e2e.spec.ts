import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Injectable, Logger } from '@nestjs/common';
import { DeliveryStatusChanged, DeliveryStatusService, OnDlrStatus } from '../../lib/index.js';
import { Redis } from 'ioredis';
import { RedisDlrStore } from '../../lib/redis/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { delay, postDlr, waitFor } from '../support/app.js';
import { FUZZ_SEED, replayable } from '../support/fuzz-seed.js';
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
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redis-server.js';
import { expectEachOutcomeOnce } from '../support/instances-outcomes.js';

const SECRET = 'redis-secret';

/** A webhook instance running in a child process (test/support/redis-instance.child.ts). */
interface CrashingInstance {
  readonly baseUrl: string;
  /** Message ids whose handler has started. */
  readonly handling: readonly string[];
  /** Kills the process with SIGKILL and resolves once it is gone. */
  kill(): Promise<void>;
  /** The signal that ended it, once it has. */
  signal(): NodeJS.Signals | null;
}

async function spawnCrashingInstance(config: {
  redisUrl: string;
  keyPrefix: string;
  leaseMs: number;
}): Promise<CrashingInstance> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      new URL('../support/ts-register.mjs', import.meta.url).href,
      fileURLToPath(new URL('../support/redis-instance.child.ts', import.meta.url)),
    ],
    {
      env: {
        ...process.env,
        DLR_REDIS_URL: config.redisUrl,
        DLR_KEY_PREFIX: config.keyPrefix,
        DLR_SECRET: SECRET,
        DLR_LEASE_MS: String(config.leaseMs),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handling: string[] = [];
  let output = '';
  let baseUrl = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    output += `${line}\n`;
    const [word, value] = line.split(' ');
    if (word === 'listening') baseUrl = value!;
    if (word === 'handling') handling.push(value!);
  });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    await waitFor(() => baseUrl !== '' || child.exitCode !== null, 30_000);
  } catch (error) {
    await kill();
    throw error;
  }
  if (!baseUrl) throw new Error(`The child instance did not start:\n${output}`);
  return { baseUrl, handling, kill, signal: () => child.signalCode };
}

describeWithRedis('several instances on one Redis', () => {
  let redis: RedisServer;
  const instances = useInstances(SECRET);
  const { calls, apps, startOn } = instances;
  beforeAll(async () => {
    redis = await startRedisServer({ durable: true });
  });
  afterAll(() => redis.stop());

  it('two instances given every track() and report at once fire each outcome exactly once', async () => {
    const keyPrefix = `outcomes-${Date.now()}:`;
    await expectEachOutcomeOnce(instances, () => new RedisDlrStore({ url: redis.url, keyPrefix }));
  });

  it(
    `two instances receiving every report at the same instant fire each change exactly once (seed ${FUZZ_SEED})`,
    replayable(async () => {
      const keyPrefix = `two-${Date.now()}:`;
      const one = await startOn('express', new RedisDlrStore({ url: redis.url, keyPrefix }));
      const two = await startOn('fastify', new RedisDlrStore({ url: redis.url, keyPrefix }));
      apps.push(one, two);
      const sent = await postToAllAtOnce([one, two], SECRET, 1_250);
      await expectEachChangeOnce(instances, [one, two], sent, {
        waitMs: 20_000,
        settleMs: 200,
        sampleSize: 200,
      });
    }),
  );

  it('a pending report left by a stopped instance reaches the next instance', async () => {
    const keyPrefix = `restart-${Date.now()}:`;
    await expectPendingHandedOver(instances, () => new RedisDlrStore({ url: redis.url, keyPrefix }));
  });

  it('a crashed instance’s pending reports are claimed by another once their lease runs out', async () => {
    const keyPrefix = `crash-${Date.now()}:`;
    const LEASE_MS = 2_000;
    // The first instance is a process of its own, killed with SIGKILL while its handlers run.
    const crashing = await spawnCrashingInstance({ redisUrl: redis.url, keyPrefix, leaseMs: LEASE_MS });
    const ids = Array.from({ length: 3 }, () => crypto.randomUUID());
    // Every lease ends LEASE_MS after its report was recorded, so no earlier than this.
    const leasesEndAfter = Date.now() + LEASE_MS;
    try {
      for (const id of ids) {
        const answer = await postDlr(crashing.baseUrl, dlrPayload({ message_id: id, status: 'FAILED' }), {
          secret: SECRET,
        });
        expect(answer.status).toBe(200);
      }
      await waitFor(() => crashing.handling.length === 3);
    } finally {
      await crashing.kill();
    }
    expect(crashing.signal()).toBe('SIGKILL');

    const store = new RedisDlrStore({ url: redis.url, keyPrefix });
    // Each sweep of the survivor: when it began (the store is asked for leases that ended
    // before then), how many it claimed, and how many handler calls had run by then.
    const sweeps: Array<{ endedBefore: number; claimed: number; callsBefore: number }> = [];
    const claimPending = store.claimPending.bind(store);
    store.claimPending = async (limit, leaseMs, endedBefore = Date.now() + 1) => {
      const callsBefore = calls.length;
      const claimed = await claimPending(limit, leaseMs, endedBefore);
      sweeps.push({ endedBefore, claimed: claimed.length, callsBefore });
      return claimed;
    };
    const callTimes: number[] = [];
    @Injectable()
    class TimedRecorder {
      @OnDlrStatus('*') on(event: DeliveryStatusChanged) {
        callTimes.push(Date.now());
        calls.push(`${event.messageId}:${event.status}`);
      }
    }
    const survivor = await startOn(
      'fastify',
      store,
      { pendingLeaseMs: LEASE_MS, pendingSweepIntervalMs: 100 },
      [TimedRecorder],
    );
    apps.push(survivor);
    await waitFor(() => calls.length === 3, 5_000);
    await delay(300);

    // Not before the lease runs out: sweeps ran while the leases held, and claimed nothing...
    const early = sweeps.filter((sweep) => sweep.endedBefore <= leasesEndAfter);
    expect(early.length).toBeGreaterThanOrEqual(2);
    expect(early.filter((sweep) => sweep.claimed > 0 || sweep.callsBefore > 0)).toEqual([]);
    // ...then a sweep after it claimed them, and each handler ran exactly once.
    expect(
      sweeps.filter((sweep) => sweep.claimed > 0).every((sweep) => sweep.endedBefore > leasesEndAfter),
    ).toBe(true);
    expect(Math.min(...callTimes)).toBeGreaterThan(leasesEndAfter);
    expect(calls.sort()).toEqual(ids.map((id) => `${id}:FAILED`).sort());
  });

  it('a report Redis records just after the 503 went out is still dispatched, once', async () => {
    const keyPrefix = `late-${Date.now()}:`;
    const blocker = new Redis(redis.port);
    try {
      await expectLateRecordDispatchedOnce(
        instances,
        new RedisDlrStore({ url: redis.url, keyPrefix }),
        async () => {
          // Redis stalls for 2 s: longer than the webhook's deadline, shorter than the store's.
          void blocker.call('DEBUG', 'SLEEP', '2').catch(() => undefined);
          await delay(50);
          return {};
        },
      );
    } finally {
      blocker.disconnect();
    }
  });

  it('a Redis outage answers 503 within 2 s, fires nothing, logs once, and recovers without a restart', async () => {
    const keyPrefix = `outage-${Date.now()}:`;
    const store = new RedisDlrStore({ url: redis.url, keyPrefix });
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const logs = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const availableAgain = () =>
      logs.mock.calls.filter(([message]) => message === 'The delivery-report store is available again');
    try {
      const app = await startOn('fastify', store);
      apps.push(app);
      const stream = streamReports(app, SECRET);
      await delay(300);
      await redis.kill();
      const killedAt = stream.answers.length;
      await delay(1_500);
      const answers = await stream.stop();

      expectOutageAnswers(answers, killedAt, errors);
      await expect(store.ping()).rejects.toThrow(/unavailable/);
      expect(availableAgain()).toHaveLength(0);

      await redis.restart();
      // Intake recovers by itself: no new store, no app restart.
      await expectRecoveredByItself(app, SECRET);
      await expect(store.ping()).resolves.toBeUndefined();
      // The end of the outage is logged once, however many reports follow.
      for (let i = 0; i < 3; i++)
        expect((await postDlr(app.baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
      expect(availableAgain()).toHaveLength(1);

      // Every report answered 200 is in Redis (the server was durable: nothing acknowledged is lost).
      const accepted = answers.filter((answer) => answer.status === 200);
      const statuses = app.app.get(DeliveryStatusService);
      const found = await Promise.all(accepted.map((answer) => statuses.latest(answer.id)));
      expect(found.filter((event) => event === null)).toHaveLength(0);
      // And no handler ran for a report that was refused.
      await expectNoHandlerForRefused(answers, calls);
    } finally {
      errors.mockRestore();
      logs.mockRestore();
    }
  });
});
