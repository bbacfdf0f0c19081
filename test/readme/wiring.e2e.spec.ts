// README.md and docs/ (board.md, stores.md, observability.md) quote ./wiring/*.ts (the board,
// the Redis and PostgreSQL stores, the health check): each module is imported after its
// environment is set, as an app's would be, and run.
import type { Type } from '@nestjs/common';
import { MessenteDlrModule } from 'nestjs-messente-dlr';
import { dlrPayload } from 'nestjs-messente-dlr/testing';
import { postDlr, startApp, type TestApp } from '../support/app.js';
import {
  describeWithPostgres,
  startPostgresServer,
  type PostgresServer,
} from '../support/postgres-server.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redis-server.js';

const secret = 'wiring-secret';
process.env['MESSENTE_API_PASSWORD'] = secret;
process.env['ADMIN_TOKEN'] = 'admin-token';

describe('README board module', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    const { AppModule } = await import('./wiring/board.module.js');
    testApp = await startApp('express', { imports: [AppModule] });
  });
  afterAll(() => testApp.close());

  it('serves the board to the admin only', async () => {
    expect((await fetch(`${testApp.baseUrl}/messente/board`)).status).toBe(403);
    const page = await fetch(`${testApp.baseUrl}/messente/board`, { headers: { 'x-admin': 'admin-token' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
  });
});

/** Records one signed report through the module and reads it back from the store's feed. */
async function recordsThrough(module: Type, statusesOf: (app: TestApp) => Promise<string[]>): Promise<void> {
  const testApp = await startApp('fastify', { imports: [module] });
  try {
    const report = dlrPayload({ status: 'DELIVRD' });
    const answer = await postDlr(testApp.baseUrl, report, { secret });
    expect(answer.body).toEqual({ outcome: 'change' });
    expect(await statusesOf(testApp)).toContain(String(report.message_id));
  } finally {
    await testApp.close();
  }
}

const recentIds = async (testApp: TestApp): Promise<string[]> => {
  const { DLR_STORE } = await import('nestjs-messente-dlr');
  const store = testApp.app.get<{
    recent(limit: number): Promise<{ messageId?: string; raw: Record<string, unknown> }[]>;
  }>(DLR_STORE);
  return (await store.recent(10)).map((report) => String(report.raw['message_id']));
};

describeWithRedis('README Redis store', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
    process.env['REDIS_URL'] = redis.url;
  });
  afterAll(() => redis.stop());

  it('records reports in Redis', async () => {
    const { RedisAppModule } = await import('./wiring/redis.module.js');
    await recordsThrough(RedisAppModule, recentIds);
  });
});

describeWithPostgres('README PostgreSQL store', () => {
  let postgres: PostgresServer;
  beforeAll(async () => {
    postgres = await startPostgresServer();
    process.env['DATABASE_URL'] = postgres.url;
  });
  afterAll(() => postgres.stop());

  it('records reports in PostgreSQL', async () => {
    const { PostgresAppModule } = await import('./wiring/postgres.module.js');
    await recordsThrough(PostgresAppModule, recentIds);
  });
});

describe('README health check', () => {
  it('answers up with the store and the pending count', async () => {
    const { HealthModule } = await import('./wiring/health.module.js');
    const testApp = await startApp('express', {
      imports: [MessenteDlrModule.forRoot({ signatureSecrets: [secret], isGlobal: true }), HealthModule],
    });
    try {
      const response = await fetch(`${testApp.baseUrl}/health`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        status: 'ok',
        info: { 'messente-dlr': { status: 'up', store: 'up', pending: 0 } },
      });
    } finally {
      await testApp.close();
    }
  });
});
