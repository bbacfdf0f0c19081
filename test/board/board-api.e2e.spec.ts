import fc from 'fast-check';
import { DeliveryReportStats, type MessenteDlrModuleOptions } from '../../lib/index.js';
import { MessenteDlrBoardModule, type MessenteDlrBoardOptions } from '../../lib/board/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, postDlr, startApp, type TestApp } from '../support/app.js';
import { ADMIN, AdminGuard, FROM_BOARD, FlakyHandler, startBoardApp } from '../support/board-app.js';
import { RedisDlrStore } from '../../lib/redis/index.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redis-server.js';
import { openSse } from '../support/sse.js';

const SECRET = 'board-secret';
const TO = '+3725555555';
const MASKED = '+372*****55';

const ROUTES: [method: 'GET' | 'POST', path: string][] = [
  ['GET', ''],
  ['GET', '/api/stats'],
  ['GET', '/api/changes'],
  ['GET', '/api/messages/some-id'],
  ['GET', '/api/pending'],
  ['GET', '/api/recent'],
  ['GET', '/api/search?q=some-id'],
  ['POST', '/api/pending/redispatch'],
];

describe.each(ADAPTERS)('board API on %s', (adapter) => {
  let running: TestApp | undefined;
  afterEach(async () => {
    FlakyHandler.reset();
    await running?.close();
    running = undefined;
  });

  async function start(
    board: MessenteDlrBoardOptions = {},
    options: { globalPrefix?: string; dlr?: MessenteDlrModuleOptions } = {},
  ) {
    running = await startBoardApp(adapter, {
      secret: SECRET,
      board: { guards: [AdminGuard], ...board },
      dlr: options.dlr,
      globalPrefix: options.globalPrefix,
    });
    const prefix = options.globalPrefix ? `/${options.globalPrefix}` : '';
    const path = (board.path ?? 'messente/board').replace(/^\/+|\/+$/g, '');
    return { ...running, board: `${running.baseUrl}${prefix}/${path}` };
  }

  async function get<T = unknown>(url: string): Promise<T> {
    const response = await fetch(url, { headers: ADMIN });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  }

  it("answers the user's guard refusal on every route: 401 without a token, 403 with a wrong one", async () => {
    const { board } = await start();
    for (const [method, path] of ROUTES) {
      const none = await fetch(`${board}${path}`, { method });
      expect([method, path, none.status]).toEqual([method, path, 401]);
      const wrong = await fetch(`${board}${path}`, { method, headers: { authorization: 'Bearer guest' } });
      expect([method, path, wrong.status]).toEqual([method, path, 403]);
    }
    const page = await fetch(board, { headers: ADMIN });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toMatch(/^<!doctype html>/);
    // Self-contained: nothing is loaded from elsewhere.
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="(?!data:)/);
  });

  it('streams each change as `event: change` with one JSON change, recipient masked', async () => {
    const { baseUrl, board } = await start();
    const stream = await openSse(`${board}/api/changes`, ADMIN);
    try {
      expect(stream.response.status).toBe(200);
      expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const payload = dlrPayload({ status: 'ACCEPTD', to: TO });
      expect((await postDlr(baseUrl, payload, { secret: SECRET })).status).toBe(200);
      expect(
        (await postDlr(baseUrl, { ...payload, status: 'FAILED', err: 1 }, { secret: SECRET })).status,
      ).toBe(200);
      const first = await stream.next();
      expect(first.event).toBe('change');
      expect(first.retry).toBe(1000);
      expect(first.block.split('\n').filter((line) => line.startsWith('data:'))).toHaveLength(1);
      expect(JSON.parse(first.data)).toMatchObject({
        messageId: payload['message_id'],
        omnimessageId: payload['omnimessage_id'],
        status: 'ACCEPTD',
        previousStatus: null,
        state: 'in progress',
        to: MASKED,
      });
      const second = JSON.parse((await stream.next()).data);
      expect(second).toMatchObject({ status: 'FAILED', previousStatus: 'ACCEPTD', state: 'failed', err: 1 });
      expect(new Date(second.receivedAt).getTime()).toBeGreaterThan(0);
      // A duplicate is no change: nothing more arrives for it.
      await postDlr(baseUrl, { ...payload, status: 'FAILED', err: 1 }, { secret: SECRET });
      await expect(stream.next(300)).rejects.toThrow(/no data/);
    } finally {
      stream.close();
    }
  });

  it('ends open streams when the app closes, so that closing does not wait for them', async () => {
    const { board } = await start();
    const stream = await openSse(`${board}/api/changes`, ADMIN);
    const closed = running!.close();
    running = undefined;
    expect(await stream.ended(3_000)).toBe(true);
    await closed;
  });

  it('finds the full history by message id and by omnimessage id, oldest first, recipients masked', async () => {
    const { baseUrl, board } = await start();
    const sms = dlrPayload({ status: 'ACCEPTD', to: TO });
    const viber = dlrPayload({ omnimessage_id: sms['omnimessage_id'], channel: 'viber', status: 'SEEN' });
    for (const body of [sms, { ...sms, status: 'DELIVRD' }, { ...sms, status: 'ACK' }, viber]) {
      expect((await postDlr(baseUrl, body, { secret: SECRET })).status).toBe(200);
    }
    type Answer = {
      messages: {
        messageId: string;
        history: {
          status: string;
          outcome: string;
          state: string;
          receivedAt: string;
          raw: Record<string, unknown>;
        }[];
      }[];
    };
    const byMessage = await get<Answer>(`${board}/api/messages/${sms['message_id']}`);
    expect(byMessage.messages).toHaveLength(1);
    expect(byMessage.messages[0]!.messageId).toBe(sms['message_id']);
    expect(byMessage.messages[0]!.history.map((entry) => `${entry.status}:${entry.outcome}`)).toEqual([
      'ACCEPTD:change',
      'DELIVRD:change',
      'ACK:stale',
    ]);
    // Each report carries the server's classification of its status: the page has no copy of it.
    expect(byMessage.messages[0]!.history.map((entry) => entry.state)).toEqual([
      'in progress',
      'delivered',
      'in progress',
    ]);
    for (const entry of byMessage.messages[0]!.history) {
      expect(entry.raw['to']).toBe(MASKED);
      expect(Number.isNaN(Date.parse(entry.receivedAt))).toBe(false);
    }
    const byOmnimessage = await get<Answer>(`${board}/api/messages/${sms['omnimessage_id']}`);
    expect(byOmnimessage.messages.map((message) => message.messageId).sort()).toEqual(
      [sms['message_id'], viber['message_id']].sort(),
    );
    expect(await get(`${board}/api/messages/nothing-known`)).toEqual({ messages: [] });
    const long = await fetch(`${board}/api/messages/${'x'.repeat(101)}`, { headers: ADMIN });
    // Fastify answers an over-long route parameter itself, before the route runs.
    expect(long.status).toBe(adapter === 'fastify' ? 414 : 400);
  });

  it('maskRecipients: false shows the number in the stream, the history and the pending list', async () => {
    const { baseUrl, board } = await start({ maskRecipients: false });
    const stream = await openSse(`${board}/api/changes`, ADMIN);
    try {
      FlakyHandler.failing = true;
      const payload = dlrPayload({ to: TO });
      await postDlr(baseUrl, payload, { secret: SECRET });
      expect(JSON.parse((await stream.next()).data).to).toBe(TO);
      const history = await get<{ messages: { history: { raw: Record<string, unknown> }[] }[] }>(
        `${board}/api/messages/${payload['message_id']}`,
      );
      expect(history.messages[0]!.history[0]!.raw['to']).toBe(TO);
      const pending = await get<{ changes: { to: string }[] }>(`${board}/api/pending`);
      expect(pending.changes.map((change) => change.to)).toEqual([TO]);
    } finally {
      stream.close();
    }
  });

  it('lists a failed change as pending, counts it in stats, and redispatches it', async () => {
    const { baseUrl, board } = await start();
    FlakyHandler.failing = true;
    const payload = dlrPayload({ to: TO });
    await postDlr(baseUrl, payload, { secret: SECRET });
    const id = `${payload['message_id']}:DELIVRD`;
    expect(FlakyHandler.calls).toEqual([id]);
    const pending = await get<{ count: number; changes: Record<string, unknown>[] }>(`${board}/api/pending`);
    expect(pending.count).toBe(1);
    expect(pending.changes).toEqual([
      expect.objectContaining({
        messageId: payload['message_id'],
        status: 'DELIVRD',
        state: 'delivered',
        to: MASKED,
      }),
    ]);
    const stats = await get<Record<string, unknown>>(`${board}/api/stats`);
    expect(stats).toMatchObject({ pending: 1, handlerFailures: expect.any(Number), recentRefusals: [] });
    // The snapshot's fields, plus the store's pending count and each counted status's state (so
    // that the page colours the counts without a status list of its own).
    expect(Object.keys(stats).sort()).toEqual(
      [...Object.keys(running!.app.get(DeliveryReportStats).snapshot()), 'pending', 'stateByStatus'].sort(),
    );
    expect(stats['stateByStatus']).toEqual({ DELIVRD: 'delivered' });

    FlakyHandler.failing = false;
    const redispatch = await fetch(`${board}/api/pending/redispatch`, {
      method: 'POST',
      headers: { ...ADMIN, ...FROM_BOARD },
    });
    expect(redispatch.status).toBe(200);
    expect(await redispatch.json()).toEqual({ dispatched: 1 });
    expect(FlakyHandler.calls).toEqual([id, id]);
    expect(await get(`${board}/api/pending`)).toEqual({ count: 0, changes: [] });
    expect(await get(`${board}/api/stats`)).toMatchObject({ pending: 0 });
  });

  it('serves a custom path under a global prefix', async () => {
    const { board, baseUrl } = await start({ path: '/ops/deliveries/' }, { globalPrefix: 'admin' });
    expect(board).toBe(`${baseUrl}/admin/ops/deliveries`);
    expect((await fetch(board, { headers: ADMIN })).status).toBe(200);
    expect(await get(`${board}/api/pending`)).toEqual({ count: 0, changes: [] });
    expect((await fetch(`${baseUrl}/ops/deliveries`, { headers: ADMIN })).status).toBe(404);
  });

  it('answers any id with a clear status, never a 500', async () => {
    const { board } = await start();
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 120, unit: 'binary' }), async (id) => {
        const response = await fetch(`${board}/api/messages/${encodeURIComponent(id)}`, { headers: ADMIN });
        expect([200, 400, 404, 414]).toContain(response.status);
        if (response.status === 200) expect(await response.json()).toEqual({ messages: [] });
        else await response.arrayBuffer();
      }),
      { numRuns: 150 },
    );
  });

  it('takes a guard instance as well as a class', async () => {
    const { board } = await start({ guards: [new AdminGuard()] });
    expect((await fetch(`${board}/api/stats`)).status).toBe(401);
    expect((await fetch(`${board}/api/stats`, { headers: ADMIN })).status).toBe(200);
  });

  it('insecure: true serves the board without guards', async () => {
    const app = await startBoardApp(adapter, { secret: SECRET, board: { insecure: true } });
    running = app;
    expect((await fetch(`${app.baseUrl}/messente/board/api/stats`)).status).toBe(200);
  });
});

describeWithRedis('board API on the Redis store', () => {
  let redis: RedisServer;
  let running: TestApp | undefined;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis?.stop());
  afterEach(async () => {
    FlakyHandler.reset();
    await running?.close();
    running = undefined;
  });

  it('answers history, pending and redispatch from Redis', async () => {
    running = await startBoardApp('fastify', {
      secret: SECRET,
      board: { guards: [AdminGuard] },
      dlr: { store: new RedisDlrStore({ url: redis.url, keyPrefix: `board-${crypto.randomUUID()}:` }) },
    });
    const board = `${running.baseUrl}/messente/board`;
    const get = async (path: string) => {
      const response = await fetch(`${board}${path}`, { headers: ADMIN });
      expect(response.status).toBe(200);
      return response.json();
    };
    const payload = dlrPayload({ status: 'ACCEPTD', to: TO });
    for (const status of ['ACCEPTD', 'DELIVRD', 'ACK']) {
      expect((await postDlr(running.baseUrl, { ...payload, status }, { secret: SECRET })).status).toBe(200);
    }
    FlakyHandler.failing = true;
    expect((await postDlr(running.baseUrl, { ...payload, status: 'SEEN' }, { secret: SECRET })).status).toBe(
      200,
    );
    const byOmnimessage = await get(`/api/messages/${payload['omnimessage_id']}`);
    expect(
      byOmnimessage.messages[0].history.map(
        (entry: { status: string; outcome: string }) => `${entry.status}:${entry.outcome}`,
      ),
    ).toEqual(['ACCEPTD:change', 'DELIVRD:change', 'ACK:stale', 'SEEN:change']);
    expect(await get('/api/pending')).toMatchObject({ count: 1, changes: [{ status: 'SEEN', to: MASKED }] });
    expect(await get('/api/stats')).toMatchObject({ pending: 1 });
    FlakyHandler.failing = false;
    const redispatch = await fetch(`${board}/api/pending/redispatch`, {
      method: 'POST',
      headers: { ...ADMIN, ...FROM_BOARD },
    });
    expect(await redispatch.json()).toEqual({ dispatched: 1 });
    expect(await get('/api/pending')).toEqual({ count: 0, changes: [] });
  });
});

describe('board bootstrap', () => {
  it('refuses to start without guards unless insecure is set, naming `guards`', () => {
    expect(() => MessenteDlrBoardModule.forRoot()).toThrow(
      /MessenteDlrBoardModule: option `guards` is empty: the board shows delivery data/,
    );
    expect(() => MessenteDlrBoardModule.forRoot({ guards: [], insecure: false })).toThrow(/option `guards`/);
    expect(() => MessenteDlrBoardModule.forRoot({ guards: [AdminGuard], path: '/' })).toThrow(
      /option `path`/,
    );
  });

  it.each(ADAPTERS)('refuses to start on %s without MessenteDlrModule, naming it', async (adapter) => {
    await expect(
      startApp(adapter, { imports: [MessenteDlrBoardModule.forRoot({ guards: [AdminGuard] })] }),
    ).rejects.toThrow(/MessenteDlrBoardModule: option `MessenteDlrModule` is not imported/);
  });
});
