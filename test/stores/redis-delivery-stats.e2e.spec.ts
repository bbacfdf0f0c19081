import { Cluster, Redis } from 'ioredis';
import type { DeliveryStats } from '../../lib/interfaces/delivery-stats.interface.js';
import { RedisDlrStore } from '../../lib/redis/index.js';
import { type AdapterName, type TestApp, delay, postDlr } from '../support/app.js';
import { ADMIN, AdminGuard, startBoardApp } from '../support/board-app.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { type RedisServer, describeWithRedis, startRedisServer } from '../support/redis-server.js';
import {
  STREAM,
  type ExpectedGroup,
  expectedDelivery,
  streamBodies,
} from '../board/board-delivery.stream.js';

const SECRET = 'redis-delivery-secret';
const MINUTE = 60_000;

const byKey = (groups: readonly ExpectedGroup[]) =>
  [...groups].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/**
 * Two app instances on one Redis, each taking the reports of half of the messages (a message's
 * reports to one instance, so that its steps are tallied in order), and the Delivery panel of
 * either instance answering the numbers of the whole stream: the telemetry's tallies reach
 * Redis, and the buckets every instance writes add up.
 */
function describeTwoInstances(name: string, adapter: AdapterName, setup: () => () => Redis | Cluster): void {
  describeWithRedis(name, () => {
    const client = setup();
    let apps: TestApp[] = [];
    let clients: (Redis | Cluster)[] = [];
    afterEach(async () => {
      await Promise.allSettled(apps.map((app) => app.close()));
      await Promise.allSettled(clients.map((own) => own.quit()));
      apps = [];
      clients = [];
    });

    it('answers GET api/delivery on every instance with the numbers of the reports all of them took', async () => {
      const keyPrefix = `delivery-e2e-${Date.now()}:`;
      for (let i = 0; i < 2; i++) {
        const own = client();
        clients.push(own);
        apps.push(
          await startBoardApp(adapter, {
            secret: SECRET,
            board: { guards: [AdminGuard] },
            dlr: { store: new RedisDlrStore({ client: own, keyPrefix }) },
          }),
        );
      }
      const bodies = streamBodies(Date.now() - 40 * MINUTE);
      const messages = [...new Set(bodies.map((body) => String(body['message_id'])))];
      await Promise.all(
        apps.map(async (app, i) => {
          for (const body of bodies) {
            if (messages.indexOf(String(body['message_id'])) % 2 !== i) continue;
            expect((await postDlr(app.baseUrl, body, { secret: SECRET })).status).toBe(200);
          }
        }),
      );
      const read = async (app: TestApp, window: string): Promise<DeliveryStats> => {
        const response = await fetch(`${app.baseUrl}/messente/board/api/delivery?window=${window}`, {
          headers: ADMIN,
        });
        expect(response.status).toBe(200);
        return (await response.json()) as DeliveryStats;
      };
      const expected = expectedDelivery();
      expect(expected.total.delivered + expected.total.failed + expected.total.pending).toBe(STREAM.length);
      // The tally lands a turn of the event loop after each report: poll until it is all there.
      const deadline = Date.now() + 5_000;
      let answer = await read(apps[0]!, '1h');
      while (JSON.stringify(answer.total) !== JSON.stringify(expected.total) && Date.now() < deadline) {
        await delay(25);
        answer = await read(apps[0]!, '1h');
      }
      for (const app of apps) {
        for (const window of ['1h', '24h']) {
          const stats = await read(app, window);
          expect(stats.total).toEqual(expected.total);
          expect(byKey(stats.byChannel)).toEqual(expected.byChannel);
          expect(byKey(stats.byCountry)).toEqual(expected.byCountry);
          expect(stats.failuresByReason).toEqual(expected.failuresByReason);
        }
      }
    });
  });
}

describeTwoInstances(
  'RedisDlrStore delivery analytics behind two instances (standalone Redis)',
  'express',
  () => {
    let server: RedisServer;
    beforeAll(async () => {
      server = await startRedisServer();
    });
    afterAll(() => server.stop());
    return () => new Redis(server.url, { enableOfflineQueue: false });
  },
);

describeTwoInstances(
  'RedisDlrStore delivery analytics behind two instances (Redis Cluster)',
  'fastify',
  () => {
    let cluster: RedisCluster;
    beforeAll(async () => {
      cluster = await startRedisCluster();
    }, 30_000);
    afterAll(() => cluster.stop());
    return () => new Cluster([...cluster.nodes], { enableOfflineQueue: false });
  },
);
