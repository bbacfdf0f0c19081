import type { DlrStore, MessenteDlrModuleOptions } from '../../lib/index.js';
import { RedisDlrStore } from '../../lib/redis/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, postDlr, type AdapterName, type TestApp } from '../support/app.js';
import { ADMIN, AdminGuard, FlakyHandler, startBoardApp } from '../support/board-app.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redis-server.js';
import { openSse } from '../support/sse.js';

const SECRETS = { 'shop-ee': 'ee-secret', 'shop-lv': 'lv-secret' } as const;
type Account = keyof typeof SECRETS;

/** Two accounts, each with its own secret; the top-level secret of the test app is replaced. */
const ACCOUNTS: MessenteDlrModuleOptions = {
  signatureSecrets: undefined,
  accounts: [
    { id: 'shop-ee', signatureSecrets: [SECRETS['shop-ee']] },
    { id: 'shop-lv', signatureSecrets: [SECRETS['shop-lv']] },
  ],
};

/**
 * The board of an app with `accounts`: each report's account (the one whose secret verified it)
 * is on the live stream, `api/recent`, `api/pending`, `api/messages/:id` and `api/search`.
 */
function checksAccounts(adapter: AdapterName, store: () => DlrStore | undefined) {
  let running: TestApp | undefined;
  afterEach(async () => {
    FlakyHandler.reset();
    await running?.close();
    running = undefined;
  });

  it('carries the account of each report on every answer', async () => {
    const dlrStore = store();
    running = await startBoardApp(adapter, {
      secret: 'unused',
      board: { guards: [AdminGuard] },
      dlr: { ...ACCOUNTS, ...(dlrStore ? { store: dlrStore } : {}) },
    });
    const { baseUrl } = running;
    const board = `${baseUrl}/messente/board`;
    const get = async <T>(path: string): Promise<T> => {
      const response = await fetch(`${board}${path}`, { headers: ADMIN });
      expect(response.status).toBe(200);
      return (await response.json()) as T;
    };
    const post = async (body: Record<string, unknown>, account: Account) =>
      (await postDlr(baseUrl, body, { secret: SECRETS[account] })).status;

    const stream = await openSse(`${board}/api/changes`, ADMIN);
    const ee = dlrPayload({ status: 'ACCEPTD' });
    const lv = dlrPayload({ status: 'DELIVRD' });
    try {
      expect(await post(ee, 'shop-ee')).toBe(200);
      expect(JSON.parse((await stream.next()).data)).toMatchObject({
        messageId: ee['message_id'],
        account: 'shop-ee',
      });
      expect(await post(lv, 'shop-lv')).toBe(200);
      expect(JSON.parse((await stream.next()).data)).toMatchObject({
        messageId: lv['message_id'],
        account: 'shop-lv',
      });
    } finally {
      stream.close();
    }
    FlakyHandler.failing = true;
    expect(await post({ ...ee, status: 'DELIVRD' }, 'shop-ee')).toBe(200);

    type Change = { messageId: string; status: string; account?: string };
    const recent = await get<{ changes: Change[] }>('/api/recent');
    expect(recent.changes.map((change) => [change.messageId, change.status, change.account])).toEqual([
      [ee['message_id'], 'DELIVRD', 'shop-ee'],
      [lv['message_id'], 'DELIVRD', 'shop-lv'],
      [ee['message_id'], 'ACCEPTD', 'shop-ee'],
    ]);
    const pending = await get<{ changes: Change[] }>('/api/pending');
    expect(pending.changes).toEqual([
      expect.objectContaining({ messageId: ee['message_id'], status: 'DELIVRD', account: 'shop-ee' }),
    ]);

    type Messages = { messages: { messageId: string; history: { status: string; account?: string }[] }[] };
    const history = (answer: Messages) =>
      answer.messages.map((message) => message.history.map((entry) => `${entry.status}:${entry.account}`));
    expect(history(await get<Messages>(`/api/messages/${String(ee['message_id'])}`))).toEqual([
      ['ACCEPTD:shop-ee', 'DELIVRD:shop-ee'],
    ]);
    expect(history(await get<Messages>(`/api/messages/${String(lv['omnimessage_id'])}`))).toEqual([
      ['DELIVRD:shop-lv'],
    ]);
    expect(history(await get<Messages>(`/api/search?q=${String(lv['message_id'])}`))).toEqual([
      ['DELIVRD:shop-lv'],
    ]);
  });

  it('leaves `account` out of every answer of an app without accounts', async () => {
    const dlrStore = store();
    running = await startBoardApp(adapter, {
      secret: 'plain-secret',
      board: { guards: [AdminGuard] },
      dlr: dlrStore ? { store: dlrStore } : {},
    });
    const payload = dlrPayload({ status: 'DELIVRD' });
    expect((await postDlr(running.baseUrl, payload, { secret: 'plain-secret' })).status).toBe(200);
    const board = `${running.baseUrl}/messente/board`;
    const recent = await (await fetch(`${board}/api/recent`, { headers: ADMIN })).json();
    expect(recent.changes).toHaveLength(1);
    expect(recent.changes[0]).not.toHaveProperty('account');
    const messages = await (
      await fetch(`${board}/api/messages/${String(payload['message_id'])}`, { headers: ADMIN })
    ).json();
    expect(messages.messages[0].history[0]).not.toHaveProperty('account');
  });
}

describe.each(ADAPTERS)('board with several accounts on %s (in memory)', (adapter) => {
  checksAccounts(adapter, () => undefined);
});

describeWithRedis('board with several accounts on the Redis store', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis?.stop());

  checksAccounts(
    'fastify',
    () => new RedisDlrStore({ url: redis.url, keyPrefix: `board-accounts-${crypto.randomUUID()}:` }),
  );
});
