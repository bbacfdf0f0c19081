import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createSampleApp } from './create-sample-app.js';
import { SAMPLE_ONLY_SECRET, readSampleConfig } from './sample-config.js';

async function bootstrap(): Promise<void> {
  const config = readSampleConfig();
  const logger = new Logger('Sample');
  const app = await createSampleApp(config);
  app.enableShutdownHooks();
  // Loopback only: the board is mounted without guards (app.module.ts).
  await app.listen(config.port, '127.0.0.1');
  logger.log(`Delivery reports: POST http://127.0.0.1:${config.port}/messente/dlr`);
  logger.log(`Statuses:         GET  http://127.0.0.1:${config.port}/messages/:omnimessageId`);
  logger.log(`Metrics:          GET  http://127.0.0.1:${config.port}/metrics`);
  logger.log(`Health:           GET  http://127.0.0.1:${config.port}/health`);
  logger.log(`Board:            open http://127.0.0.1:${config.port}/messente/board`);
  const store = config.databaseUrl
    ? `PostgreSQL at ${redact(config.databaseUrl)}`
    : config.redisUrl
      ? `Redis at ${redact(config.redisUrl)}`
      : 'in memory (embedded)';
  logger.log(`Store: ${store}`);
  if (config.secret === SAMPLE_ONLY_SECRET) {
    logger.warn(
      `MESSENTE_API_PASSWORD is not set: using the SAMPLE-ONLY signature secret "${SAMPLE_ONLY_SECRET}"`,
    );
  }
  if (!config.credentials) logger.log('No API credentials: statuses are answered from received reports only');
}

/** A connection URL without its password, for the log. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

void bootstrap();
