import { useFakeMessenteApi } from '../support/fake-api.js';
import { Injectable } from '@nestjs/common';
import {
  DLR_STORE,
  DeliveryStatusChanged,
  DeliveryStatusService,
  MessenteApiError,
  MessenteDlrModule,
  OnDlrStatus,
  type DlrStore,
  type MessenteDlrModuleOptions,
} from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { delay, postDlr, startApp, waitFor, type TestApp } from '../support/app.js';

const SECRET = 'api-password';
const credentials = { username: 'api-user', password: SECRET };
const changes: string[] = [];

@Injectable()
class Recorder {
  @OnDlrStatus('*') on(event: DeliveryStatusChanged) {
    changes.push(`${event.messageId}:${event.previousStatus}->${event.status}`);
  }
}

describe('DeliveryStatusService', () => {
  const fake = useFakeMessenteApi(credentials);
  const api = fake.api;
  beforeEach(() => {
    changes.length = 0;
  });
  let running: TestApp;
  let statuses: DeliveryStatusService;
  afterEach(() => running?.close());

  async function start(options: MessenteDlrModuleOptions = {}) {
    running = await startApp('fastify', {
      imports: [
        MessenteDlrModule.forRoot({
          credentials,
          apiUrl: fake.apiUrl,
          allowedIps: ['127.0.0.1'],
          apiRetries: 1,
          ...options,
        }),
      ],
      providers: [Recorder],
    });
    statuses = running.app.get(DeliveryStatusService);
    return running;
  }

  function apiResult(messageId: string, status: string, channel = 'sms') {
    return {
      message_id: messageId,
      status,
      channel,
      err: 0,
      error: null,
      timestamp: '2024-05-06T07:08:09.123456',
      sender: 'Me',
      price_info: null,
    };
  }

  it('answers latest and forOmnimessage from the store without API calls', async () => {
    await start();
    const omni = crypto.randomUUID();
    const sms = dlrPayload({ omnimessage_id: omni, status: 'ACCEPTD' });
    const viber = dlrPayload({ omnimessage_id: omni, status: 'DELIVRD', channel: 'viber' });
    for (const body of [sms, viber, { ...sms, status: 'FAILED' }]) {
      expect((await postDlr(running.baseUrl, body, { secret: SECRET })).status).toBe(200);
    }
    expect((await statuses.latest(sms['message_id'] as string))?.status).toBe('FAILED');
    expect((await statuses.latest(sms['message_id'] as string))?.previousStatus).toBe('ACCEPTD');
    expect(await statuses.latest('unknown-message')).toBeNull();
    const all = await statuses.forOmnimessage(omni);
    expect(all.map((event) => `${event.channel}:${event.status}`).sort()).toEqual([
      'sms:FAILED',
      'viber:DELIVRD',
    ]);
    expect(await statuses.forOmnimessage(crypto.randomUUID())).toEqual([]);
    expect(api.requests).toHaveLength(0);
  });

  it('history() lists every report of a message oldest first, with its outcome; duplicates are not history', async () => {
    await start();
    const first = dlrPayload({ status: 'ACCEPTD' });
    const id = first['message_id'] as string;
    const before = Date.now();
    for (const status of ['ACCEPTD', 'DELIVRD', 'DELIVRD', 'ACK', 'SEEN']) {
      expect((await postDlr(running.baseUrl, { ...first, status }, { secret: SECRET })).status).toBe(200);
    }
    const history = await statuses.history(id);
    expect(history.map((entry) => `${entry.status}:${entry.outcome}`)).toEqual([
      'ACCEPTD:change',
      'DELIVRD:change',
      'ACK:stale',
      'SEEN:change',
    ]);
    for (const entry of history) {
      expect(entry.receivedAt).toBeInstanceOf(Date);
      expect(entry.receivedAt.getTime()).toBeGreaterThanOrEqual(before);
      expect(entry.raw['message_id']).toBe(id);
    }
    expect(history.map((entry) => entry.receivedAt.getTime())).toEqual(
      history.map((entry) => entry.receivedAt.getTime()).sort((a, b) => a - b),
    );
    expect(await statuses.history(crypto.randomUUID())).toEqual([]);
    expect(api.requests).toHaveLength(0);
  });

  it('current() answers from the store when every known message is final: no API request', async () => {
    await start();
    const omni = crypto.randomUUID();
    await postDlr(running.baseUrl, dlrPayload({ omnimessage_id: omni, status: 'DELIVRD' }), {
      secret: SECRET,
    });
    await postDlr(running.baseUrl, dlrPayload({ omnimessage_id: omni, status: 'SEEN', channel: 'viber' }), {
      secret: SECRET,
    });
    const current = await statuses.current(omni);
    expect(current.map((event) => event.status).sort()).toEqual(['DELIVRD', 'SEEN']);
    expect(api.requests).toHaveLength(0);
  });

  it('current() queries the API once when a message is not final, records the answer and fires handlers only for real changes', async () => {
    await start();
    const omni = crypto.randomUUID();
    const sms = dlrPayload({ omnimessage_id: omni, status: 'ACCEPTD' });
    const smsId = sms['message_id'] as string;
    const viberId = crypto.randomUUID();
    await postDlr(running.baseUrl, sms, { secret: SECRET });
    await waitFor(() => changes.length === 1);
    api.setReport(omni, {
      omnimessage_id: omni,
      to: '+3725555555',
      statuses: [apiResult(smsId, 'DELIVRD'), apiResult(viberId, 'ACCEPTD', 'viber')],
    });

    const current = await statuses.current(omni);
    expect(api.requests).toHaveLength(1);
    expect(current.map((event) => `${event.messageId}:${event.status}`).sort()).toEqual(
      [`${smsId}:DELIVRD`, `${viberId}:ACCEPTD`].sort(),
    );
    await waitFor(() => changes.length === 3);
    expect(changes.slice(1).sort()).toEqual([`${smsId}:ACCEPTD->DELIVRD`, `${viberId}:null->ACCEPTD`].sort());
    const delivered = current.find((event) => event.messageId === smsId)!;
    expect(delivered.timestamp?.toISOString()).toBe('2024-05-06T07:08:09.123Z');

    // Same answer again: the viber message is still pending, so the API is asked, but nothing changed.
    await statuses.current(omni);
    expect(api.requests).toHaveLength(2);
    await delay(30);
    expect(changes).toHaveLength(3);
  });

  it('query() passes Messente errors through as MessenteApiError', async () => {
    await start();
    const error = await statuses.query(crypto.randomUUID()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessenteApiError);
    expect(error).toMatchObject({ status: 404, code: '101' });
  });

  it('refuses queries without credentials, sending nothing', async () => {
    running = await startApp('express', {
      imports: [
        MessenteDlrModule.forRoot({
          signatureSecrets: [SECRET],
          apiUrl: fake.apiUrl,
          allowedIps: ['127.0.0.1'],
        }),
      ],
    });
    statuses = running.app.get(DeliveryStatusService);
    await expect(statuses.query(crypto.randomUUID())).rejects.toThrow('credentials are not configured');
    expect(api.requests).toHaveLength(0);
  });

  describe('reconcile()', () => {
    async function seed(
      store: DlrStore,
      count: number,
      ageMs: number,
      status = 'ACCEPTD',
      apiStatus = 'DELIVRD',
    ) {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const omni = crypto.randomUUID();
        const payload = dlrPayload({ omnimessage_id: omni, status });
        const recorded = await store.record(payload, Date.now() - ageMs, 60_000);
        await store.complete({ messageId: payload['message_id'] as string, status });
        expect(recorded.outcome).toBe('change');
        api.setReport(omni, {
          omnimessage_id: omni,
          to: '+3725555555',
          statuses: [apiResult(payload['message_id'] as string, apiStatus)],
        });
        ids.push(omni);
      }
      return ids;
    }

    it('respects olderThanMs, limit and concurrency', async () => {
      await start();
      const store = running.app.get<DlrStore>(DLR_STORE);
      const old = await seed(store, 8, 120_000);
      await seed(store, 3, 1_000);
      await seed(store, 2, 120_000, 'DELIVRD');
      api.delayMs = 50;

      const first = await statuses.reconcile({ olderThanMs: 60_000, limit: 5, concurrency: 2 });
      expect(first).toEqual({ queried: 5, changes: 5, failed: 0 });
      expect(api.requests).toHaveLength(5);
      expect(api.maxInFlight).toBe(2);
      const queried = api.requests.map((request) => request.path.split('/')[3]);
      expect(queried.every((id) => old.includes(id!))).toBe(true);

      const second = await statuses.reconcile({ olderThanMs: 60_000, limit: 50, concurrency: 4 });
      expect(second).toEqual({ queried: 3, changes: 3, failed: 0 });
      expect(api.maxInFlight).toBeLessThanOrEqual(4);
      await waitFor(() => changes.length === 8);
      expect(await statuses.reconcile({ olderThanMs: 60_000 })).toEqual({
        queried: 0,
        changes: 0,
        failed: 0,
      });
    });

    it('gives other messages their turn when the API keeps answering not final', async () => {
      await start();
      const store = running.app.get<DlrStore>(DLR_STORE);
      const ids = await seed(store, 6, 120_000, 'ACCEPTD', 'ACCEPTD');
      const first = await statuses.reconcile({ olderThanMs: 60_000, limit: 4 });
      const second = await statuses.reconcile({ olderThanMs: 60_000, limit: 4 });
      expect(first).toEqual({ queried: 4, changes: 0, failed: 0 });
      expect(second).toEqual({ queried: 2, changes: 0, failed: 0 });
      const asked = api.requests.map((request) => request.path.split('/')[3]);
      expect(new Set(asked)).toEqual(new Set(ids));
      expect(asked).toHaveLength(6);
    });

    it('counts a failed query and goes on with the others', async () => {
      await start({ apiRetries: 0 });
      const store = running.app.get<DlrStore>(DLR_STORE);
      await seed(store, 3, 120_000);
      api.failNext(500, 1);
      const result = await statuses.reconcile({ olderThanMs: 60_000, concurrency: 1 });
      expect(result).toEqual({ queried: 3, changes: 2, failed: 1 });
    });

    it('runs on the interval set in the options', async () => {
      await start({ reconcile: { intervalMs: 50, olderThanMs: 60_000 } });
      const store = running.app.get<DlrStore>(DLR_STORE);
      await seed(store, 2, 120_000);
      await waitFor(() => changes.length === 2, 3_000);
      expect(api.requests).toHaveLength(2);
    });
  });
});
