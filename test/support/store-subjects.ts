import { Cluster, Redis } from 'ioredis';
import { Pool } from 'pg';
import type { DlrStore } from '../../lib/interfaces/dlr-store.interface.js';
import { PostgresDlrStore } from '../../lib/postgres/index.js';
import { RedisDlrStore } from '../../lib/redis/index.js';
import { InMemoryDlrStore } from '../../lib/stores/in-memory-dlr.store.js';
import { type PostgresServer, describeWithPostgres, startPostgresServer } from './postgres-server.js';
import { type RedisCluster, startRedisCluster } from './redis-cluster.js';
import { type RedisServer, describeWithRedis, startRedisServer } from './redis-server.js';

/**
 * A kind of store a suite runs against: `describe` fails in CI (and skips elsewhere) when its
 * server is not installed; `setup()`, called inside that describe, starts a private server for
 * the suite and returns a factory of fresh, empty stores on it.
 */
export interface StoreSubject {
  readonly name: string;
  readonly describe: (name: string, fn: () => void) => void;
  setup(): { create(): DlrStore };
  /** True when its stores implement tracking (`DlrOutcomeStore`). */
  readonly tracking?: boolean;
  /** True when its stores keep delivery analytics (`DlrDeliveryStatsStore`). */
  readonly deliveryStats?: boolean;
}

/** The reference in-memory store. */
export const inMemorySubject: StoreSubject = {
  name: 'InMemoryDlrStore',
  describe,
  tracking: true,
  deliveryStats: true,
  setup: () => ({ create: () => new InMemoryDlrStore() }),
};

/** `RedisDlrStore` on a private standalone server; each store gets its own key prefix. */
export function redisSubject(prefix: string): StoreSubject {
  return {
    name: 'RedisDlrStore',
    describe: describeWithRedis,
    tracking: true,
    deliveryStats: true,
    setup() {
      let server: RedisServer;
      let client: Redis;
      let count = 0;
      beforeAll(async () => {
        server = await startRedisServer();
        client = new Redis(server.url);
      });
      afterAll(async () => {
        await client.quit();
        await server.stop();
      });
      return { create: () => new RedisDlrStore({ client, keyPrefix: `${prefix}-${++count}:` }) };
    },
  };
}

/** `RedisDlrStore` on a private 6-node Redis Cluster; each store gets its own key prefix. */
export function redisClusterSubject(prefix: string): StoreSubject {
  return {
    name: 'RedisDlrStore on Redis Cluster',
    describe: describeWithRedis,
    deliveryStats: true,
    tracking: true,
    setup() {
      let cluster: RedisCluster;
      let client: Cluster;
      let count = 0;
      beforeAll(async () => {
        cluster = await startRedisCluster();
        client = new Cluster([...cluster.nodes], { enableOfflineQueue: false });
      }, 30_000);
      afterAll(async () => {
        await client.quit();
        await cluster.stop();
      });
      return { create: () => new RedisDlrStore({ client, keyPrefix: `${prefix}-${++count}:` }) };
    },
  };
}

/**
 * `PostgresDlrStore` on a private server; a schema per store, so that each starts empty and
 * schema creation runs every time.
 */
export function postgresSubject(prefix: string): StoreSubject {
  return {
    name: 'PostgresDlrStore',
    describe: describeWithPostgres,
    tracking: true,
    deliveryStats: true,
    setup() {
      let server: PostgresServer;
      let pool: Pool;
      let count = 0;
      beforeAll(async () => {
        server = await startPostgresServer();
        pool = new Pool({ connectionString: server.url });
      });
      afterAll(async () => {
        await pool.end();
        await server.stop();
      });
      return {
        create: () => new PostgresDlrStore({ pool, schema: `${prefix}_${++count}`, pruneIntervalMs: 0 }),
      };
    },
  };
}
