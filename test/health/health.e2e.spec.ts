import { Controller, Get, Injectable, Query } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { MessenteDlrHealthIndicator, type MessenteDlrHealthOptions } from '../../lib/health/index.js';
import {
  DeliveryStatusService,
  InMemoryDlrStore,
  MessenteDlrModule,
  OnDlrStatus,
  type DlrStore,
} from '../../lib/index.js';
import { RedisDlrStore } from '../../lib/redis/index.js';
import { buildSendAnswer, dlrPayload } from '../../lib/testing/index.js';
import { ADAPTERS, delay, postDlr, startApp, type TestApp } from '../support/app.js';
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
  check(
    @Query('maxPending') maxPending?: string,
    @Query('maxRefusalRatio') maxRefusalRatio?: string,
    @Query('silentForMs') silentForMs?: string,
  ) {
    const options: MessenteDlrHealthOptions = {};
    if (maxPending !== undefined) options.maxPending = Number(maxPending);
    if (maxRefusalRatio !== undefined) options.maxRefusalRatio = Number(maxRefusalRatio);
    if (silentForMs !== undefined) options.silentForMs = Number(silentForMs);
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
        error: {
          'messente-dlr': { status: 'down', condition: 'pending', store: 'up', pending: 2, maxPending: 1 },
        },
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
      body: { error: { 'messente-dlr': { status: 'down', condition: 'store', store: 'down' } } },
    });
    expect(health.ms).toBeGreaterThanOrEqual(1_900);
    expect(health.ms).toBeLessThan(2_900);
  });

  it('is down naming refusals when over 5 minutes at least 10 requests came and too many were refused', async () => {
    running = await startHealthApp(adapter);
    const { baseUrl } = running;
    const refused = () => postDlr(baseUrl, dlrPayload(), { secret: 'not-the-secret' });
    for (let i = 0; i < 9; i++) expect((await refused()).status).toBe(401);
    // Nine requests are too few to judge.
    expect((await getHealth(baseUrl, '?maxRefusalRatio=0.5')).status).toBe(200);
    expect((await refused()).status).toBe(401);
    expect(await getHealth(baseUrl, '?maxRefusalRatio=0.5')).toMatchObject({
      status: 503,
      body: {
        error: {
          'messente-dlr': {
            status: 'down',
            condition: 'refusals',
            store: 'up',
            requests: 10,
            refused: 10,
            refusalRatio: 1,
            maxRefusalRatio: 0.5,
            topRefusalReason: 'signature_invalid',
          },
        },
      },
    });
    // Not asked, not judged.
    expect((await getHealth(baseUrl)).status).toBe(200);
    for (let i = 0; i < 10; i++) {
      expect((await postDlr(baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
    }
    // 10 of 20 refused: 0.5 is not above 0.5, and is above 0.4.
    expect(await getHealth(baseUrl, '?maxRefusalRatio=0.5')).toMatchObject({
      status: 200,
      body: { info: { 'messente-dlr': { status: 'up', store: 'up' } } },
    });
    expect(await getHealth(baseUrl, '?maxRefusalRatio=0.4')).toMatchObject({
      status: 503,
      body: { error: { 'messente-dlr': { condition: 'refusals', refusalRatio: 0.5 } } },
    });
  });

  it('is down naming silence while a tracked send is pending and no report is accepted', async () => {
    running = await startHealthApp(adapter);
    const { baseUrl, app } = running;
    // Nothing tracked: no silence, however quiet.
    await delay(1_100);
    expect((await getHealth(baseUrl, '?silentForMs=1000')).status).toBe(200);
    const sent = buildSendAnswer({ channels: ['sms'] });
    await app.get(DeliveryStatusService).track(sent);
    // Just tracked, though the app has been quiet longer: a report is not due yet.
    expect((await getHealth(baseUrl, '?silentForMs=1000')).status).toBe(200);
    await delay(1_100);
    const silent = await getHealth(baseUrl, '?silentForMs=1000');
    expect(silent).toMatchObject({
      status: 503,
      body: {
        error: {
          'messente-dlr': { status: 'down', condition: 'silence', silentForMs: 1000, lastReportAt: null },
        },
      },
    });
    const detail = (silent.body['error'] as Record<string, { silentMs: number }>)['messente-dlr']!;
    expect(detail.silentMs).toBeGreaterThanOrEqual(1_000);
    expect((await getHealth(baseUrl, '?silentForMs=60000')).status).toBe(200);
    // A report for another message is accepted: the quiet ends, though the send is pending.
    expect((await postDlr(baseUrl, dlrPayload(), { secret: SECRET })).status).toBe(200);
    expect((await getHealth(baseUrl, '?silentForMs=1000')).status).toBe(200);
    await delay(1_100);
    const again = await getHealth(baseUrl, '?silentForMs=1000');
    expect(again).toMatchObject({
      status: 503,
      body: { error: { 'messente-dlr': { condition: 'silence' } } },
    });
    const report = dlrPayload({
      message_id: sent.messages[0]!.message_id,
      omnimessage_id: sent.omnimessage_id,
      channel: 'sms',
      status: 'DELIVRD',
    });
    expect((await postDlr(baseUrl, report, { secret: SECRET })).status).toBe(200);
    await delay(1_100);
    // Delivered: nothing pending, so the quiet after it is fine.
    expect((await getHealth(baseUrl, '?silentForMs=1000')).status).toBe(200);
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
