import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DlrStore } from 'nestjs-messente-dlr';
import { AppModule } from './app.module.js';
import { SAMPLE_ONLY_SECRET, readSampleConfig } from './sample-config.js';

async function createStore(redisUrl: string | null): Promise<DlrStore | undefined> {
  if (!redisUrl) return undefined;
  // Loaded only when asked for: the in-memory store needs no Redis client.
  const { RedisDlrStore } = await import('nestjs-messente-dlr/redis');
  return new RedisDlrStore({ url: redisUrl });
}

async function bootstrap(): Promise<void> {
  const config = readSampleConfig();
  const logger = new Logger('Sample');
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config, await createStore(config.redisUrl)),
    // SAMPLE ONLY: X-Forwarded-For is trusted from loopback, as behind a local reverse
    // proxy, so the simulator can show a report from a wrong IP being refused.
    new FastifyAdapter({ trustProxy: ['127.0.0.1', '::1'] }),
    { rawBody: true },
  );
  app.enableShutdownHooks();
  await app.listen(config.port, '127.0.0.1');
  logger.log(`Delivery reports: POST http://127.0.0.1:${config.port}/messente/dlr`);
  logger.log(`Statuses:         GET  http://127.0.0.1:${config.port}/messages/:omnimessageId`);
  logger.log(`Store: ${config.redisUrl ? `Redis at ${config.redisUrl}` : 'in memory (embedded)'}`);
  if (config.secret === SAMPLE_ONLY_SECRET) {
    logger.warn(
      `MESSENTE_API_PASSWORD is not set: using the SAMPLE-ONLY signature secret "${SAMPLE_ONLY_SECRET}"`,
    );
  }
  if (!config.credentials) logger.log('No API credentials: statuses are answered from received reports only');
}

void bootstrap();
