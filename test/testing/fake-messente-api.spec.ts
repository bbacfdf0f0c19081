import { useFakeMessenteApi } from '../support/fake-api.js';
import { randomUUID } from 'node:crypto';
import { FakeMessenteApi, dlrPayload, signDlr } from '../../lib/testing/index.js';

const auth = `Basic ${Buffer.from('user:pass').toString('base64')}`;

describe('FakeMessenteApi', () => {
  const fake = useFakeMessenteApi({ username: 'user', password: 'pass' });
  const api = fake.api;

  const statusUrl = (id: string): string => `${fake.apiUrl}/omnimessage/${id}/status`;
  const get = (id: string, authorization = auth): Promise<Response> =>
    fetch(statusUrl(id), { headers: { authorization } });

  it('listens on loopback under /v1', () => {
    expect(fake.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  });

  it('serves a report set with setReport and records the request', async () => {
    const id = randomUUID();
    const body = {
      omnimessage_id: id,
      to: '+3725555555',
      statuses: [{ status: 'DELIVRD' }],
    };
    api.setReport(id, body);

    const res = await get(id);

    expect(res.status).toBe(200);
    await expect(res.json()).resolves.toEqual(body);
    expect(api.requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: `/v1/omnimessage/${id}/status`,
        receivedAt: expect.any(Date),
      }),
    ]);
    expect(api.requests[0]!.headers.authorization).toBe(auth);
  });

  it.each([
    ['missing', undefined],
    ['wrong', `Basic ${Buffer.from('user:nope').toString('base64')}`],
  ])('answers 401 with a Messente error body for %s credentials', async (_, authorization) => {
    const res = await fetch(statusUrl(randomUUID()), {
      headers: authorization ? { authorization } : {},
    });

    expect(res.status).toBe(401);
    await expect(res.json()).resolves.toEqual({
      errors: [
        {
          title: 'Unauthorized',
          detail: expect.any(String),
          code: '103',
          source: null,
        },
      ],
    });
  });

  it('answers 404 with a Messente error body for an unknown omnimessage', async () => {
    const res = await get(randomUUID());

    expect(res.status).toBe(404);
    await expect(res.json()).resolves.toEqual({
      errors: [
        {
          title: 'Not found',
          detail: 'No such omnimessage',
          code: '101',
          source: null,
        },
      ],
    });
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    expect((await fetch(`${fake.apiUrl}/sms`, { headers: { authorization: auth } })).status).toBe(404);
    expect(
      (
        await fetch(statusUrl(randomUUID()), {
          method: 'POST',
          headers: { authorization: auth },
        })
      ).status,
    ).toBe(405);
  });

  it('fails the next requests as scripted, with Retry-After and a custom body', async () => {
    const id = randomUUID();
    api.setReport(id, { omnimessage_id: id, to: null, statuses: [] });
    api.failNext(500, 2);
    api.failNext(429, 1, { retryAfterSeconds: 3, body: 'slow down' });

    const first = await get(id);
    expect(first.status).toBe(500);
    await expect(first.json()).resolves.toMatchObject({
      errors: [{ code: '104' }],
    });
    expect((await get(id)).status).toBe(500);
    const third = await get(id);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('3');
    await expect(third.text()).resolves.toBe('slow down');
    expect((await get(id)).status).toBe(200);
  });

  it('sends Retry-After as an HTTP date', async () => {
    const id = randomUUID();
    api.setReport(id, { omnimessage_id: id, to: null, statuses: [] });
    api.failNext(503, 1, { retryAfterDate: new Date('2026-11-27T21:00:00.750Z') });

    const answer = await get(id);
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('Fri, 27 Nov 2026 21:00:00 GMT');
  });

  it('never answers hanging requests and closes them on stop', async () => {
    const hung = new FakeMessenteApi({ username: 'user', password: 'pass' });
    const url = await hung.start();
    hung.hangNext();

    const pending = fetch(`${url}/omnimessage/${randomUUID()}/status`, {
      headers: { authorization: auth },
    });
    const outcome = pending.then(
      () => 'answered',
      () => 'closed',
    );
    await until(() => hung.inFlight === 1);
    expect(await Promise.race([outcome, delay(200).then(() => 'hanging')])).toBe('hanging');

    await hung.stop();

    await expect(outcome).resolves.toBe('closed');
    expect(hung.inFlight).toBe(0);
  });

  it('counts requests in flight when answers are delayed', async () => {
    const id = randomUUID();
    api.setReport(id, { omnimessage_id: id, to: null, statuses: [] });
    api.delayMs = 100;

    const answers = await Promise.all([get(id), get(id), get(id)]);

    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(api.maxInFlight).toBe(3);
    await until(() => api.inFlight === 0);
  });
});

describe('dlrPayload and signDlr', () => {
  it('builds a valid callback body with fresh ids and an offset-less UTC timestamp', () => {
    const a = dlrPayload();
    const b = dlrPayload();

    expect(a).toMatchObject({
      status: 'DELIVRD',
      channel: 'sms',
      to: '+3725555555',
      sender: 'MySender',
      err: 0,
      error: null,
    });
    expect(a['price_info']).toEqual({
      part_price: '0.1',
      parts_count: 1,
      total_price: '0.1',
    });
    expect(a['message_id']).not.toBe(b['message_id']);
    expect(a['omnimessage_id']).not.toBe(b['omnimessage_id']);
    expect(a['timestamp']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
    expect(Math.abs(Date.parse(`${a['timestamp'] as string}Z`) - Date.now())).toBeLessThan(5_000);
  });

  it('merges overrides; undefined removes a field', () => {
    const payload = dlrPayload({
      status: 'FAILED',
      err: 1,
      sender: undefined,
      extra: 'kept',
    });

    expect(payload).toMatchObject({ status: 'FAILED', err: 1, extra: 'kept' });
    expect(payload).not.toHaveProperty('sender');
  });

  it('signs the raw body as lowercase hex HMAC-SHA256', () => {
    // Known-answer vector from RFC 4231 test case 2.
    const expected = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843';

    expect(signDlr('what do ya want for nothing?', 'Jefe')).toBe(expected);
    expect(signDlr(Buffer.from('what do ya want for nothing?'), 'Jefe')).toBe(expected);
  });
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await delay(5);
  }
}
