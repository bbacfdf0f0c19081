import { jest } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { performance } from 'node:perf_hooks';
import { DeliveryStatusService, MessenteDlrModule, OnDlrStatus } from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, postDlr, startApp, type TestApp } from '../support/app.js';
import { useFakeMessenteApi } from '../support/fake-api.js';
import { createTestOtel, pointsOf, type TestOtel } from '../support/otel.js';

const SECRET = 'buckets-secret';
const CREDENTIALS = { username: 'user', password: 'buckets-password' };
// SPEC's boundaries, written out rather than imported: the test pins what an SDK receives.
const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The clock the module reads (`performance.now`), moved on by a handler "taking" 3 ms: the
 * handler's duration is then 3 ms plus the little real time around it, whatever the load of
 * the machine, and no test waits.
 */
let skewMs = 0;

@Injectable()
class ThreeMillisecondHandler {
  @OnDlrStatus('DELIVRD') on(): void {
    skewMs += 3;
  }
}

/** The one histogram point of `name`. */
function histogram(metrics: Awaited<ReturnType<TestOtel['collect']>>, name: string): Histogram {
  const points = pointsOf(metrics, name);
  expect(points.length).toBeGreaterThan(0);
  return points[0]!.value as Histogram;
}

/** The upper bound of the bucket holding every record of `value` (Infinity past the last). */
function bucketOf(value: Histogram): number {
  const { boundaries, counts } = value.buckets;
  const filled = counts.flatMap((count, index) => (count > 0 ? [index] : []));
  expect(filled).toHaveLength(1);
  return boundaries[filled[0]!] ?? Infinity;
}

describe.each(ADAPTERS)('duration histograms with the OpenTelemetry SDK on %s', (adapter) => {
  const fake = useFakeMessenteApi(CREDENTIALS);
  let otel: TestOtel;
  let running: TestApp | undefined;
  beforeEach(() => {
    otel = createTestOtel();
    skewMs = 0;
    const realNow = performance.now.bind(performance);
    jest.spyOn(performance, 'now').mockImplementation(() => realNow() + skewMs);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await running?.close();
    running = undefined;
    await otel.shutdown();
  });

  it('buckets in seconds: a 3 ms handler lands in the 0.005 bucket; status-API tries go up to 30 s', async () => {
    running = await startApp(adapter, {
      imports: [
        MessenteDlrModule.forRoot({
          signatureSecrets: [SECRET],
          allowedIps: ['127.0.0.1'],
          credentials: CREDENTIALS,
          apiUrl: fake.apiUrl,
          acknowledge: 'after-handlers',
          meterProvider: otel.meterProvider,
          tracerProvider: otel.tracerProvider,
        }),
      ],
      providers: [ThreeMillisecondHandler],
    });
    expect((await postDlr(running.baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
    const omni = crypto.randomUUID();
    fake.api.setReport(omni, { omnimessage_id: omni, to: '+3725550100', statuses: [] });
    await running.app.get(DeliveryStatusService).query(omni);

    const metrics = await otel.collect();
    const handler = histogram(metrics, 'messente.dlr.handler.duration');
    expect(handler.buckets.boundaries).toEqual(SECONDS);
    expect(handler.count).toBe(1);
    expect(handler.sum).toBeGreaterThanOrEqual(0.003);
    expect(bucketOf(handler)).toBe(0.005);

    const store = histogram(metrics, 'messente.dlr.store.duration');
    expect(store.buckets.boundaries).toEqual(SECONDS);
    expect(histogram(metrics, 'messente.status_api.duration').buckets.boundaries).toEqual([
      ...SECONDS,
      20,
      30,
    ]);
  });
});
