import { Pool } from 'pg';
import type { DlrStore } from '../../lib/index.js';
import { PostgresDlrStore } from '../../lib/postgres/index.js';
import { RedisDlrStore } from '../../lib/redis/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, postDlr, type TestApp } from '../support/app.js';
import { ADMIN, AdminGuard, FlakyHandler, startBoardApp } from '../support/board-app.js';
import {
  describeWithPostgres,
  startPostgresServer,
  type PostgresServer,
} from '../support/postgres-server.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redis-server.js';

const SECRET = 'board-stores-secret';
const TO = '+3725555555';
const MASKED = '+372*****55';

type Messages = {
  messages: { messageId: string; history: { status: string; raw: Record<string, unknown> }[] }[];
};

/**
 * The board's feed and search on a shared store, through both adapters: what one instance
 * recorded, another one's board lists and finds, ids of 255 characters of any kind included.
 */
function boardOnSharedStore(createStore: () => DlrStore): void {
  let apps: TestApp[] = [];
  afterEach(async () => {
    FlakyHandler.reset();
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
  });

  it.each(ADAPTERS)(
    'answers recent and search from the shared store, whichever instance recorded it (%s)',
    async (adapter) => {
      const store = createStore();
      const start = async (name: (typeof ADAPTERS)[number]) => {
        const app = await startBoardApp(name, {
          secret: SECRET,
          board: { guards: [AdminGuard] },
          dlr: { store },
        });
        apps.push(app);
        return app;
      };
      // The instance that receives the reports, and the one whose board is read.
      const intake = await start(adapter === 'express' ? 'fastify' : 'express');
      const board = await start(adapter);
      const get = async <T>(path: string): Promise<T> => {
        const response = await fetch(`${board.baseUrl}/messente/board/api/${path}`, { headers: ADMIN });
        expect([path.slice(0, 40), response.status]).toEqual([path.slice(0, 40), 200]);
        return (await response.json()) as T;
      };
      const search = async (q: string) =>
        (await get<Messages>(`search?q=${encodeURIComponent(q)}`)).messages.map(
          (message) => message.messageId,
        );

      const head = `${crypto.randomUUID()} ÄÖ /?#&%+=;"<>\\ \u00e9 `;
      const longId = head + 'x'.repeat(255 - head.length);
      const sms = dlrPayload({ status: 'ACCEPTD', to: TO });
      const viber = dlrPayload({
        omnimessage_id: sms['omnimessage_id'],
        message_id: longId,
        channel: 'viber',
        to: TO,
      });
      for (const body of [sms, { ...sms, status: 'DELIVRD' }, viber]) {
        expect((await postDlr(intake.baseUrl, body, { secret: SECRET })).status).toBe(200);
      }

      const recent = await get<{ changes: { messageId: string; status: string; to: string }[] }>(
        'recent?limit=3',
      );
      expect(recent.changes.map((change) => `${change.messageId}:${change.status}`)).toEqual([
        `${longId}:DELIVRD`,
        `${String(sms['message_id'])}:DELIVRD`,
        `${String(sms['message_id'])}:ACCEPTD`,
      ]);
      expect(recent.changes.map((change) => change.to)).toEqual([MASKED, MASKED, MASKED]);

      expect(await search(longId)).toEqual([longId]);
      expect(await search(String(sms['message_id']).slice(0, 8))).toEqual([sms['message_id']]);
      expect(await search(longId.slice(0, 8))).toEqual([longId]);
      expect(await search(String(sms['omnimessage_id']))).toEqual([longId, sms['message_id']]);
      expect(await search(TO)).toEqual(expect.arrayContaining([longId, sms['message_id']]));
      const history = await get<Messages>(`search?q=${encodeURIComponent(String(sms['message_id']))}`);
      expect(history.messages[0]!.history.map((entry) => [entry.status, entry.raw['to']])).toEqual([
        ['ACCEPTD', MASKED],
        ['DELIVRD', MASKED],
      ]);
    },
  );
}

describeWithRedis('the board on the Redis store', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis?.stop());
  boardOnSharedStore(() => new RedisDlrStore({ url: redis.url, keyPrefix: `board-${crypto.randomUUID()}:` }));
});

describeWithPostgres('the board on the PostgreSQL store', () => {
  let server: PostgresServer;
  let pool: Pool;
  let schemas = 0;
  beforeAll(async () => {
    server = await startPostgresServer();
    pool = new Pool({ connectionString: server.url });
  });
  afterAll(async () => {
    await pool?.end();
    await server?.stop();
  });
  boardOnSharedStore(() => new PostgresDlrStore({ pool, schema: `board_${++schemas}`, pruneIntervalMs: 0 }));
});
