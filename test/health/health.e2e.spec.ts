import { Controller, Get, Injectable, Query } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { MessenteDlrHealthIndicator } from '../../lib/health/index.js';
import { InMemoryDlrStore, MessenteDlrModule, OnDlrStatus, type DlrStore } from '../../lib/index.js';
import { RedisDlrStore } from '../../lib/redis/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, postDlr, startApp, type TestApp } from '../support/app.js';
import { describeWithRedis, startRedisServer } from '../support/redis-server.js';

const SECRET = 'health-secret';

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly dlr: MessenteDlrHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(@Query('maxPending') maxPending?: string) {
    const options = maxPending === undefined ? {} : { maxPending: Number(maxPending) };
    return this.health.check([() => this.dlr.isHealthy('messente-dlr', options)]);
  }
}

@Injectable()
class FailingHandler {
  @OnDlrStatus('FAILED') on(): void {
    throw new Error('always');
  }
}

/** A store whose `ping()` never answers. */
class HangingStore extends InMemoryDlrStore {
  override ping(): Promise<void> {
    return new Promise(() => undefined);
  }
}

/** A store that answers `ping()` but whose `countPending()` never answers. */
class CountHangingStore extends InMemoryDlrStore {
  override countPending(): Promise<number> {
    return new Promise(() => undefined);
  }
}

async function getHealth(baseUrl: string, query = '') {
  const started = Date.now();
  // Bounded, so that a check without a deadline fails here rather than hanging the suite.
  const response = await fetch(`${baseUrl}/health${query}`, { signal: AbortSignal.timeout(10_000) });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    ms: Date.now() - started,
  };
}

function startHealthApp(adapter: (typeof ADAPTERS)[number], store?: DlrStore): Promise<TestApp> {
  return startApp(adapter, {
    imports: [
      MessenteDlrModule.forRoot({ signatureSecrets: [SECRET], allowedIps: false, store, handlerAttempts: 1 }),
      TerminusModule,
    ],
    controllers: [HealthController],
    providers: [MessenteDlrHealthIndicator, FailingHandler],
  });
}

describe.each(ADAPTERS)('MessenteDlrHealthIndicator on %s', (adapter) => {
  let running: TestApp | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('is up with the pending count, and down above maxPending', async () => {
    running = await startHealthApp(adapter);
    const { baseUrl } = running;
    expect(await getHealth(baseUrl)).toMatchObject({
      status: 200,
      body: { status: 'ok', info: { 'messente-dlr': { status: 'up', store: 'up', pending: 0 } } },
    });
    for (let i = 0; i < 2; i++) await postDlr(baseUrl, dlrPayload({ status: 'FAILED' }), { secret: SECRET });
    let last = await getHealth(baseUrl, '?maxPending=1');
    for (let tries = 0; tries < 50 && last.status === 200; tries++)
      last = await getHealth(baseUrl, '?maxPending=1');
    expect(last).toMatchObject({
      status: 503,
      body: {
        status: 'error',
        error: { 'messente-dlr': { status: 'down', store: 'up', pending: 2, maxPending: 1 } },
      },
    });
    expect(await getHealth(baseUrl, '?maxPending=2')).toMatchObject({
      status: 200,
      body: { info: { 'messente-dlr': { status: 'up', pending: 2 } } },
    });
  });

  it('is down, within 2 s, when the store does not answer', async () => {
    running = await startHealthApp(adapter, new HangingStore());
    const health = await getHealth(running.baseUrl);
    expect(health).toMatchObject({
      status: 503,
      body: { error: { 'messente-dlr': { status: 'down', store: 'down' } } },
    });
    expect(health.ms).toBeGreaterThanOrEqual(1_900);
    expect(health.ms).toBeLessThan(2_900);
  });

  it('is down, naming countPending(), when the store answers ping() but never counts', async () => {
    running = await startHealthApp(adapter, new CountHangingStore());
    const health = await getHealth(running.baseUrl);
    expect(health).toMatchObject({
      status: 503,
      body: {
        error: {
          'messente-dlr': {
            status: 'down',
            store: 'down',
            message: 'the store did not answer countPending() within 2000 ms',
          },
        },
      },
    });
  });
});

describeWithRedis('MessenteDlrHealthIndicator with Redis', () => {
  it('is down within 2 s while Redis is stopped, and up again after it restarts', async () => {
    const redis = await startRedisServer();
    const store = new RedisDlrStore({ url: redis.url });
    const running = await startHealthApp('fastify', store);
    try {
      expect((await getHealth(running.baseUrl)).status).toBe(200);
      await redis.stop();
      const down = await getHealth(running.baseUrl);
      expect(down).toMatchObject({ status: 503, body: { error: { 'messente-dlr': { store: 'down' } } } });
      expect(down.ms).toBeLessThan(2_500);
      await redis.restart();
      let up = await getHealth(running.baseUrl);
      for (let tries = 0; tries < 100 && up.status !== 200; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        up = await getHealth(running.baseUrl);
      }
      expect(up.status).toBe(200);
    } finally {
      await running.close();
      await store.close();
      await redis.stop();
    }
  });
});
