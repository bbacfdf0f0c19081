import { jest } from '@jest/globals';
import { Injectable, Logger } from '@nestjs/common';
import {
  DeliveryStatusChanged,
  InMemoryDlrStore,
  MessenteDlrModule,
  OnDlrStatus,
  DeliveryStatusEvents,
  DeliveryReportStats,
  DlrPendingService,
  type PendingKey,
  type RecordResult,
} from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, delay, postDlr, startApp, waitFor } from '../support/app.js';

/** An in-memory store whose `record` answers only after `delayMs`: a store under strain. */
class SlowStore extends InMemoryDlrStore {
  delayMs = 0;
  override async record(
    raw: Readonly<Record<string, unknown>>,
    receivedAt: number,
    leaseMs: number,
  ): Promise<RecordResult> {
    await delay(this.delayMs);
    return super.record(raw, receivedAt, leaseMs);
  }
}

/** A store whose first `complete` fails, as when Redis drops out just after the handlers ran. */
class ForgetfulStore extends InMemoryDlrStore {
  failures = 1;
  override async complete(key: PendingKey): Promise<void> {
    if (this.failures-- > 0) throw new Error('store went away');
    return super.complete(key);
  }
}

/** A store whose `record` throws before returning a promise. */
class ThrowingStore extends InMemoryDlrStore {
  override record(): Promise<RecordResult> {
    throw new Error('synchronous failure');
  }
}

describe.each(ADAPTERS)('store deadline on %s', (adapter) => {
  it('answers 503 within 2 s when the store is slow, and still runs the handlers of what it recorded late', async () => {
    const seen: string[] = [];
    @Injectable()
    class Recorder {
      @OnDlrStatus('*') on(event: DeliveryStatusChanged) {
        seen.push(event.messageId);
      }
    }
    const store = new SlowStore();
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const logs = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const availableAgain = () =>
      logs.mock.calls.filter(([message]) => message === 'The delivery-report store is available again');
    const running = await startApp(adapter, {
      imports: [MessenteDlrModule.forRoot({ signatureSecrets: ['s'], allowedIps: ['127.0.0.1'], store })],
      providers: [Recorder],
    });
    try {
      store.delayMs = 2_500;
      const payload = dlrPayload();
      const started = Date.now();
      const answer = await postDlr(running.baseUrl, payload, { secret: 's' });
      expect(answer.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(seen).toEqual([]);
      // The store finishes recording after the answer: the change is real, so it is dispatched.
      await waitFor(() => seen.length === 1, 3_000);
      expect(seen).toEqual([payload['message_id']]);
      // Messente's retry is then a plain duplicate.
      store.delayMs = 0;
      expect((await postDlr(running.baseUrl, payload, { secret: 's' })).body).toEqual({
        outcome: 'duplicate',
      });
      expect(
        errors.mock.calls.filter(([message]) => String(message).includes('store is unavailable')),
      ).toHaveLength(1);
      // The store answered in time again: logged once, however many reports follow.
      expect(availableAgain()).toHaveLength(1);
      expect((await postDlr(running.baseUrl, dlrPayload(), { secret: 's' })).status).toBe(200);
      expect(availableAgain()).toHaveLength(1);
      // The late change counts as a change, while its request stays refused (once).
      const stats = running.app.get(DeliveryReportStats).snapshot();
      expect(stats.requests).toEqual({ accepted: 2, refused: { store_unavailable: 1 } });
      expect(stats.reports).toEqual({ change: 2, duplicate: 1, stale: 0, redelivery: 0 });
    } finally {
      errors.mockRestore();
      logs.mockRestore();
      await running.close();
    }
  });

  it('answers 503 when the store throws synchronously', async () => {
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const running = await startApp(adapter, {
      imports: [
        MessenteDlrModule.forRoot({
          signatureSecrets: ['s'],
          allowedIps: ['127.0.0.1'],
          store: new ThrowingStore(),
        }),
      ],
    });
    try {
      expect((await postDlr(running.baseUrl, dlrPayload(), { secret: 's' })).status).toBe(503);
    } finally {
      errors.mockRestore();
      await running.close();
    }
  });

  it('when completing fails, the redispatch only completes: no handler or stream sees the change again', async () => {
    let calls = 0;
    @Injectable()
    class Counter {
      @OnDlrStatus('*') on() {
        calls++;
      }
    }
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const store = new ForgetfulStore();
    const running = await startApp(adapter, {
      imports: [
        MessenteDlrModule.forRoot({
          signatureSecrets: ['s'],
          allowedIps: ['127.0.0.1'],
          store,
          pendingLeaseMs: 30,
          pendingSweepIntervalMs: 0,
        }),
      ],
      providers: [Counter],
    });
    try {
      let streamed = 0;
      running.app.get(DeliveryStatusEvents).changes$.subscribe(() => streamed++);
      expect((await postDlr(running.baseUrl, dlrPayload(), { secret: 's' })).status).toBe(200);
      await waitFor(() => calls === 1);
      await delay(60);
      const pending = running.app.get(DlrPendingService);
      expect(await pending.redispatchPending()).toBe(1);
      expect(await pending.redispatchPending()).toBe(0);
      expect(calls).toBe(1);
      expect(streamed).toBe(1);
    } finally {
      errors.mockRestore();
      log.mockRestore();
      await running.close();
    }
  });
});
