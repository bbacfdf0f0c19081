import type { Histogram } from '@opentelemetry/sdk-metrics';
import { DeliveryStatusService, MessenteDlrModule } from '../../lib/index.js';
import { buildSendAnswer, dlrPayload } from '../../lib/testing/index.js';
import { setTimeout as delay } from 'node:timers/promises';
import { ADAPTERS, postDlr, startApp, type TestApp } from '../support/app.js';
import { createTestOtel, pointsOf, type TestOtel } from '../support/otel.js';

const SECRET = 'delivery-metrics-secret';
// SPEC's time-to-deliver boundaries, written out: the test pins what an SDK receives.
const BOUNDS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400];

/** Messente's timestamp form: UTC, no offset, microseconds. */
function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000');
}

type Metrics = Awaited<ReturnType<TestOtel['collect']>>;

/** Collects until `ready` holds: tallies reach the store a turn after the report. */
async function collectUntil(otel: TestOtel, ready: (metrics: Metrics) => boolean): Promise<Metrics> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const metrics = await otel.collect();
    if (ready(metrics) || Date.now() > deadline) return metrics;
    await delay(10);
  }
}

/** The histogram points of `messente.dlr.delivery.duration`, by `channel/country`. */
function durations(metrics: Metrics): Map<string, Histogram> {
  return new Map(
    pointsOf(metrics, 'messente.dlr.delivery.duration').map((point) => [
      `${String(point.attributes['messente.dlr.channel'])}/${String(point.attributes['messente.dlr.country'])}`,
      point.value as Histogram,
    ]),
  );
}

/** The upper bound of the one filled bucket of a histogram. */
function filledBound(value: Histogram): number {
  const filled = value.buckets.counts.flatMap((count, index) => (count > 0 ? [index] : []));
  expect(filled).toHaveLength(1);
  return value.buckets.boundaries[filled[0]!] ?? Infinity;
}

describe.each(ADAPTERS)('delivery metrics with the OpenTelemetry SDK on %s', (adapter) => {
  let otel: TestOtel;
  let running: TestApp;
  beforeEach(async () => {
    otel = createTestOtel();
    running = await startApp(adapter, {
      imports: [
        MessenteDlrModule.forRoot({
          signatureSecrets: [SECRET],
          allowedIps: ['127.0.0.1'],
          meterProvider: otel.meterProvider,
          tracerProvider: otel.tracerProvider,
        }),
      ],
    });
  });
  afterEach(async () => {
    await running.close();
    await otel.shutdown();
  });

  it('times delivery from the first report, or the tracked send, to DELIVRD, by channel and country, never by number', async () => {
    const start = Date.now() - 120_000;
    // Untracked: ACK at start, DELIVRD 42 s later (Messente's timestamps): the 60 s bucket.
    const message = { message_id: crypto.randomUUID(), channel: 'sms', to: '+37255512345' };
    await postDlr(running.baseUrl, dlrPayload({ ...message, status: 'ACK', timestamp: timestamp(start) }), {
      secret: SECRET,
    });
    await postDlr(
      running.baseUrl,
      dlrPayload({ ...message, status: 'DELIVRD', timestamp: timestamp(start + 42_000) }),
      {
        secret: SECRET,
      },
    );
    // Tracked: Viber fails, SMS delivers 7 s after the app tracked the send: the 10 s bucket.
    const sent = buildSendAnswer({ channels: ['viber', 'sms'], to: '+442079460000' });
    const trackedAt = Date.now();
    await running.app.get(DeliveryStatusService).track(sent);
    const report = (index: number, status: string, at: number, err = 0) =>
      dlrPayload({
        message_id: sent.messages[index]!.message_id,
        omnimessage_id: sent.omnimessage_id,
        channel: sent.messages[index]!.channel,
        to: sent.to,
        status,
        err,
        timestamp: timestamp(at),
      });
    await postDlr(running.baseUrl, report(0, 'FAILED', trackedAt + 3_000, 1), { secret: SECRET });
    await postDlr(running.baseUrl, report(1, 'DELIVRD', trackedAt + 7_000), { secret: SECRET });

    const metrics = await collectUntil(otel, (collected) => durations(collected).size === 2);
    const byKey = durations(metrics);
    expect([...byKey.keys()].sort()).toEqual(['sms/EE', 'sms/GB']);
    expect(byKey.get('sms/EE')!.buckets.boundaries).toEqual(BOUNDS);
    expect(byKey.get('sms/EE')!.count).toBe(1);
    expect(byKey.get('sms/EE')!.sum).toBeCloseTo(42, 3);
    expect(filledBound(byKey.get('sms/EE')!)).toBe(60);
    expect(byKey.get('sms/GB')!.count).toBe(1);
    // From the app's clock at track() to Messente's timestamp: 7 s, give or take the call.
    expect(filledBound(byKey.get('sms/GB')!)).toBe(10);

    const outcomes = pointsOf(metrics, 'messente.dlr.outcomes').map((point) => ({
      attributes: point.attributes,
      value: point.value,
    }));
    expect(outcomes).toEqual([
      {
        attributes: {
          'messente.dlr.outcome.result': 'delivered',
          'messente.dlr.channel': 'sms',
          'messente.dlr.country': 'GB',
        },
        value: 1,
      },
    ]);
    // Nothing carries a phone number, in any form.
    const attributeText = JSON.stringify(
      metrics.map((metric) => metric.dataPoints.map((point) => point.attributes)),
    );
    for (const digits of ['37255512345', '442079460000', '5551234', '2079460000']) {
      expect(attributeText).not.toContain(digits);
    }
  });

  it('counts an all-failed tracked send once, with the last channel tried and _OTHER for an unknown country', async () => {
    const sent = buildSendAnswer({ channels: ['whatsapp'], to: '+999123' });
    await running.app.get(DeliveryStatusService).track(sent);
    const failed = dlrPayload({
      message_id: sent.messages[0]!.message_id,
      omnimessage_id: sent.omnimessage_id,
      channel: 'whatsapp',
      to: sent.to,
      status: 'FAILED',
      err: 3,
    });
    await postDlr(running.baseUrl, failed, { secret: SECRET });
    await postDlr(running.baseUrl, failed, { secret: SECRET });
    const metrics = await collectUntil(
      otel,
      (collected) => pointsOf(collected, 'messente.dlr.outcomes').length > 0,
    );
    const points = pointsOf(metrics, 'messente.dlr.outcomes');
    expect(points.map((point) => [point.attributes, point.value])).toEqual([
      [
        {
          'messente.dlr.outcome.result': 'failed',
          'messente.dlr.channel': 'whatsapp',
          'messente.dlr.country': '_OTHER',
        },
        1,
      ],
    ]);
    // A failure is not a delivery: no duration recorded.
    expect(pointsOf(metrics, 'messente.dlr.delivery.duration')).toHaveLength(0);
  });
});
