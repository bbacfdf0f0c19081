import { Injectable } from '@nestjs/common';
import fc from 'fast-check';
import { DeliveryReportStats, MessenteDlrModule, OnDlrStatus } from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, postDlr, startApp, waitFor, type TestApp } from '../support/app.js';
import { createTestOtel, pointsOf, sums, type TestOtel } from '../support/otel.js';

const SECRET = 'fuzz-secret';
const STATUSES = ['ACCEPTD', 'DELIVRD', 'FAILED', 'SEEN', 'NEW_THING'] as const;

/** Fails every FAILED change, once per try. */
@Injectable()
class FlakyHandlers {
  @OnDlrStatus('*') any(): void {}
  @OnDlrStatus('FAILED') failed(): void {
    throw new RangeError('no');
  }
}

type Step =
  | { kind: 'report'; message: number; status: (typeof STATUSES)[number] }
  | { kind: 'unsigned' | 'wrong-signature' | 'malformed-signature' | 'text' | 'invalid' | 'foreign-ip' };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('report' as const),
      message: fc.integer({ min: 0, max: 3 }),
      status: fc.constantFrom(...STATUSES),
    }),
  },
  fc.record({
    kind: fc.constantFrom(
      'unsigned' as const,
      'wrong-signature' as const,
      'malformed-signature' as const,
      'text' as const,
      'invalid' as const,
      'foreign-ip' as const,
    ),
  }),
);

describe.each(ADAPTERS)('DeliveryReportStats and OpenTelemetry on %s', (adapter) => {
  let otel: TestOtel;
  let running: TestApp;
  beforeAll(async () => {
    otel = createTestOtel();
    running = await startApp(
      adapter,
      {
        imports: [
          MessenteDlrModule.forRoot({
            signatureSecrets: [SECRET],
            allowedIps: ['127.0.0.1', '::ffff:127.0.0.1'],
            handlerAttempts: 2,
            handlerRetryDelayMs: 1,
            meterProvider: otel.meterProvider,
            tracerProvider: otel.tracerProvider,
          }),
        ],
        providers: [FlakyHandlers],
      },
      { trustProxy: true },
    );
  });
  afterAll(async () => {
    await running.close();
    await otel.shutdown();
  });

  async function send(item: Step, ids: string[]): Promise<void> {
    const { baseUrl } = running;
    if (item.kind === 'report') {
      const body = dlrPayload({ message_id: ids[item.message], status: item.status });
      await postDlr(baseUrl, body, { secret: SECRET });
      return;
    }
    const body = dlrPayload();
    const headers: Record<string, Record<string, string>> = {
      'wrong-signature': { 'x-messente-signature': '0'.repeat(64) },
      'malformed-signature': { 'x-messente-signature': 'xyz' },
      text: { 'content-type': 'text/plain', 'x-messente-signature': '0'.repeat(64) },
      'foreign-ip': { 'x-forwarded-for': '198.51.100.20' },
    };
    if (item.kind === 'invalid') await postDlr(baseUrl, { ...body, err: 'x' }, { secret: SECRET });
    else if (item.kind === 'unsigned') await postDlr(baseUrl, body);
    else await postDlr(baseUrl, JSON.stringify(body), { headers: headers[item.kind]! });
  }

  it('counts the same as the OpenTelemetry counters after any mix of good and bad requests', async () => {
    const stats = running.app.get(DeliveryReportStats);
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const ids = Array.from({ length: 4 }, () => crypto.randomUUID());
        for (const item of steps) await send(item, ids);
        // Handlers run after the answer: wait until every failing try is counted.
        await waitFor(() => {
          const snapshot = stats.snapshot();
          return snapshot.handlerFailures === 2 * snapshot.handlerExhausted;
        });
        await new Promise((resolve) => setTimeout(resolve, 20));

        const metrics = await otel.collect();
        const snapshot = stats.snapshot();
        const requests = sums(metrics, 'messente.dlr.webhook.requests');
        const refused = Object.fromEntries(
          Object.entries(requests)
            .filter(([key]) => key.includes('result=refused'))
            .map(([key, value]) => [/error\.type=([a-z_]+)/.exec(key)![1]!, value]),
        );
        expect(snapshot.requests).toEqual({
          accepted: requests['messente.dlr.webhook.result=accepted'] ?? 0,
          refused,
        });
        const reports = { change: 0, duplicate: 0, stale: 0, redelivery: 0 };
        const changesByStatus: Record<string, number> = {};
        for (const point of pointsOf(metrics, 'messente.dlr.reports')) {
          const outcome = point.attributes['messente.dlr.outcome'] as keyof typeof reports;
          reports[outcome] += point.value as number;
          const status = point.attributes['messente.dlr.status'] as string;
          if (outcome === 'change')
            changesByStatus[status] = (changesByStatus[status] ?? 0) + (point.value as number);
        }
        expect(snapshot.reports).toEqual(reports);
        expect(snapshot.changesByStatus).toEqual(changesByStatus);
        const failedTries = pointsOf(metrics, 'messente.dlr.handler.duration')
          .filter((point) => point.attributes['error.type'] !== undefined)
          .reduce((sum, point) => sum + (point.value as { count: number }).count, 0);
        expect(snapshot.handlerFailures).toBe(failedTries);
        const exhausted = Object.values(sums(metrics, 'messente.dlr.handler.exhausted'));
        expect(snapshot.handlerExhausted).toBe(exhausted.reduce((sum, value) => sum + value, 0));
      }),
      { numRuns: 15 },
    );
  });
});
