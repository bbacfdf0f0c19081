import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DlrStore } from 'nestjs-messente-dlr';
import { AppModule } from './app.module.js';
import type { SampleConfig } from './sample-config.js';
import { setUpTelemetry } from './telemetry.js';

async function createStore({ redisUrl, databaseUrl }: SampleConfig): Promise<DlrStore | undefined> {
  if (redisUrl && databaseUrl) throw new Error('Set REDIS_URL or DATABASE_URL, not both');
  // Loaded only when asked for: the in-memory store needs no Redis or PostgreSQL client.
  if (databaseUrl) {
    const { PostgresDlrStore } = await import('nestjs-messente-dlr/postgres');
    return new PostgresDlrStore({ connectionString: databaseUrl });
  }
  if (!redisUrl) return undefined;
  const { RedisDlrStore } = await import('nestjs-messente-dlr/redis');
  return new RedisDlrStore({ url: redisUrl });
}

/** Builds the sample app (not listening yet) from its configuration. */
export async function createSampleApp(
  config: SampleConfig,
  options: { logger?: false } = {},
): Promise<NestFastifyApplication> {
  // Before NestFactory.create, as in any app: the module finds the SDK when it starts.
  setUpTelemetry();
  return NestFactory.create<NestFastifyApplication>(
    AppModule.register(config, await createStore(config)),
    // SAMPLE ONLY: X-Forwarded-For is trusted from loopback, as behind a local reverse
    // proxy, so the simulator can show a report from a wrong IP being refused.
    new FastifyAdapter({ trustProxy: ['127.0.0.1', '::1'] }),
    { rawBody: true, ...options },
  );
}
