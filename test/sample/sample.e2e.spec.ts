import { createSampleApp } from '../../sample/create-sample-app.js';
import { readSampleConfig } from '../../sample/sample-config.js';
import { simulate } from '../../sample/simulate.js';
import { builtCli } from '../support/cli.js';
import { describeWithPostgres, startPostgresServer } from '../support/postgres-server.js';
import { describeWithRedis, startRedisServer } from '../support/redis-server.js';

/**
 * Boots the sample as `npm start` does, runs the simulator (`messente-dlr scenario`, the
 * built bin as a child process) against it, and returns its tables.
 */
async function runSample(env: NodeJS.ProcessEnv) {
  const config = readSampleConfig({ PORT: '0', ...env });
  const app = await createSampleApp(config, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  try {
    return await simulate(`http://127.0.0.1:${port}`, config.secret, {
      cli: [process.execPath, await builtCli()],
    });
  } finally {
    await app.close();
  }
}

function expectSimulation({
  sent,
  now,
  outcomes,
  traffic,
  delivery,
  counters,
  ok,
}: Awaited<ReturnType<typeof runSample>>) {
  expect(ok).toBe(true);
  // Each send the simulation tracked through POST /messages, as GET /outcomes/:ref says it ended.
  expect(outcomes.map((row) => `${row[2]}: ${row[3]} via ${row[4]} (${row[5]})`)).toEqual([
    'viber > sms: delivered via viber (-, expired)',
    'sms: failed via - (delivery_failure)',
    'sms: failed via - (invalid_number)',
    'whatsapp: delivered via whatsapp (-)',
  ]);
  expect(sent.map((row) => `${row[4]} ${row[5]} -> ${row[6]}`)).toEqual([
    'ACCEPTD  -> 200 change',
    'DELIVRD  -> 200 change',
    'DELIVRD duplicate -> 200 duplicate',
    'SEEN  -> 200 change',
    'ACCEPTD  -> 200 change',
    'EXPIRED err 2 -> 200 change',
    'ACCEPTD  -> 200 change',
    'FAILED err 1 -> 200 change',
    'FAILED duplicate -> 200 duplicate',
    'UNDELIV err 3 -> 200 change',
    'DELIVRD arrives first -> 200 change',
    'ACCEPTD out of order -> 200 stale',
    'SEEN unsigned -> 401',
    'SEEN from 203.0.113.9 (XFF) -> 403',
  ]);
  expect(now.map((row) => `${row[2]} ${row[3]} after ${row[4]}, err ${row[5]}`)).toEqual([
    'viber SEEN after DELIVRD, err 0',
    'sms EXPIRED after ACCEPTD, err 2',
    'sms FAILED after ACCEPTD, err 1',
    'sms UNDELIV after -, err 3',
    'whatsapp DELIVRD after -, err 0',
  ]);
  // The traffic (sample/traffic.ts): every send tracked, and what became of it.
  expect(traffic.map((row) => `${row[0]} ${row[2]}: ${row[3]} via ${row[4]} (${row[5]})`)).toEqual([
    'sample-traffic-01 sms: delivered via sms (-)',
    'sample-traffic-02 viber: delivered via viber (-)',
    'sample-traffic-03 viber > sms: delivered via sms (expired, -)',
    'sample-traffic-04 sms: pending via - (-)',
    'sample-traffic-05 sms: delivered via sms (-)',
    'sample-traffic-06 whatsapp: delivered via whatsapp (-)',
    'sample-traffic-07 sms: failed via - (delivery_failure)',
    'sample-traffic-08 viber > sms: delivered via sms (delivery_failure, -)',
    'sample-traffic-09 sms: delivered via sms (-)',
    'sample-traffic-10 rcs: delivered via rcs (-)',
    'sample-traffic-11 sms: failed via - (invalid_number)',
    'sample-traffic-12 sms: delivered via sms (-)',
    'sample-traffic-13 whatsapp > sms: delivered via sms (temporary_error, -)',
    'sample-traffic-14 viber > sms: pending via - (-, -)',
    'sample-traffic-15 sms: delivered via sms (-)',
    'sample-traffic-16 rcs > sms: delivered via sms (expired, -)',
    'sample-traffic-17 sms: failed via - (temporary_error)',
    'sample-traffic-18 whatsapp: delivered via whatsapp (-)',
    'sample-traffic-19 sms: delivered via sms (-)',
    'sample-traffic-20 sms: failed via - (account_not_credited)',
    'sample-traffic-21 sms: delivered via sms (-)',
    'sample-traffic-22 rcs: delivered via rcs (-)',
    'sample-traffic-23 sms: pending via - (-)',
    'sample-traffic-24 viber > sms: failed via - (delivery_failure, invalid_number)',
  ]);
  // The Delivery panel for the last hour: every channel and country of the traffic, messages
  // delivered, failed and pending in each, and times to deliver from seconds to minutes.
  const panel = (by: string) =>
    delivery
      .filter((row) => row[0] === by)
      .map((row) => `${row[1]}: ${row[2]} delivered, ${row[3]} failed, ${row[4]} pending`)
      .sort();
  expect(panel('channel')).toEqual([
    'rcs: 2 delivered, 1 failed, 0 pending',
    'sms: 11 delivered, 8 failed, 3 pending',
    'viber: 2 delivered, 3 failed, 1 pending',
    'whatsapp: 3 delivered, 1 failed, 0 pending',
  ]);
  expect(panel('country')).toEqual([
    'DE: 2 delivered, 1 failed, 0 pending',
    'EE: 5 delivered, 4 failed, 1 pending',
    'FI: 2 delivered, 1 failed, 2 pending',
    'GB: 2 delivered, 2 failed, 0 pending',
    'LT: 3 delivered, 2 failed, 0 pending',
    'LV: 2 delivered, 1 failed, 0 pending',
    'US: 2 delivered, 2 failed, 1 pending',
  ]);
  const seconds = (column: number) => delivery.map((row) => Number.parseFloat(row[column]!));
  expect(Math.min(...seconds(6))).toBeLessThanOrEqual(10);
  expect(Math.max(...seconds(7))).toBeGreaterThanOrEqual(300);
  // What this run added to the sample's OpenTelemetry counters, as GET /metrics shows them.
  // Outcomes are counted by channel and country too: summed here by result.
  const outcomeCounts: Record<string, number> = {};
  for (const [name, labels, , added] of counters) {
    if (name !== 'messente_dlr_outcomes_total') continue;
    const result = /messente_dlr_outcome_result="(\w+)"/.exec(labels!)?.[1] ?? '?';
    outcomeCounts[result] = (outcomeCounts[result] ?? 0) + Number(added);
  }
  expect(outcomeCounts).toEqual({ delivered: 18, failed: 7 });
  const added = Object.fromEntries(
    counters
      .filter((row) => row[3] !== '' && row[0] !== 'messente_dlr_outcomes_total')
      .map((row) => [`${row[0]}{${row[1]}}`, row[3]]),
  );
  expect(added).toEqual({
    'messente_dlr_webhook_requests_total{messente_dlr_webhook_result="accepted"}': '+70',
    'messente_dlr_webhook_requests_total{messente_dlr_webhook_result="refused",error_type="signature_missing"}':
      '+1',
    'messente_dlr_webhook_requests_total{messente_dlr_webhook_result="refused",error_type="ip_not_allowed"}':
      '+1',
    'messente_dlr_reports_total{messente_dlr_outcome="change",messente_dlr_status="ACCEPTD"}': '+32',
    'messente_dlr_reports_total{messente_dlr_outcome="change",messente_dlr_status="DELIVRD"}': '+16',
    'messente_dlr_reports_total{messente_dlr_outcome="duplicate",messente_dlr_status="DELIVRD"}': '+1',
    'messente_dlr_reports_total{messente_dlr_outcome="change",messente_dlr_status="SEEN"}': '+6',
    'messente_dlr_reports_total{messente_dlr_outcome="change",messente_dlr_status="EXPIRED"}': '+3',
    'messente_dlr_reports_total{messente_dlr_outcome="change",messente_dlr_status="FAILED"}': '+7',
    'messente_dlr_reports_total{messente_dlr_outcome="duplicate",messente_dlr_status="FAILED"}': '+1',
    'messente_dlr_reports_total{messente_dlr_outcome="change",messente_dlr_status="UNDELIV"}': '+3',
    'messente_dlr_reports_total{messente_dlr_outcome="stale",messente_dlr_status="ACCEPTD"}': '+1',
  });
  expect(counters.find((row) => row[0] === 'messente_dlr_pending')).toEqual([
    'messente_dlr_pending',
    '',
    '0',
    '',
  ]);
}

/** GET /metrics and /health of a running sample. */
async function probe(baseUrl: string) {
  const metrics = await fetch(`${baseUrl}/metrics`);
  const health = await fetch(`${baseUrl}/health`);
  return {
    metrics: {
      status: metrics.status,
      type: metrics.headers.get('content-type'),
      text: await metrics.text(),
    },
    health: { status: health.status, body: (await health.json()) as unknown },
  };
}

describe('the sample app and the simulator', () => {
  it('show the expected answers and statuses on the in-memory store', async () => {
    expectSimulation(await runSample({}));
  });

  it('serves Prometheus metrics at /metrics and the health check at /health', async () => {
    const app = await createSampleApp(readSampleConfig({ PORT: '0' }), { logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    try {
      const { metrics, health } = await probe(`http://127.0.0.1:${port}`);
      expect(metrics.status).toBe(200);
      expect(metrics.type).toMatch(/^text\/plain/);
      expect(metrics.text).toContain('# TYPE messente_dlr_webhook_requests_total counter');
      expect(metrics.text).toMatch(/^messente_dlr_pending\{[^}]*\} 0$/m);
      expect(health).toEqual({
        status: 200,
        body: expect.objectContaining({
          status: 'ok',
          info: { 'messente-dlr': { status: 'up', store: 'up', pending: 0 } },
        }) as unknown,
      });
    } finally {
      await app.close();
    }
  });

  it('serve the board at /messente/board, which counts what the simulator sent', async () => {
    const config = readSampleConfig({ PORT: '0' });
    const app = await createSampleApp(config, { logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    try {
      const board = `http://127.0.0.1:${port}/messente/board`;
      await simulate(`http://127.0.0.1:${port}`, config.secret, {
        cli: [process.execPath, await builtCli()],
      });
      const page = await fetch(board);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>Delivery reports');
      const stats = await (await fetch(`${board}/api/stats`)).json();
      expect(stats).toMatchObject({
        // The scenario's 9 changes and the traffic's 58.
        reports: { change: 67, duplicate: 2, stale: 1, redelivery: 0 },
        requests: { accepted: 70, refused: { signature_missing: 1, ip_not_allowed: 1 } },
        pending: 0,
      });
    } finally {
      await app.close();
    }
  });
});

describeWithRedis('the sample app on Redis', () => {
  it('shows the same with REDIS_URL set', async () => {
    const redis = await startRedisServer();
    try {
      expectSimulation(await runSample({ REDIS_URL: redis.url }));
    } finally {
      await redis.stop();
    }
  });
});

describeWithPostgres('the sample app on PostgreSQL', () => {
  it('shows the same with DATABASE_URL set', async () => {
    const postgres = await startPostgresServer();
    try {
      expectSimulation(await runSample({ DATABASE_URL: postgres.url }));
    } finally {
      await postgres.stop();
    }
  });
});
