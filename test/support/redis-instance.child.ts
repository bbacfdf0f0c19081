/**
 * A webhook instance in its own process, for tests that crash one: a Nest app on the Redis
 * store whose handler never finishes. It prints `listening <url>` once it serves and
 * `handling <messageId>` as each handler starts, so that the parent can kill it with SIGKILL
 * while handlers are running. Configured by DLR_REDIS_URL, DLR_KEY_PREFIX, DLR_SECRET and
 * DLR_LEASE_MS. Run with `node --import ./test/support/ts-register.mjs <this file>`.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DeliveryStatusChanged, MessenteDlrModule, OnDlrStatus } from '../../lib/index.js';
import { RedisDlrStore } from '../../lib/redis/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

@Injectable()
class HangingHandler {
  @OnDlrStatus('*') on(event: DeliveryStatusChanged): Promise<void> {
    process.stdout.write(`handling ${event.messageId}\n`);
    return new Promise(() => undefined);
  }
}

@Module({
  imports: [
    MessenteDlrModule.forRoot({
      signatureSecrets: [env('DLR_SECRET')],
      allowedIps: ['127.0.0.1'],
      store: new RedisDlrStore({ url: env('DLR_REDIS_URL'), keyPrefix: env('DLR_KEY_PREFIX') }),
      pendingLeaseMs: Number(env('DLR_LEASE_MS')),
    }),
  ],
  providers: [HangingHandler],
})
class CrashingInstanceModule {}

const app = await NestFactory.create(CrashingInstanceModule, { rawBody: true, logger: false });
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address() as { port: number };
process.stdout.write(`listening http://127.0.0.1:${port}\n`);
