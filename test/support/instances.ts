import { jest } from '@jest/globals';
import { Injectable, Logger } from '@nestjs/common';
import {
  DeliveryStatusService,
  MessenteDlrModule,
  OnDlrStatus,
  type DeliveryStatusChanged,
  type DlrStore,
  type MessenteDlrModuleOptions,
} from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { delay, postDlr, startApp, waitFor, type AdapterName, type TestApp } from './app.js';
import { ChangeModel } from './change-model.js';
import { FUZZ_SEED, seededRandom, shuffled } from './fuzz-seed.js';

/** Statuses a multi-instance stream mixes: every precedence level, so stale reports occur too. */
export const STREAM_STATUSES = ['ACCEPTD', 'ACK', 'UNKNOWN', 'DELIVRD', 'FAILED', 'SEEN'];

/** What `postToAllAtOnce` sent and what the instances answered. */
export interface FanOutResult {
  readonly messages: readonly string[];
  readonly model: ChangeModel;
  /** Every change the model expects handlers for, as `messageId:status`. */
  readonly expected: readonly string[];
  /** HTTP statuses other than 200. */
  readonly failures: readonly number[];
}

/**
 * Posts four shuffled reports for each of `messageCount` messages to every app at the same
 * instant (`concurrency` messages in flight), and computes with `ChangeModel` which changes
 * the handlers must see, exactly once in total.
 */
export async function postToAllAtOnce(
  apps: readonly TestApp[],
  secret: string,
  messageCount: number,
  concurrency = 32,
): Promise<FanOutResult> {
  const messages = Array.from({ length: messageCount }, () => crypto.randomUUID());
  // Four statuses per message, drawn before sending so that FUZZ_SEED replays the orders.
  const random = seededRandom(FUZZ_SEED);
  const orders = messages.map(() => shuffled(STREAM_STATUSES, random).slice(0, 4));
  const model = new ChangeModel();
  const failures: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < messages.length) {
        const index = next++;
        const id = messages[index]!;
        for (const status of orders[index]!) {
          model.apply(id, status);
          const body = dlrPayload({ message_id: id, status });
          const answers = await Promise.all(apps.map((app) => postDlr(app.baseUrl, body, { secret })));
          for (const answer of answers) if (answer.status !== 200) failures.push(answer.status);
        }
      }
    }),
  );
  const expected = [...model.changes].flatMap(([id, statuses]) =>
    statuses.map((status) => `${id}:${status}`),
  );
  return { messages, model, expected, failures };
}

/** One answer of `streamReports`. */
export interface StreamAnswer {
  readonly id: string;
  readonly status: number;
  readonly ms: number;
  readonly outcome?: string;
}

/**
 * Posts fresh `DELIVRD` reports to `app` from `senders` loops until `stop()` is called; every
 * answer is collected with its latency. Resolves, once stopped, with all of them.
 */
export function streamReports(
  app: TestApp,
  secret: string,
  senders = 8,
): { readonly answers: StreamAnswer[]; stop(): Promise<StreamAnswer[]> } {
  const answers: StreamAnswer[] = [];
  let stopped = false;
  const loops = Array.from({ length: senders }, async () => {
    while (!stopped) {
      const id = crypto.randomUUID();
      const started = Date.now();
      const answer = await postDlr(app.baseUrl, dlrPayload({ message_id: id, status: 'DELIVRD' }), {
        secret,
      });
      answers.push({
        id,
        status: answer.status,
        ms: Date.now() - started,
        outcome: (answer.body as { outcome?: string } | null)?.outcome,
      });
    }
  });
  return {
    answers,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return answers;
    },
  };
}

/** The apps of a multi-instance suite and the handler calls they record. */
export interface Instances {
  readonly secret: string;
  /** Handler calls of every app, as `messageId:status`; emptied before each test. */
  readonly calls: string[];
  /** Apps to close after the test. */
  readonly apps: TestApp[];
  /** Starts an app on `store` with `providers` (by default one that records into `calls`). */
  startOn(
    adapter: AdapterName,
    store: DlrStore,
    options?: MessenteDlrModuleOptions,
    providers?: unknown[],
  ): Promise<TestApp>;
}

/**
 * Sets up, inside a `describe`, instances that accept reports signed with `secret` from
 * 127.0.0.1: `calls` is emptied before each test and `apps` are closed after it.
 */
export function useInstances(secret: string): Instances {
  const calls: string[] = [];
  const apps: TestApp[] = [];
  @Injectable()
  class Recorder {
    @OnDlrStatus('*') on(event: DeliveryStatusChanged) {
      calls.push(`${event.messageId}:${event.status}`);
    }
  }
  beforeEach(() => {
    calls.length = 0;
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close().catch(() => undefined)));
  });
  return {
    secret,
    calls,
    apps,
    startOn: (adapter, store, options = {}, providers = [Recorder]) =>
      startApp(adapter, {
        imports: [
          MessenteDlrModule.forRoot({
            signatureSecrets: [secret],
            allowedIps: ['127.0.0.1'],
            store,
            ...options,
          }),
        ],
        providers: providers as never[],
      }),
  };
}

/**
 * Asserts on what `postToAllAtOnce` sent to `apps`: every report accepted, each change fired
 * once in total (waiting up to `waitMs`, then `settleMs` for extra calls), and the latest status
 * of the first `sampleSize` messages the same on every instance.
 */
export async function expectEachChangeOnce(
  instances: Instances,
  apps: readonly TestApp[],
  { messages, model, expected, failures }: FanOutResult,
  {
    waitMs,
    settleMs,
    sampleSize = messages.length,
  }: { waitMs: number; settleMs: number; sampleSize?: number },
): Promise<void> {
  const { calls } = instances;
  expect(failures).toEqual([]);
  expect(expected.length).toBeGreaterThan(2_500);
  await waitFor(() => calls.length >= expected.length, waitMs);
  await delay(settleMs);
  expect(calls.length).toBe(expected.length);
  expect(new Set(calls)).toEqual(new Set(expected));

  // Either instance sees every change.
  const sample = messages.slice(0, sampleSize);
  for (const app of apps) {
    const statuses = app.app.get(DeliveryStatusService);
    const latest = await Promise.all(sample.map((id) => statuses.latest(id)));
    expect(latest.map((event) => event?.status)).toEqual(sample.map((id) => model.changes.get(id)!.at(-1)));
  }
}

/**
 * Stops an instance gracefully while its handlers of five reports still run, and asserts that
 * the next instance (on a store from `newStore`, sharing the first one's data) handles them.
 */
export async function expectPendingHandedOver(instances: Instances, newStore: () => DlrStore): Promise<void> {
  const { calls, apps, secret } = instances;
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
    const first = await instances.startOn('fastify', newStore(), { shutdownTimeoutMs: 100 }, [Blocking]);
    const ids = Array.from({ length: 5 }, () => crypto.randomUUID());
    for (const id of ids) {
      const body = dlrPayload({ message_id: id, status: 'DELIVRD' });
      expect((await postDlr(first.baseUrl, body, { secret })).status).toBe(200);
    }
    await waitFor(() => blockedCalls.length === 5);
    await first.close();

    const second = await instances.startOn('express', newStore());
    apps.push(second);
    await waitFor(() => calls.length === 5);
    expect(calls.sort()).toEqual(ids.map((id) => `${id}:DELIVRD`).sort());
  } finally {
    release();
    warn.mockRestore();
  }
}

/**
 * Asserts that a report the store records only after the webhook answered 503 is still
 * dispatched, once. `stall` makes the store stall for longer than the webhook's deadline (and
 * shorter than the store's own); `over` settles once the stall has ended.
 */
export async function expectLateRecordDispatchedOnce(
  instances: Instances,
  store: DlrStore,
  stall: () => Promise<{ over?: Promise<unknown> }>,
): Promise<void> {
  const { calls, apps, secret } = instances;
  const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  try {
    const app = await instances.startOn('express', store);
    apps.push(app);
    expect((await postDlr(app.baseUrl, dlrPayload(), { secret })).status).toBe(200);
    await waitFor(() => calls.length === 1);
    const { over } = await stall();
    const payload = dlrPayload({ status: 'DELIVRD' });
    const started = Date.now();
    const answer = await postDlr(app.baseUrl, payload, { secret });
    expect(answer.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2_000);
    await over;
    await waitFor(() => calls.length === 2, 4_000);
    expect(calls[1]).toBe(`${payload['message_id']}:DELIVRD`);
    // Messente's retry of the refused report is a plain duplicate: no second call.
    expect((await postDlr(app.baseUrl, payload, { secret })).body).toEqual({
      outcome: 'duplicate',
    });
    await delay(100);
    expect(calls).toHaveLength(2);
  } finally {
    errors.mockRestore();
  }
}

/**
 * Asserts on the answers of `streamReports` during a store outage that began after `killedAt`
 * answers: some came after it, only 200 or 503, some 503, all within 2 s, and the outage was
 * logged (through the spied `Logger.error`) once.
 */
export function expectOutageAnswers(
  answers: readonly StreamAnswer[],
  killedAt: number,
  errors: { readonly mock: { readonly calls: readonly (readonly unknown[])[] } },
): void {
  expect(answers.length - killedAt).toBeGreaterThan(0);
  expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 503)).toEqual([]);
  expect(answers.filter((answer) => answer.status === 503).length).toBeGreaterThan(0);
  expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(2_000);
  const outageLogs = errors.mock.calls.filter(([message]) =>
    String(message).includes('store is unavailable'),
  );
  expect(outageLogs).toHaveLength(1);
}

/** Asserts that `app` accepts a report again within 100 tries, 50 ms apart: no new store, no restart. */
export async function expectRecoveredByItself(app: TestApp, secret: string): Promise<void> {
  let recovered = 0;
  for (let attempt = 0; attempt < 100 && recovered === 0; attempt++) {
    const answer = await postDlr(app.baseUrl, dlrPayload(), { secret });
    if (answer.status === 200) recovered = attempt + 1;
    else await delay(50);
  }
  expect(recovered).toBeGreaterThan(0);
}

/** Asserts that no handler ran for a report answered 503. */
export async function expectNoHandlerForRefused(
  answers: readonly StreamAnswer[],
  calls: readonly string[],
): Promise<void> {
  const refused = new Set(answers.filter((answer) => answer.status === 503).map((answer) => answer.id));
  await delay(100);
  expect(calls.filter((call) => refused.has(call.split(':')[0]!))).toEqual([]);
}
