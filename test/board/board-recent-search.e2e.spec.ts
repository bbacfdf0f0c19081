import { InMemoryDlrStore } from '../../lib/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, postDlr, type TestApp } from '../support/app.js';
import { ADMIN, AdminGuard, FlakyHandler, startBoardApp } from '../support/board-app.js';
import { openSse } from '../support/sse.js';

const SECRET = 'board-recent-secret';
const TO = '+3725555555';
const MASKED = '+372*****55';

type Messages = {
  messages: {
    messageId: string;
    history: { status: string; outcome: string; state: string; raw: Record<string, unknown> }[];
  }[];
};

/** A store that cannot answer the board's reads, as a store that is down. */
class DownForReads extends InMemoryDlrStore {
  override recent(): never {
    throw new Error('connection refused');
  }
  override search(): Promise<string[]> {
    return Promise.reject(new Error('connection refused'));
  }
}

describe.each(ADAPTERS)('board recent changes and search on %s', (adapter) => {
  let running: TestApp | undefined;
  afterEach(async () => {
    FlakyHandler.reset();
    await running?.close();
    running = undefined;
  });

  async function start(store?: InMemoryDlrStore) {
    running = await startBoardApp(adapter, {
      secret: SECRET,
      board: { guards: [AdminGuard] },
      dlr: store ? { store } : {},
    });
    const board = `${running.baseUrl}/messente/board/api`;
    const post = async (body: Record<string, unknown>) =>
      expect((await postDlr(running!.baseUrl, body, { secret: SECRET })).status).toBe(200);
    const get = (path: string) => fetch(`${board}/${path}`, { headers: ADMIN });
    const json = async <T>(path: string): Promise<T> => {
      const response = await get(path);
      expect([path, response.status]).toEqual([path, 200]);
      return (await response.json()) as T;
    };
    const search = (q: string) => json<Messages>(`search?q=${encodeURIComponent(q)}`);
    return { board, post, get, json, search };
  }

  it("answers the store's latest changes newest first, each exactly as the live stream sent it", async () => {
    const { board, post, json } = await start();
    const stream = await openSse(`${board}/changes`, ADMIN);
    try {
      const first = dlrPayload({ status: 'ACCEPTD', to: TO });
      const second = dlrPayload({ status: 'FAILED', err: 1, error: 'Delivery failure' });
      await post(first);
      await post(second);
      await post({ ...first, status: 'DELIVRD' });
      await post({ ...first, status: 'DELIVRD' }); // a duplicate: no change
      await post({ ...first, status: 'ACK' }); // stale: history only, no change
      const streamed = [];
      for (let i = 0; i < 3; i++) streamed.push(JSON.parse((await stream.next()).data));
      const recent = await json<{ changes: unknown[] }>('recent');
      expect(Object.keys(recent)).toEqual(['changes']);
      expect(recent.changes).toEqual(streamed.reverse());
      expect(recent.changes[0]).toMatchObject({ status: 'DELIVRD', previousStatus: 'ACCEPTD', to: MASKED });
      expect(await json('recent?limit=1')).toEqual({ changes: recent.changes.slice(0, 1) });
      expect(await json('recent?limit=500')).toEqual(recent);
    } finally {
      stream.close();
    }
  });

  it('answers 50 changes when no limit is given', async () => {
    const { post, json } = await start();
    const bodies = Array.from({ length: 51 }, () => dlrPayload());
    for (const body of bodies) await post(body);
    const recent = await json<{ changes: { messageId: string }[] }>('recent');
    expect(recent.changes.map((change) => change.messageId)).toEqual(
      bodies
        .slice(1)
        .reverse()
        .map((body) => body['message_id']),
    );
  });

  it.each([
    ...['0', '501', '-1', '1.5', 'abc', '', '1e2', '0x10', '%205', '5%20', '05000'].map((v) => `limit=${v}`),
    'limit=1&limit=2',
  ])('refuses recent?%s with 400 naming limit', async (query) => {
    const { get } = await start();
    const answer = await get(`recent?${query}`);
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { message: string }).message).toMatch(/limit must be a whole number/);
  });

  it('finds messages by id, by 8-character prefix, by omnimessage id and by phone number, masked', async () => {
    const { post, search } = await start();
    const sms = dlrPayload({ status: 'ACCEPTD', to: TO });
    const viber = dlrPayload({ omnimessage_id: sms['omnimessage_id'], channel: 'viber', to: TO });
    const other = dlrPayload({ to: '+3726666666' });
    for (const body of [sms, { ...sms, status: 'DELIVRD' }, { ...sms, status: 'ACK' }, viber, other]) {
      await post(body);
    }
    const ids = (answer: Messages) => answer.messages.map((message) => message.messageId);

    const byId = await search(String(sms['message_id']));
    expect(ids(byId)).toEqual([sms['message_id']]);
    expect(byId.messages[0]!.history.map((entry) => `${entry.status}:${entry.outcome}`)).toEqual([
      'ACCEPTD:change',
      'DELIVRD:change',
      'ACK:stale',
    ]);
    expect(byId.messages[0]!.history.map((entry) => entry.state)).toEqual([
      'in progress',
      'delivered',
      'in progress',
    ]);
    expect(byId.messages[0]!.history.map((entry) => entry.raw['to'])).toEqual([MASKED, MASKED, MASKED]);

    expect(ids(await search(String(sms['message_id']).slice(0, 8)))).toEqual([sms['message_id']]);
    // Newest first: the viber message's report came last.
    expect(ids(await search(String(sms['omnimessage_id'])))).toEqual([
      viber['message_id'],
      sms['message_id'],
    ]);
    expect(ids(await search(String(sms['omnimessage_id']).slice(0, 8)))).toEqual([
      viber['message_id'],
      sms['message_id'],
    ]);
    const byPhone = await search(TO);
    expect(ids(byPhone)).toEqual([viber['message_id'], sms['message_id']]);
    expect(JSON.stringify(byPhone)).not.toContain(TO);
    expect(await search(String(sms['message_id']).slice(0, 7))).toEqual({ messages: [] });
    expect(await search('nothing-known')).toEqual({ messages: [] });
  });

  it('answers at most 50 messages, newest first', async () => {
    const { post, search } = await start();
    const bodies = Array.from({ length: 52 }, () => dlrPayload({ to: TO }));
    for (const body of bodies) await post(body);
    const found = await search(TO);
    expect(found.messages.map((message) => message.messageId)).toEqual(
      bodies
        .slice(2)
        .reverse()
        .map((body) => body['message_id']),
    );
  });

  it('finds ids of up to 255 characters, whatever characters they hold', async () => {
    const { post, search, json } = await start();
    const head = 'ÄÖ /?#&%+=;"<>\\ \u00e9 ';
    const id = head + 'x'.repeat(255 - head.length);
    const omnimessageId = `omni ${'y'.repeat(250)}`;
    expect([...id]).toHaveLength(255);
    await post(dlrPayload({ message_id: id, omnimessage_id: omnimessageId }));
    expect((await search(id)).messages.map((message) => message.messageId)).toEqual([id]);
    expect((await search(omnimessageId)).messages.map((message) => message.messageId)).toEqual([id]);
    expect(
      (await json<{ changes: { messageId: string }[] }>('recent')).changes.map((change) => change.messageId),
    ).toEqual([id]);
  });

  it.each([
    ['no q', 'search', /q is required/],
    ['an empty q', 'search?q=', /q is required/],
    ['a repeated q', 'search?q=abcdefgh&q=abcdefgh', /q is required/],
    ['a q of 256 characters', `search?q=${'x'.repeat(256)}`, /q must be at most 255 characters/],
  ])('answers %s with 400 and a clear message', async (_, path, message) => {
    const { get } = await start();
    const answer = await get(path);
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { message: string }).message).toMatch(message);
  });

  it('answers 503, never a 500, when the store cannot be read', async () => {
    const { get } = await start(new DownForReads());
    for (const path of ['recent', 'search?q=abcdefgh']) {
      const answer = await get(path);
      expect([path, answer.status]).toEqual([path, 503]);
      expect(((await answer.json()) as { message: string }).message).toMatch(/store is unavailable/);
    }
  });
});
