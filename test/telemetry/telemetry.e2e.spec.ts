import { Injectable } from '@nestjs/common';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { DlrDispatcherService } from '../../lib/dispatch/dlr-dispatcher.service.js';
import {
  DeliveryReportStats,
  DeliveryStatusService,
  DLR_STORE,
  InMemoryDlrStore,
  MessenteDlrModule,
  OnDlrStatus,
  type DlrStore,
  type MessenteDlrModuleOptions,
  type RecordResult,
} from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, postDlr, startApp, waitFor, type AdapterName, type TestApp } from '../support/app.js';
import { useFakeMessenteApi } from '../support/fake-api.js';
import {
  allAttributeValues,
  counts,
  createTestOtel,
  pointsOf,
  sums,
  type TestOtel,
} from '../support/otel.js';

const SECRET = 'telemetry-secret';
const CREDENTIALS = { username: 'user', password: 'telemetry-password' };
const TO = '+3725550199';
const SENDER = 'AcmeSender';

/** A store that can be switched to fail, for the store's 503. */
class SwitchableStore extends InMemoryDlrStore {
  failing = false;
  override record(
    raw: Readonly<Record<string, unknown>>,
    receivedAt: number,
    leaseMs: number,
  ): Promise<RecordResult> {
    if (this.failing) return Promise.reject(new Error('store down'));
    return super.record(raw, receivedAt, leaseMs);
  }
}

/** A store whose `countPending` fails until told otherwise. */
class CountFailingStore extends InMemoryDlrStore {
  failing = true;
  countCalls = 0;
  override countPending(): Promise<number> {
    this.countCalls++;
    return this.failing ? Promise.reject(new Error('store down')) : super.countPending();
  }
}

class BoomError extends Error {}

/** `onRejected` fails its first two calls (one dispatch of two tries), then succeeds. */
@Injectable()
class Handlers {
  rejectedCalls = 0;
  @OnDlrStatus('*') onAny(): void {}
  @OnDlrStatus('REJECTD') onRejected(): void {
    if (++this.rejectedCalls <= 2) throw new BoomError('handler failed');
  }
}

const requests = (result: string, reason?: string) =>
  reason
    ? `error.type=${reason},messente.dlr.webhook.result=${result}`
    : `messente.dlr.webhook.result=${result}`;

function report(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return dlrPayload({ to: TO, sender: SENDER, ...overrides });
}

describe.each(ADAPTERS)('OpenTelemetry on %s', (adapter: AdapterName) => {
  const fake = useFakeMessenteApi(CREDENTIALS);
  let otel: TestOtel;
  const running: TestApp[] = [];

  beforeEach(() => {
    otel = createTestOtel();
  });
  afterEach(async () => {
    for (const app of running.splice(0)) await app.close();
    await otel.shutdown();
  });

  async function start(options: MessenteDlrModuleOptions, appOptions = {}, providers: unknown[] = []) {
    const app = await startApp(
      adapter,
      {
        imports: [
          MessenteDlrModule.forRoot({
            signatureSecrets: [SECRET],
            allowedIps: ['127.0.0.1', '::1', '::ffff:127.0.0.1'],
            meterProvider: otel.meterProvider,
            tracerProvider: otel.tracerProvider,
            ...options,
          }),
        ],
        providers: providers as never[],
      },
      appOptions,
    );
    running.push(app);
    return app;
  }

  it('counts one request of every refusal reason and every outcome, per attribute set', async () => {
    const store = new SwitchableStore();
    const { app, baseUrl } = await start(
      { store, acknowledge: 'after-handlers', handlerAttempts: 2, handlerRetryDelayMs: 1 },
      { trustProxy: true },
      [Handlers],
    );
    const post = (body: unknown, options = {}) => postDlr(baseUrl, body, { secret: SECRET, ...options });

    const delivered = report();
    expect((await post(delivered)).body).toEqual({ outcome: 'change' });
    expect((await post(delivered)).body).toEqual({ outcome: 'duplicate' });
    const late = { ...delivered, status: 'ACCEPTD' };
    expect((await post(late)).body).toEqual({ outcome: 'stale' });
    const rejected = report({ status: 'REJECTD' });
    expect((await post(rejected)).status).toBe(500);
    expect((await post(rejected)).body).toEqual({ outcome: 'redelivery' });

    expect((await post(report(), { headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(403);
    expect((await postDlr(baseUrl, report())).status).toBe(401);
    const wrong = { headers: { 'x-messente-signature': 'f'.repeat(64) } };
    expect((await postDlr(baseUrl, report(), wrong)).status).toBe(401);
    const malformed = { headers: { 'x-messente-signature': 'not-hex' } };
    expect((await postDlr(baseUrl, report(), malformed)).status).toBe(401);
    expect((await post(JSON.stringify(report()), { headers: { 'content-type': 'text/plain' } })).status).toBe(
      415,
    );
    expect((await post(report({ padding: 'x'.repeat(70 * 1024) }))).status).toBe(413);
    expect((await post({ status: 'delivered' })).status).toBe(400);
    store.failing = true;
    expect((await post(report())).status).toBe(503);
    store.failing = false;
    await app.get(DlrDispatcherService).drain(0);
    expect((await post(report())).status).toBe(503);

    const noRawBody = await start({}, { rawBody: false });
    expect((await postDlr(noRawBody.baseUrl, report(), { secret: SECRET })).status).toBe(500);

    const metrics = await otel.collect();
    expect(sums(metrics, 'messente.dlr.webhook.requests')).toEqual({
      [requests('accepted')]: 4,
      [requests('refused', 'handler_failed')]: 1,
      [requests('refused', 'ip_not_allowed')]: 1,
      [requests('refused', 'signature_missing')]: 1,
      [requests('refused', 'signature_invalid')]: 2,
      [requests('refused', 'unsupported_media_type')]: 1,
      [requests('refused', 'payload_too_large')]: 1,
      [requests('refused', 'invalid_body')]: 1,
      [requests('refused', 'store_unavailable')]: 1,
      [requests('refused', 'shutting_down')]: 1,
      [requests('refused', 'raw_body_missing')]: 1,
    });
    expect(sums(metrics, 'messente.dlr.reports')).toEqual({
      'messente.dlr.outcome=change,messente.dlr.status=DELIVRD': 1,
      'messente.dlr.outcome=duplicate,messente.dlr.status=DELIVRD': 1,
      'messente.dlr.outcome=stale,messente.dlr.status=ACCEPTD': 1,
      'messente.dlr.outcome=change,messente.dlr.status=REJECTD': 1,
      'messente.dlr.outcome=redelivery,messente.dlr.status=REJECTD': 1,
    });
    expect(counts(metrics, 'messente.dlr.handler.duration')).toEqual({
      'messente.dlr.handler=Handlers.onAny,messente.dlr.status=DELIVRD': 1,
      'messente.dlr.handler=Handlers.onAny,messente.dlr.status=REJECTD': 1,
      'error.type=BoomError,messente.dlr.handler=Handlers.onRejected,messente.dlr.status=REJECTD': 2,
      'messente.dlr.handler=Handlers.onRejected,messente.dlr.status=REJECTD': 1,
    });
    expect(sums(metrics, 'messente.dlr.handler.exhausted')).toEqual({
      'messente.dlr.handler=Handlers.onRejected': 1,
    });
    expect(counts(metrics, 'messente.dlr.store.duration')).toEqual({
      'messente.dlr.store.operation=record': 5,
      'error.type=Error,messente.dlr.store.operation=record': 1,
      'messente.dlr.store.operation=complete': 2,
      'messente.dlr.store.operation=release': 1,
      // Each of the two apps claims what an earlier run left pending when it starts.
      'messente.dlr.store.operation=claim_pending': 2,
    });

    // The in-process figures of the first app say the same (the second app has its own).
    const snapshot = app.get(DeliveryReportStats).snapshot();
    expect(snapshot.requests).toEqual({
      accepted: 4,
      refused: {
        handler_failed: 1,
        ip_not_allowed: 1,
        signature_missing: 1,
        signature_invalid: 2,
        unsupported_media_type: 1,
        payload_too_large: 1,
        invalid_body: 1,
        store_unavailable: 1,
        shutting_down: 1,
      },
    });
    expect(snapshot.reports).toEqual({ change: 2, duplicate: 1, stale: 1, redelivery: 1 });
    expect(snapshot.handlerFailures).toBe(2);
    expect(snapshot.handlerExhausted).toBe(1);
    expect(snapshot.recentRefusals.map((refusal) => `${refusal.reason} ${refusal.httpStatus}`)).toEqual([
      'shutting_down 503',
      'store_unavailable 503',
      'invalid_body 400',
      'payload_too_large 413',
      'unsupported_media_type 415',
      'signature_invalid 401',
      'signature_invalid 401',
      'signature_missing 401',
      'ip_not_allowed 403',
      'handler_failed 500',
    ]);
    expect(snapshot.recentRefusals[8]!.ip).toBe('203.0.113.9');

    const values = allAttributeValues(metrics, otel.spans.getFinishedSpans());
    expect(values.length).toBeGreaterThan(50);
    expect(values.filter((value) => value.includes(TO) || value.includes(SENDER))).toEqual([]);
    // Message ids are span attributes only, never metric attributes.
    const metricValues = allAttributeValues(metrics, []);
    expect(metricValues.filter((value) => value === delivered['message_id'])).toEqual([]);
  });

  // Express's JSON parser (strict) refuses a top-level string, number or literal before the
  // route, with its own 400; Fastify's hands every JSON value to the webhook, which refuses
  // what is not an object and counts it.
  it('counts the refusal of a JSON body that is not an object as invalid_body, in the stats and OpenTelemetry', async () => {
    const { app, baseUrl } = await start({});
    const bodies =
      adapter === 'fastify' ? ['[]', '[1,2]', ' []', '"x"', '1', 'null', 'true'] : ['[]', '[1,2]', ' []'];
    for (const body of bodies) {
      const answer = await postDlr(baseUrl, body, { secret: SECRET });
      expect([body, answer.status, answer.body]).toEqual([
        body,
        400,
        expect.objectContaining({ message: ['body must be a JSON object'] }),
      ]);
    }
    expect(app.get(DeliveryReportStats).snapshot().requests).toEqual({
      accepted: 0,
      refused: { invalid_body: bodies.length },
    });
    expect(sums(await otel.collect(), 'messente.dlr.webhook.requests')).toEqual({
      [requests('refused', 'invalid_body')]: bodies.length,
    });
  });

  it('traces the record span, a handle span per try under it, and failed tries as errors', async () => {
    const { baseUrl } = await start(
      { acknowledge: 'after-handlers', handlerAttempts: 2, handlerRetryDelayMs: 1 },
      {},
      [Handlers],
    );
    const rejected = report({ status: 'REJECTD' });
    expect((await postDlr(baseUrl, rejected, { secret: SECRET })).status).toBe(500);

    const spans = otel.spans.getFinishedSpans();
    const byName = (name: string) => spans.filter((span) => span.name === name);
    const [record] = byName('messente.dlr.record');
    expect(byName('messente.dlr.record')).toHaveLength(1);
    expect(record!.attributes).toEqual({
      'messente.dlr.message_id': rejected['message_id'],
      'messente.dlr.status': 'REJECTD',
      'messente.dlr.outcome': 'change',
    });
    const handles = byName('messente.dlr.handle');
    const summary = (span: ReadableSpan) =>
      `${String(span.attributes['messente.dlr.handler'])} #${String(span.attributes['messente.dlr.attempt'])} ` +
      `${span.status.code === 2 ? 'ERROR' : 'ok'} ${span.events.map((event) => event.name).join(',')}`;
    expect(handles.map(summary).sort()).toEqual([
      'Handlers.onAny #1 ok ',
      'Handlers.onRejected #1 ERROR exception',
      'Handlers.onRejected #2 ERROR exception',
    ]);
    for (const handle of handles) {
      expect(handle.parentSpanContext?.spanId).toBe(record!.spanContext().spanId);
      expect(handle.spanContext().traceId).toBe(record!.spanContext().traceId);
      expect(handle.attributes).toMatchObject({
        'messente.dlr.message_id': rejected['message_id'],
        'messente.dlr.status': 'REJECTD',
      });
    }
    const failed = handles.find((span) => span.status.code === 2)!;
    expect(failed.attributes['error.type']).toBe('BoomError');
    expect(failed.events[0]!.attributes?.['exception.message']).toBe('handler failed');
  });

  it('traces status-API queries and times each HTTP try', async () => {
    const { app } = await start({ credentials: CREDENTIALS, apiUrl: fake.apiUrl, apiRetries: 1 });
    const omni = crypto.randomUUID();
    const messageId = crypto.randomUUID();
    fake.api.setReport(omni, {
      omnimessage_id: omni,
      to: TO,
      statuses: [{ message_id: messageId, status: 'DELIVRD', channel: 'sms', sender: SENDER, err: 0 }],
    });
    fake.api.failNext(503);
    await app.get(DeliveryStatusService).current(omni);

    const metrics = await otel.collect();
    expect(counts(metrics, 'messente.status_api.duration')).toEqual({
      'http.response.status_code=503': 1,
      'http.response.status_code=200': 1,
    });
    const queries = otel.spans.getFinishedSpans().filter((span) => span.name === 'messente.status_api.query');
    expect(queries.map((span) => span.attributes)).toEqual([{ 'messente.omnimessage_id': omni }]);
    const values = allAttributeValues(metrics, otel.spans.getFinishedSpans());
    expect(values.filter((value) => value.includes(TO) || value.includes(SENDER))).toEqual([]);
  });

  it('reads the pending gauge from the store at collection time', async () => {
    @Injectable()
    class AlwaysFails {
      @OnDlrStatus('FAILED') on(): void {
        throw new Error('nope');
      }
    }
    const { app, baseUrl } = await start({ handlerAttempts: 1 }, {}, [AlwaysFails]);
    const store = app.get<DlrStore>(DLR_STORE);
    for (let i = 0; i < 3; i++) await postDlr(baseUrl, report({ status: 'FAILED' }), { secret: SECRET });
    await postDlr(baseUrl, report(), { secret: SECRET });
    await waitFor(() => app.get(DeliveryReportStats).snapshot().handlerExhausted === 3);
    const pending = await store.countPending();
    expect(pending).toBe(3);
    expect(sums(await otel.collect(), 'messente.dlr.pending')).toEqual({ '': pending });
  });

  it('observes nothing for the pending gauge when the store cannot count, rather than a wrong 0', async () => {
    const store = new CountFailingStore();
    await start({ store });
    const metrics = await otel.collect();
    expect(store.countCalls).toBeGreaterThan(0);
    expect(pointsOf(metrics, 'messente.dlr.pending')).toEqual([]);
    // The store counts again: the gauge is back.
    store.failing = false;
    expect(sums(await otel.collect(), 'messente.dlr.pending')).toEqual({ '': 0 });
  });

  it('with telemetry: false records nothing in OpenTelemetry, while the stats keep counting', async () => {
    const { app, baseUrl } = await start({ telemetry: false }, {}, [Handlers]);
    expect((await postDlr(baseUrl, report(), { secret: SECRET })).status).toBe(200);
    expect((await postDlr(baseUrl, report())).status).toBe(401);
    await waitFor(() => app.get(DeliveryReportStats).snapshot().reports.change === 1);
    expect(await otel.collect()).toEqual([]);
    expect(otel.spans.getFinishedSpans()).toEqual([]);
    const snapshot = app.get(DeliveryReportStats).snapshot();
    expect(snapshot.requests).toEqual({ accepted: 1, refused: { signature_missing: 1 } });
  });
});
