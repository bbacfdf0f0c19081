import { jest } from '@jest/globals';
import { Injectable, Logger } from '@nestjs/common';
import {
  DeliveryStatusChanged,
  InMemoryDlrStore,
  MessenteDlrModule,
  OnDlrStatus,
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
    } finally {
      errors.mockRestore();
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
});
