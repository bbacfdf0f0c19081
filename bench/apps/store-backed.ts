import { Module, type DynamicModule } from '@nestjs/common';
import type { DlrStore } from 'nestjs-messente-dlr';
import { PackageAppModule } from './package.js';

/**
 * This package, as (c), on the store BENCH_STORE names: `memory`, `redis` (BENCH_REDIS_URL,
 * BENCH_REDIS_PREFIX) or `postgres` (BENCH_DATABASE_URL, BENCH_DATABASE_SCHEMA). Each store is
 * loaded only when asked for, as an app would. The app itself is `PackageAppModule`'s.
 */
@Module({})
export class StoreBackedAppModule {
  static async register(secret: string, env: NodeJS.ProcessEnv): Promise<DynamicModule> {
    return PackageAppModule.register(secret, { store: await createStore(env) });
  }
}

async function createStore(env: NodeJS.ProcessEnv): Promise<DlrStore | undefined> {
  const kind = env['BENCH_STORE'] ?? 'memory';
  if (kind === 'memory') return undefined;
  if (kind === 'redis') {
    const { RedisDlrStore } = await import('nestjs-messente-dlr/redis');
    return new RedisDlrStore({ url: env['BENCH_REDIS_URL']!, keyPrefix: env['BENCH_REDIS_PREFIX'] });
  }
  if (kind === 'postgres') {
    const { PostgresDlrStore } = await import('nestjs-messente-dlr/postgres');
    const store = new PostgresDlrStore({
      connectionString: env['BENCH_DATABASE_URL']!,
      schema: env['BENCH_DATABASE_SCHEMA'],
    });
    // Created before the load starts, so that the first requests do not measure it.
    await store.ensureSchema();
    return store;
  }
  throw new Error(`unknown BENCH_STORE ${kind}`);
}
