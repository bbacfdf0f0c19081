import { Redis } from 'ioredis';
import { Pool } from 'pg';
import {
  DeliveryReportStats,
  DeliveryStatusService,
  InMemoryDlrStore,
  MessenteDlrModule,
  type DlrStore,
} from '../../lib/index.js';
import { PostgresDlrStore } from '../../lib/postgres/index.js';
import { RedisDlrStore } from '../../lib/redis/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { MAX_DLR_BODY_DEPTH } from '../../lib/utils/nesting-depth.js';
import { ADAPTERS, postDlr, startApp, type TestApp } from '../support/app.js';
import {
  describeWithPostgres,
  startPostgresServer,
  type PostgresServer,
} from '../support/postgres-server.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redis-server.js';

const SECRET = 'nesting-secret';

/** A store to test with, and how to get one per app. */
interface Subject {
  readonly name: string;
  readonly describe: (name: string, fn: () => void) => void;
  setup(): { create(): DlrStore };
}

const inMemory: Subject = {
  name: 'the in-memory store',
  describe,
  setup: () => ({ create: () => new InMemoryDlrStore() }),
};

const redis: Subject = {
  name: 'the Redis store',
  describe: describeWithRedis,
  setup() {
    let server: RedisServer;
    let client: Redis;
    let apps = 0;
    beforeAll(async () => {
      server = await startRedisServer();
      client = new Redis(server.url);
    });
    afterAll(async () => {
      await client.quit();
      await server.stop();
    });
    return { create: () => new RedisDlrStore({ client, keyPrefix: `nesting-${++apps}:` }) };
  },
};

const postgres: Subject = {
  name: 'the PostgreSQL store',
  describe: describeWithPostgres,
  setup() {
    let server: PostgresServer;
    let pool: Pool;
    let apps = 0;
    beforeAll(async () => {
      server = await startPostgresServer();
      pool = new Pool({ connectionString: server.url });
    });
    afterAll(async () => {
      await pool.end();
      await server.stop();
    });
    return {
      create: () => new PostgresDlrStore({ pool, schema: `nesting_${++apps}`, pruneIntervalMs: 0 }),
    };
  },
};

/**
 * A signed-to-be report whose body nests `depth` levels (the body itself is level 1): its
 * `deep` field alternates arrays and objects down to a number. Built as text, since
 * `JSON.stringify` cannot serialise thousands of levels.
 */
function nestedReport(depth: number): { raw: string; messageId: string } {
  const payload = dlrPayload();
  const levels = depth - 1;
  let opening = '';
  let closing = '';
  for (let level = 0; level < levels; level++) {
    opening += level % 2 === 0 ? '[' : '{"n":';
    closing = (level % 2 === 0 ? ']' : '}') + closing;
  }
  const raw = `${JSON.stringify(payload).slice(0, -1)},"deep":${opening}0${closing}}`;
  return { raw, messageId: payload['message_id'] as string };
}

for (const subject of [inMemory, redis, postgres]) {
  subject.describe(`nesting limit with ${subject.name}`, () => {
    const stores = subject.setup();

    describe.each(ADAPTERS)('on %s', (adapter) => {
      let running: TestApp | undefined;
      afterEach(async () => {
        await running?.close();
        running = undefined;
      });

      it(`refuses bodies deeper than ${MAX_DLR_BODY_DEPTH} levels with 400 invalid_body, records nothing, and keeps answering`, async () => {
        running = await startApp(adapter, {
          imports: [
            MessenteDlrModule.forRoot({
              signatureSecrets: [SECRET],
              allowedIps: ['127.0.0.1'],
              store: stores.create(),
            }),
          ],
        });
        const { app, baseUrl } = running;
        const statuses = app.get(DeliveryStatusService);

        const refused = [nestedReport(33), nestedReport(5_000)];
        for (const { raw, messageId } of refused) {
          const answer = await postDlr(baseUrl, raw, { secret: SECRET });
          expect(answer.status).toBe(400);
          expect(answer.body).toMatchObject({ message: ['body must not nest deeper than 32 levels'] });
          expect(await statuses.history(messageId)).toEqual([]);
          expect(await statuses.latest(messageId)).toBeNull();
        }
        expect(app.get(DeliveryReportStats).snapshot().requests).toEqual({
          accepted: 0,
          refused: { invalid_body: 2 },
        });

        // The store still answers, and takes a body exactly at the limit, readable back.
        const atLimit = nestedReport(32);
        const answer = await postDlr(baseUrl, atLimit.raw, { secret: SECRET });
        expect([answer.status, answer.body]).toEqual([200, { outcome: 'change' }]);
        const history = await statuses.history(atLimit.messageId);
        expect(history).toHaveLength(1);
        expect(history[0]!.raw).toEqual(JSON.parse(atLimit.raw));
        expect((await statuses.latest(atLimit.messageId))?.raw).toEqual(JSON.parse(atLimit.raw));
        for (let i = 0; i < 3; i++) {
          expect((await postDlr(baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
        }
        expect(app.get(DeliveryReportStats).snapshot().requests).toEqual({
          accepted: 4,
          refused: { invalid_body: 2 },
        });
      });
    });
  });
}
