import { createSampleApp } from '../../sample/create-sample-app.js';
import { readSampleConfig } from '../../sample/sample-config.js';
import { simulate } from '../../sample/simulate.js';
import { describeWithPostgres, startPostgresServer } from '../support/postgres-server.js';
import { describeWithRedis, startRedisServer } from '../support/redis-server.js';

/** Boots the sample as `npm start` does, runs the simulator against it, and returns its tables. */
async function runSample(env: NodeJS.ProcessEnv) {
  const config = readSampleConfig({ PORT: '0', ...env });
  const app = await createSampleApp(config, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  try {
    return await simulate(`http://127.0.0.1:${port}`, config.secret);
  } finally {
    await app.close();
  }
}

function expectSimulation({ sent, now }: Awaited<ReturnType<typeof runSample>>) {
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
}

describe('the sample app and the simulator', () => {
  it('show the expected answers and statuses on the in-memory store', async () => {
    expectSimulation(await runSample({}));
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
