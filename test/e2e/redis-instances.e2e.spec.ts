import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Injectable, Logger } from '@nestjs/common';
import {
  DeliveryStatusChanged,
  DeliveryStatusService,
  MessenteDlrModule,
  OnDlrStatus,
  type MessenteDlrModuleOptions,
} from '../../lib/index.js';
import { Redis } from 'ioredis';
import { RedisDlrStore } from '../../lib/redis/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { delay, postDlr, startApp, waitFor, type AdapterName, type TestApp } from '../support/app.js';
import { FUZZ_SEED, replayable } from '../support/fuzz-seed.js';
import { postToAllAtOnce, streamReports } from '../support/instances.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redis-server.js';

const SECRET = 'redis-secret';

/** Handler calls of every app in this file, as `messageId:status`. */
const calls: string[] = [];

@Injectable()
class Recorder {
  @OnDlrStatus('*') on(event: DeliveryStatusChanged) {
    calls.push(`${event.messageId}:${event.status}`);
  }
}

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

function startOn(
  adapter: AdapterName,
  store: RedisDlrStore,
  options: MessenteDlrModuleOptions = {},
  providers: unknown[] = [Recorder],
) {
  return startApp(adapter, {
    imports: [
      MessenteDlrModule.forRoot({ signatureSecrets: [SECRET], allowedIps: ['127.0.0.1'], store, ...options }),
    ],
    providers: providers as never[],
  });
}

describeWithRedis('several instances on one Redis', () => {
  let redis: RedisServer;
  const apps: TestApp[] = [];
  beforeAll(async () => {
    redis = await startRedisServer({ durable: true });
  });
  afterAll(() => redis.stop());
  beforeEach(() => {
    calls.length = 0;
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close().catch(() => undefined)));
  });

  it(
    `two instances receiving every report at the same instant fire each change exactly once (seed ${FUZZ_SEED})`,
    replayable(async () => {
      const keyPrefix = `two-${Date.now()}:`;
      const one = await startOn('express', new RedisDlrStore({ url: redis.url, keyPrefix }));
      const two = await startOn('fastify', new RedisDlrStore({ url: redis.url, keyPrefix }));
      apps.push(one, two);
      const { messages, model, expected, failures } = await postToAllAtOnce([one, two], SECRET, 1_250);
      expect(failures).toEqual([]);
      expect(expected.length).toBeGreaterThan(2_500);
      await waitFor(() => calls.length >= expected.length, 20_000);
      await delay(200);
      expect(calls.length).toBe(expected.length);
      expect(new Set(calls)).toEqual(new Set(expected));

      // Either instance sees every change.
      const sample = messages.slice(0, 200);
      for (const app of [one, two]) {
        const statuses = app.app.get(DeliveryStatusService);
        const latest = await Promise.all(sample.map((id) => statuses.latest(id)));
        expect(latest.map((event) => event?.status)).toEqual(
          sample.map((id) => model.changes.get(id)!.at(-1)),
        );
      }
    }),
  );

  it('a pending report left by a stopped instance reaches the next instance', async () => {
    const keyPrefix = `restart-${Date.now()}:`;
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
      const first = await startOn(
        'fastify',
        new RedisDlrStore({ url: redis.url, keyPrefix }),
        { shutdownTimeoutMs: 100 },
        [Blocking],
      );
      const ids = Array.from({ length: 5 }, () => crypto.randomUUID());
      for (const id of ids) {
        expect(
          (
            await postDlr(first.baseUrl, dlrPayload({ message_id: id, status: 'DELIVRD' }), {
              secret: SECRET,
            })
          ).status,
        ).toBe(200);
      }
      await waitFor(() => blockedCalls.length === 5);
      await first.close();

      const second = await startOn('express', new RedisDlrStore({ url: redis.url, keyPrefix }));
      apps.push(second);
      await waitFor(() => calls.length === 5);
      expect(calls.sort()).toEqual(ids.map((id) => `${id}:DELIVRD`).sort());
    } finally {
      release();
      warn.mockRestore();
    }
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
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const blocker = new Redis(redis.port);
    try {
      const app = await startOn('express', new RedisDlrStore({ url: redis.url, keyPrefix }));
      apps.push(app);
      expect((await postDlr(app.baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
      await waitFor(() => calls.length === 1);
      // Redis stalls for 2 s: longer than the webhook's deadline, shorter than the store's.
      void blocker.call('DEBUG', 'SLEEP', '2').catch(() => undefined);
      await delay(50);
      const payload = dlrPayload({ status: 'DELIVRD' });
      const started = Date.now();
      const answer = await postDlr(app.baseUrl, payload, { secret: SECRET });
      expect(answer.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2_000);
      await waitFor(() => calls.length === 2, 4_000);
      expect(calls[1]).toBe(`${payload['message_id']}:DELIVRD`);
      // Messente's retry of the refused report is a plain duplicate: no second call.
      expect((await postDlr(app.baseUrl, payload, { secret: SECRET })).body).toEqual({
        outcome: 'duplicate',
      });
      await delay(100);
      expect(calls).toHaveLength(2);
    } finally {
      blocker.disconnect();
      errors.mockRestore();
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

      expect(answers.length - killedAt).toBeGreaterThan(0);
      expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 503)).toEqual([]);
      expect(answers.filter((answer) => answer.status === 503).length).toBeGreaterThan(0);
      expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(2_000);
      const outageLogs = errors.mock.calls.filter(([message]) =>
        String(message).includes('store is unavailable'),
      );
      expect(outageLogs).toHaveLength(1);
      await expect(store.ping()).rejects.toThrow(/unavailable/);
      expect(availableAgain()).toHaveLength(0);

      await redis.restart();
      // Intake recovers by itself: no new store, no app restart.
      let recovered = 0;
      for (let attempt = 0; attempt < 100 && recovered === 0; attempt++) {
        const answer = await postDlr(app.baseUrl, dlrPayload(), { secret: SECRET });
        if (answer.status === 200) recovered = attempt + 1;
        else await delay(50);
      }
      expect(recovered).toBeGreaterThan(0);
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
      const refused = new Set(answers.filter((answer) => answer.status === 503).map((answer) => answer.id));
      await delay(100);
      expect(calls.filter((call) => refused.has(call.split(':')[0]!))).toEqual([]);
    } finally {
      errors.mockRestore();
      logs.mockRestore();
    }
  });
});
