import { useFakeMessenteApi } from '../support/fake-api.js';
import { HttpService } from '@nestjs/axios';
import axios from 'axios';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MessenteApiError } from '../../lib/errors/messente-api.error.js';
import {
  MAX_API_RETRY_DELAY_MS,
  MessenteApiClient,
  type MessenteApiConfig,
} from '../../lib/services/messente-api.client.js';
import { FakeMessenteApi } from '../../lib/testing/index.js';

const credentials = { username: 'api-user', password: 'api-pass' };
const inTzChild = process.env['MESSENTE_TZ_CHILD'] === '1';
const thisFile = fileURLToPath(import.meta.url);

async function runInTimeZone(tz: string): Promise<string> {
  const root = resolve(dirname(thisFile), '../..');
  const { stderr } = await promisify(execFile)(
    process.execPath,
    [
      '--experimental-vm-modules',
      'node_modules/jest/bin/jest.js',
      '--ci',
      '--runTestsByPath',
      thisFile,
      '-t',
      'in this process',
    ],
    { cwd: root, env: { ...process.env, TZ: tz, MESSENTE_TZ_CHILD: '1' } },
  );
  return stderr;
}

describe('MessenteApiClient', () => {
  const fake = useFakeMessenteApi(credentials);
  const api = fake.api;

  function client(overrides: Partial<MessenteApiConfig> = {}): MessenteApiClient {
    return new MessenteApiClient(new HttpService(axios.create()), {
      apiUrl: fake.apiUrl,
      credentials,
      timeoutMs: 2_000,
      retries: 3,
      retryBaseDelayMs: 10,
      ...overrides,
    });
  }

  async function apiError(promise: Promise<unknown>): Promise<MessenteApiError> {
    const error = await promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MessenteApiError);
    return error as MessenteApiError;
  }

  it('maps a full answer to a camelCase DeliveryReport', async () => {
    const id = randomUUID();
    api.setReport(id, {
      omnimessage_id: id,
      to: '+3725555555',
      statuses: [
        {
          message_id: 'm-1',
          status: 'DELIVRD',
          channel: 'sms',
          err: 0,
          error: null,
          timestamp: '2020-02-04T08:09:42.389630',
          sender: 'MySender',
          price_info: { part_price: '0.1', parts_count: 2, total_price: '0.2' },
          something_new: true,
        },
        {
          message_id: 'm-2',
          status: 'FAILED',
          channel: 'viber',
          err: 1,
          error: 'delivery failure',
          timestamp: '2020-02-04T08:09:40+02:00',
          sender: 'MySender',
        },
      ],
    });

    await expect(client().query(id)).resolves.toEqual({
      omnimessageId: id,
      to: '+3725555555',
      statuses: [
        {
          messageId: 'm-1',
          status: 'DELIVRD',
          channel: 'sms',
          err: 0,
          error: null,
          timestamp: new Date(Date.UTC(2020, 1, 4, 8, 9, 42, 389)),
          sender: 'MySender',
          priceInfo: { partPrice: '0.1', partsCount: 2, totalPrice: '0.2' },
        },
        {
          messageId: 'm-2',
          status: 'FAILED',
          channel: 'viber',
          err: 1,
          error: 'delivery failure',
          timestamp: new Date(Date.UTC(2020, 1, 4, 6, 9, 40)),
          sender: 'MySender',
          priceInfo: null,
        },
      ],
    });
  });

  it('gives null for fields that are null or missing', async () => {
    const id = randomUUID();
    api.setReport(id, {
      omnimessage_id: id,
      to: null,
      statuses: [
        {
          status: 'ACCEPTD',
          message_id: null,
          err: null,
          timestamp: null,
          price_info: null,
        },
        {},
      ],
    });
    const empty = {
      messageId: null,
      status: null,
      channel: null,
      err: null,
      error: null,
      timestamp: null,
      sender: null,
      priceInfo: null,
    };

    await expect(client().query(id)).resolves.toEqual({
      omnimessageId: id,
      to: null,
      statuses: [{ ...empty, status: 'ACCEPTD' }, empty],
    });
  });

  it('reads offset-less timestamps as UTC in this process’s time zone', async () => {
    const id = randomUUID();
    api.setReport(id, {
      omnimessage_id: id,
      to: '+3725555555',
      statuses: [{ timestamp: '2020-02-04T08:09:42.389630' }],
    });
    // Proves the child's zone took effect, so a local-time parse would give another instant.
    if (inTzChild) expect(new Date('2020-02-04T08:09:42').getTimezoneOffset()).not.toBe(0);

    const report = await client().query(id);

    expect(report.statuses[0]!.timestamp!.getTime()).toBe(1580803782389);
  });

  // Jest hands each test file a copy of process.env, so setting TZ here would change nothing:
  // the test above runs again in child processes started with another TZ.
  (inTzChild ? it.skip : it)('reads offset-less timestamps as UTC in other time zones', async () => {
    const results = await Promise.all(['America/New_York', 'Asia/Kolkata'].map(runInTimeZone));
    for (const output of results) expect(output).toMatch(/Tests:\s+\d+ skipped, 1 passed/);
  });

  it('sends GET {apiUrl}/omnimessage/{id}/status with Basic auth and Accept JSON', async () => {
    const id = randomUUID();
    api.setReport(id, { omnimessage_id: id, to: '+3725555555', statuses: [] });

    await client({ apiUrl: `${fake.apiUrl}/` }).query(id);

    expect(api.requests).toHaveLength(1);
    const [request] = api.requests;
    expect(request!.method).toBe('GET');
    expect(request!.path).toBe(`/v1/omnimessage/${id}/status`);
    expect(request!.headers.authorization).toBe(
      `Basic ${Buffer.from('api-user:api-pass').toString('base64')}`,
    );
    expect(request!.headers.accept).toContain('application/json');
  });

  it('throws MessenteApiError with Messente’s code, title and detail on 401, without retrying', async () => {
    const error = await apiError(
      client({
        credentials: { username: 'api-user', password: 'wrong' },
      }).query(randomUUID()),
    );

    expect(error).toMatchObject({
      status: 401,
      code: '103',
      title: 'Unauthorized',
    });
    expect(error.detail).toEqual(expect.any(String));
    expect(api.requests).toHaveLength(1);
  });

  it('throws MessenteApiError on 404 for an unknown omnimessage, without retrying', async () => {
    const error = await apiError(client().query(randomUUID()));

    expect(error).toMatchObject({
      status: 404,
      code: '101',
      title: 'Not found',
      detail: 'No such omnimessage',
    });
    expect(error.message).toContain('404');
    expect(api.requests).toHaveLength(1);
  });

  it('does not retry other 4xx and falls back to the HTTP status text for a foreign body', async () => {
    api.failNext(400, 1, { body: '<html>bad request</html>' });

    const error = await apiError(client().query(randomUUID()));

    expect(error).toMatchObject({
      status: 400,
      code: null,
      title: 'Bad Request',
      detail: '<html>bad request</html>',
    });
    expect(api.requests).toHaveLength(1);
  });

  it.each(['not-a-uuid', '', '3e28ec48-d620-4191-a96e-d91ba8ecc94', '../status', `${randomUUID()}/x`])(
    'refuses the id %j without a request',
    async (id) => {
      await expect(client().query(id)).rejects.toThrow(TypeError);
      expect(api.requests).toHaveLength(0);
    },
  );

  it('accepts upper-case UUIDs', async () => {
    const id = randomUUID().toUpperCase();
    api.setReport(id, { omnimessage_id: id, to: '+3725555555', statuses: [] });

    await expect(client().query(id)).resolves.toMatchObject({
      omnimessageId: id,
    });
  });

  it('refuses to query without credentials, without a request', async () => {
    await expect(client({ credentials: null }).query(randomUUID())).rejects.toThrow(
      /credentials are not configured/,
    );
    expect(api.requests).toHaveLength(0);
  });

  it('retries 5xx: 500 twice then 200 succeeds after exactly 3 requests', async () => {
    const id = randomUUID();
    api.setReport(id, { omnimessage_id: id, to: '+3725555555', statuses: [] });
    api.failNext(500, 2);

    await expect(client().query(id)).resolves.toMatchObject({
      omnimessageId: id,
    });
    expect(api.requests).toHaveLength(3);
  });

  it('gives up after 1 + retries requests when the server keeps failing', async () => {
    api.failNext(503, 10);

    const error = await apiError(client({ retries: 2 }).query(randomUUID()));

    expect(error).toMatchObject({ status: 503, code: '104' });
    expect(api.requests).toHaveLength(3);
  });

  it('retries 429 after the Retry-After delay', async () => {
    const id = randomUUID();
    api.setReport(id, { omnimessage_id: id, to: '+3725555555', statuses: [] });
    api.failNext(429, 1, { retryAfterSeconds: 1 });

    await expect(client().query(id)).resolves.toMatchObject({
      omnimessageId: id,
    });
    const [first, second] = api.requests;
    expect(api.requests).toHaveLength(2);
    expect(second!.receivedAt.getTime() - first!.receivedAt.getTime()).toBeGreaterThanOrEqual(900);
  });

  describe('Retry-After on 503', () => {
    /** Milliseconds between the first and the second request the fake received. */
    function gap(): number {
      const [first, second] = api.requests;
      return second!.receivedAt.getTime() - first!.receivedAt.getTime();
    }

    it('waits the delay-seconds form', async () => {
      const id = randomUUID();
      api.setReport(id, { omnimessage_id: id, to: null, statuses: [] });
      api.failNext(503, 1, { retryAfterSeconds: 1 });

      await expect(client().query(id)).resolves.toMatchObject({ omnimessageId: id });
      expect(api.requests).toHaveLength(2);
      expect(gap()).toBeGreaterThanOrEqual(900);
      expect(gap()).toBeLessThan(2_500);
    });

    it('waits until the HTTP-date form', async () => {
      const id = randomUUID();
      api.setReport(id, { omnimessage_id: id, to: null, statuses: [] });
      // Whole seconds on the wire: 2.5 s ahead is between 1.5 and 2.5 s once the milliseconds are dropped.
      api.failNext(503, 1, { retryAfterDate: new Date(Date.now() + 2_500) });

      await expect(client().query(id)).resolves.toMatchObject({ omnimessageId: id });
      expect(api.requests).toHaveLength(2);
      expect(gap()).toBeGreaterThanOrEqual(1_300);
      expect(gap()).toBeLessThan(3_500);
    });

    it('retries at once when the date has passed', async () => {
      const id = randomUUID();
      api.setReport(id, { omnimessage_id: id, to: null, statuses: [] });
      api.failNext(503, 1, { retryAfterDate: new Date(Date.now() - 60_000) });

      await expect(client().query(id)).resolves.toMatchObject({ omnimessageId: id });
      expect(gap()).toBeLessThan(500);
    });

    it('reports the wait on the error when no retry is left', async () => {
      api.failNext(503, 1, { retryAfterSeconds: 7 });
      const error = await apiError(client({ retries: 0 }).query(randomUUID()));
      expect(error).toMatchObject({ status: 503, retryAfterMs: 7_000 });

      api.failNext(503, 1, { retryAfterDate: new Date(Date.now() + 60_000) });
      const dated = await apiError(client({ retries: 0 }).query(randomUUID()));
      expect(dated.retryAfterMs).toBeGreaterThan(58_000);
      expect(dated.retryAfterMs).toBeLessThanOrEqual(60_000);
    });

    it('caps the wait (30 s by default)', async () => {
      expect(MAX_API_RETRY_DELAY_MS).toBe(30_000);
      const id = randomUUID();
      api.setReport(id, { omnimessage_id: id, to: null, statuses: [] });
      api.failNext(503, 1, { retryAfterSeconds: 3_600 });

      await expect(client({ maxRetryDelayMs: 300 }).query(id)).resolves.toMatchObject({ omnimessageId: id });
      expect(gap()).toBeGreaterThanOrEqual(250);
      expect(gap()).toBeLessThan(2_000);
    });

    it('is not read on other 5xx: a 500 retries with the backoff', async () => {
      const id = randomUUID();
      api.setReport(id, { omnimessage_id: id, to: null, statuses: [] });
      api.failNext(500, 1, { retryAfterSeconds: 5 });

      await expect(client().query(id)).resolves.toMatchObject({ omnimessageId: id });
      expect(gap()).toBeLessThan(1_000);
    });
  });

  it('fails a hanging request within its timeout', async () => {
    api.hangNext(1);
    const started = Date.now();

    const error = await apiError(client({ timeoutMs: 300, retries: 0 }).query(randomUUID()));

    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toMatchObject({ status: null, title: 'timeout' });
    expect(api.requests).toHaveLength(1);
  });

  it('retries after a timeout', async () => {
    const id = randomUUID();
    api.setReport(id, { omnimessage_id: id, to: '+3725555555', statuses: [] });
    api.hangNext(1);

    await expect(client({ timeoutMs: 200, retries: 1 }).query(id)).resolves.toMatchObject({
      omnimessageId: id,
    });
    expect(api.requests).toHaveLength(2);
  });

  it('retries network errors, then throws MessenteApiError with a null status', async () => {
    const down = new FakeMessenteApi(credentials);
    const downUrl = await down.start();
    await down.stop();

    const error = await apiError(client({ apiUrl: downUrl, retries: 1 }).query(randomUUID()));

    expect(error).toMatchObject({ status: null, title: 'network error' });
    expect(error.detail).toMatch(/ECONNREFUSED/);
  });
});
