import { DLR_STORE, DeliveryStatusEvents, MessenteDlrModule, type DlrStore } from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { DLR_TEST_REPORT_FIELD } from '../../lib/payload/dlr-test-report.js';
import { ADAPTERS, postDlr, startApp, type TestApp } from '../support/app.js';

const SECRET = 'api-key-password';

describe.each(ADAPTERS)('signed test reports on %s', (adapter) => {
  let running: TestApp;
  let store: DlrStore;
  const changes: string[] = [];

  beforeAll(async () => {
    running = await startApp(adapter, {
      imports: [MessenteDlrModule.forRoot({ signatureSecrets: [SECRET], allowedIps: ['127.0.0.1'] })],
    });
    store = running.app.get(DLR_STORE);
    running.app.get(DeliveryStatusEvents).changes$.subscribe((event) => changes.push(event.messageId));
  });
  afterAll(() => running.close());

  it('answers 200 {"outcome":"test"} without recording or dispatching', async () => {
    const report = dlrPayload({ [DLR_TEST_REPORT_FIELD]: true });
    const answer = await postDlr(running.baseUrl, report, { secret: SECRET });
    expect(answer).toMatchObject({ status: 200, body: { outcome: 'test' } });
    // Sent again: still a test report, never a duplicate, since nothing was recorded.
    expect((await postDlr(running.baseUrl, report, { secret: SECRET })).body).toEqual({ outcome: 'test' });
    expect(await store.history(report['message_id'] as string)).toEqual([]);
    expect(await store.countPending()).toBe(0);
    expect(changes).toEqual([]);
  });

  it('refuses a test report without the secret like any other', async () => {
    const report = dlrPayload({ [DLR_TEST_REPORT_FIELD]: true });
    expect((await postDlr(running.baseUrl, report)).status).toBe(401);
    expect((await postDlr(running.baseUrl, report, { secret: 'not-the-secret' })).status).toBe(401);
  });

  it('validates a test report like any other', async () => {
    const report = dlrPayload({ [DLR_TEST_REPORT_FIELD]: true, status: 'delivered' });
    expect((await postDlr(running.baseUrl, report, { secret: SECRET })).status).toBe(400);
  });

  it('treats only the value true as the marker', async () => {
    const report = dlrPayload({ [DLR_TEST_REPORT_FIELD]: 'true' });
    expect((await postDlr(running.baseUrl, report, { secret: SECRET })).body).toEqual({ outcome: 'change' });
    expect(changes).toEqual([report['message_id']]);
  });
});
