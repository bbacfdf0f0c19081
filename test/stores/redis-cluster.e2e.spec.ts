import { jest } from '@jest/globals';
import { Injectable, Logger } from '@nestjs/common';
import { crc32 } from 'node:zlib';
import {
  DeliveryStatusChanged,
  DeliveryStatusService,
  MessenteDlrModule,
  OnDlrStatus,
} from '../../lib/index.js';
import { RedisDlrStore, type RedisDlrStoreOptions } from '../../lib/redis/index.js';
import { dlrPayload } from '../../lib/testing/index.js';
import { delay, postDlr, startApp, waitFor, type AdapterName, type TestApp } from '../support/app.js';
import { ChangeModel } from '../support/change-model.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { describeWithRedis } from '../support/redis-server.js';
import { useInstances } from '../support/instances.js';
import { expectEachOutcomeOnce } from '../support/instances-outcomes.js';

const SECRET = 'cluster-secret';
const STATUSES = ['ACCEPTD', 'ACK', 'UNKNOWN', 'DELIVRD', 'FAILED', 'SEEN'];

/** Handler calls of every app in this file, as `messageId:status`. */
const calls: string[] = [];

@Injectable()
class Recorder {
  @OnDlrStatus('*') on(event: DeliveryStatusChanged) {
    calls.push(`${event.messageId}:${event.status}`);
  }
}

/** A fresh id in `bucket` (of 16). */
function inBucket(bucket: number): string {
  let id = crypto.randomUUID();
  while (crc32(id) % 16 !== bucket) id = crypto.randomUUID();
  return id;
}

/** One answer of the webhook during a stream. */
interface Answer {
  readonly id: string;
  readonly status: number;
  readonly at: number;
  readonly ms: number;
}

describeWithRedis('several instances on one Redis Cluster', () => {
  let cluster: RedisCluster;
  const apps: TestApp[] = [];
  const instances = useInstances(SECRET);
  const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

  function startOn(adapter: AdapterName, options: Omit<RedisDlrStoreOptions, 'cluster'>): Promise<TestApp> {
    const store = new RedisDlrStore({ cluster: [...cluster.nodes], ...options });
    return startApp(adapter, {
      imports: [MessenteDlrModule.forRoot({ signatureSecrets: [SECRET], allowedIps: ['127.0.0.1'], store })],
      providers: [Recorder],
    }).then((app) => {
      apps.push(app);
      return app;
    });
  }

  /**
   * Posts new DELIVRD reports from 8 senders until `until` resolves, all for messages (and
   * omnimessages: a message lives in its omnimessage's bucket) of one bucket, so that they all
   * land on one slot, and records every answer.
   */
  async function stream(app: TestApp, bucket: number, until: Promise<unknown>): Promise<Answer[]> {
    const answers: Answer[] = [];
    let stop = false;
    void until.finally(() => (stop = true));
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!stop) {
          const [id, omnimessageId] = [inBucket(bucket), inBucket(bucket)];
          const started = Date.now();
          const body = dlrPayload({ message_id: id, omnimessage_id: omnimessageId, status: 'DELIVRD' });
          const answer = await postDlr(app.baseUrl, body, { secret: SECRET });
          answers.push({ id, status: answer.status, at: started, ms: Date.now() - started });
        }
      }),
    );
    return answers;
  }

  /** What a failover test checks of the answers during the stream, and what it measured. */
  async function checkAnswers(app: TestApp, answers: Answer[], disruptedAt: number) {
    expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 503)).toEqual([]);
    expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(2_000);
    // Every report answered 200 was recorded and survived the failover.
    const accepted = answers.filter((answer) => answer.status === 200);
    const statuses = app.app.get(DeliveryStatusService);
    const found = await Promise.all(accepted.map((answer) => statuses.latest(answer.id)));
    expect(accepted.filter((_, i) => found[i]?.status !== 'DELIVRD').map((answer) => answer.id)).toEqual([]);
    // Intake recovered by itself: reports sent after the disruption were accepted again.
    const after = answers.filter((answer) => answer.at > disruptedAt);
    const refused = after.filter((answer) => answer.status === 503);
    const recovered = after.find((answer, i) => answer.status === 200 && i >= after.indexOf(refused.at(-1)!));
    expect(after.filter((answer) => answer.status === 200).length).toBeGreaterThan(0);
    const figures = {
      answers: answers.length,
      accepted: accepted.length,
      refused: answers.length - accepted.length,
      slowestMs: Math.max(...answers.map((answer) => answer.ms)),
      unavailableMs: refused.length === 0 ? 0 : refused.at(-1)!.at + refused.at(-1)!.ms - refused[0]!.at,
      recoveredAfterMs: recovered ? recovered.at + recovered.ms - disruptedAt : null,
    };
    if (process.env['TEST_LOGS']) console.log(JSON.stringify(figures));
    return figures;
  }

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 30_000);
  beforeEach(() => {
    calls.length = 0;
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close().catch(() => undefined)));
  });
  afterAll(async () => {
    await cluster.stop();
    errors.mockRestore();
    warnings.mockRestore();
  });

  it('two instances receiving 5 000 reports at the same instant fire each change exactly once', async () => {
    const keyPrefix = `two-${Date.now()}:`;
    const one = await startOn('express', { keyPrefix });
    const two = await startOn('fastify', { keyPrefix });
    const messages = Array.from({ length: 1_250 }, () => crypto.randomUUID());
    // One to three messages per omnimessage, as with fallbacks from one channel to another.
    const omnimessageOf = new Map<string, string>();
    for (let i = 0; i < messages.length;) {
      const omnimessageId = crypto.randomUUID();
      for (const id of messages.slice(i, (i += 1 + (i % 3)))) omnimessageOf.set(id, omnimessageId);
    }
    const model = new ChangeModel();
    let next = 0;
    const failures: number[] = [];
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < messages.length) {
          const id = messages[next++]!;
          const order = [...STATUSES].sort(() => Math.random() - 0.5).slice(0, 4);
          for (const status of order) {
            model.apply(id, status);
            const body = dlrPayload({ message_id: id, status, omnimessage_id: omnimessageOf.get(id) });
            const answers = await Promise.all(
              [one, two].map((app) => postDlr(app.baseUrl, body, { secret: SECRET })),
            );
            for (const answer of answers) if (answer.status !== 200) failures.push(answer.status);
          }
        }
      }),
    );
    expect(failures).toEqual([]);
    const expected = [...model.changes].flatMap(([id, statuses]) =>
      statuses.map((status) => `${id}:${status}`),
    );
    expect(expected.length).toBeGreaterThan(2_500);
    await waitFor(() => calls.length >= expected.length, 20_000);
    await delay(200);
    expect(calls.length).toBe(expected.length);
    expect(new Set(calls)).toEqual(new Set(expected));

    // Every omnimessage lists each of its messages with its latest change, on either instance.
    const byOmnimessage = new Map<string, string[]>();
    for (const [id, omnimessageId] of omnimessageOf) {
      byOmnimessage.set(omnimessageId, [...(byOmnimessage.get(omnimessageId) ?? []), id]);
    }
    for (const app of [one, two]) {
      const statuses = app.app.get(DeliveryStatusService);
      // 16 lookups at a time, as an app serving status pages might: each reads every bucket.
      const queue = [...byOmnimessage];
      const lookups: Array<{ found: string[]; expected: string[] }> = [];
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let next = queue.pop(); next; next = queue.pop()) {
            const [omnimessageId, ids] = next;
            lookups.push({
              found: (await statuses.forOmnimessage(omnimessageId))
                .map((event) => `${event.messageId}:${event.status}`)
                .sort(),
              expected: ids.map((id) => `${id}:${model.changes.get(id)!.at(-1)}`).sort(),
            });
          }
        }),
      );
      expect(lookups).toHaveLength(byOmnimessage.size);
      expect(lookups.filter((lookup) => lookup.found.join() !== lookup.expected.join())).toEqual([]);
    }
    const store = one.app.get(DeliveryStatusService);
    expect(await store.forOmnimessage(crypto.randomUUID())).toEqual([]);
  }, 120_000);

  it('two instances given every track() and report at once fire each outcome exactly once', async () => {
    const keyPrefix = `outcomes-${Date.now()}:`;
    await expectEachOutcomeOnce(
      instances,
      () => new RedisDlrStore({ cluster: [...cluster.nodes], keyPrefix }),
    );
  }, 120_000);

  it('an instance configured with another bucket count than Redis recorded fails to start, naming the option', async () => {
    const keyPrefix = `layout-${Date.now()}:`;
    await startOn('express', { keyPrefix });
    const store = new RedisDlrStore({ cluster: [...cluster.nodes], keyPrefix, buckets: 32 });
    try {
      await expect(
        startApp('fastify', {
          imports: [
            MessenteDlrModule.forRoot({ signatureSecrets: [SECRET], allowedIps: ['127.0.0.1'], store }),
          ],
        }),
      ).rejects.toThrow(/in 16 buckets, not 32: set the option `buckets` to 16/);
    } finally {
      await store.close();
    }
  });

  it('a manual failover of the master holding a busy slot: 200 or 503 within 2 s, nothing lost, recovers', async () => {
    const keyPrefix = `failover-${Date.now()}:`;
    const app = await startOn('fastify', { keyPrefix });
    const bucket = 3;
    const [slot] = await cluster.keyslots([`${keyPrefix}{${bucket}}:pending`]);
    const master = await cluster.masterOf(slot!);
    let disruptedAt = 0;
    const failover = (async () => {
      await delay(500);
      disruptedAt = Date.now();
      await cluster.failover(master);
      await delay(1_500);
    })();
    const answers = await stream(app, bucket, failover);
    await failover;
    expect(await cluster.masterOf(slot!)).not.toBe(master);
    await checkAnswers(app, answers, disruptedAt);
  }, 60_000);

  it.each([
    { waitForReplicas: 0, bucket: 9 },
    { waitForReplicas: 1, bucket: 5 },
  ])(
    'a master killed outright (waitForReplicas $waitForReplicas): 200 or 503 within 2 s, every 200 kept, recovers',
    async ({ waitForReplicas, bucket }) => {
      const keyPrefix = `killed-${waitForReplicas}-${Date.now()}:`;
      const app = await startOn('express', { keyPrefix, waitForReplicas });
      const [slot] = await cluster.keyslots([`${keyPrefix}{${bucket}}:pending`]);
      const master = await cluster.masterOf(slot!);
      let disruptedAt = 0;
      let promotedAt = 0;
      const kill = (async () => {
        await delay(500);
        disruptedAt = Date.now();
        await cluster.kill(master);
        // The replica takes over once the other masters mark the master failed (node timeout 2 s).
        const deadline = Date.now() + 15_000;
        while ((await cluster.masterOf(slot!).catch(() => master)) === master && Date.now() < deadline) {
          await delay(20);
        }
        promotedAt = Date.now();
        // WAIT needs a replica: the promoted master has none until the dead node comes back.
        if (waitForReplicas > 0) await cluster.revive(master);
        await delay(1_500);
      })();
      const answers = await stream(app, bucket, kill);
      await kill;
      expect(await cluster.masterOf(slot!)).not.toBe(master);
      const figures = await checkAnswers(app, answers, disruptedAt);
      if (process.env['TEST_LOGS']) console.log(`promoted after ${promotedAt - disruptedAt} ms`);
      expect(figures.refused).toBeGreaterThan(0);
      expect(figures.recoveredAfterMs).not.toBeNull();
      if (waitForReplicas === 0) await cluster.revive(master);
    },
    60_000,
  );
});
