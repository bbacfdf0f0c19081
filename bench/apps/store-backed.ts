import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import {
  MessenteDlrModule,
  OnDlrStatus,
  type DeliveryStatusChanged,
  type DlrStore,
} from 'nestjs-messente-dlr';
import { CountController, handled } from './counter.js';

@Injectable()
class DlrHandlers {
  @OnDlrStatus('*')
  onAny(_event: DeliveryStatusChanged): void {
    handled.count++;
  }
}

/**
 * This package, as (c), on the store BENCH_STORE names: `memory`, `redis` (BENCH_REDIS_URL,
 * BENCH_REDIS_PREFIX) or `postgres` (BENCH_DATABASE_URL, BENCH_DATABASE_SCHEMA). Each store is
 * loaded only when asked for, as an app would.
 */
@Module({})
export class StoreBackedAppModule {
  static async register(secret: string, env: NodeJS.ProcessEnv): Promise<DynamicModule> {
    return {
      module: StoreBackedAppModule,
      imports: [
        MessenteDlrModule.forRoot({
          signatureSecrets: [secret],
          allowedIps: ['127.0.0.1'],
          store: await createStore(env),
        }),
      ],
      controllers: [CountController],
      providers: [DlrHandlers],
    };
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
