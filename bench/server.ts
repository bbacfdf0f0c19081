/**
 * One bench server in a child process of `run.mjs`:
 * `node bench/dist/server.js <fastify|express> <bare|floor|hand-written|hand-written-signed|package|package-telemetry-off|package-sdk>`,
 * secret in BENCH_SECRET. `package-sdk` registers an OpenTelemetry SDK first, as an app would.
 * Prints `PORT <n>` once listening on 127.0.0.1; closes the app and exits on SIGTERM (which
 * also lets `--cpu-prof` write its profile).
 */
import 'reflect-metadata';
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { setTimeout } from 'node:timers';
import { BareAppModule } from './apps/bare.js';
import { FloorAppModule } from './apps/floor.js';
import { HandWrittenAppModule, SignedHandWrittenAppModule } from './apps/hand-written.js';
import { PackageAppModule } from './apps/package.js';
import { registerOtelSdk } from './otel-sdk.js';
import { StoreBackedAppModule } from './apps/store-backed.js';

const [adapterName, server] = process.argv.slice(2);
const secret = process.env.BENCH_SECRET ?? 'bench-secret';

async function appModule(): Promise<unknown> {
  if (server === 'bare') return BareAppModule;
  if (server === 'floor') return FloorAppModule;
  if (server === 'hand-written') return HandWrittenAppModule;
  if (server === 'hand-written-signed') return SignedHandWrittenAppModule;
  if (server === 'package') return PackageAppModule.register(secret);
  if (server === 'package-telemetry-off') return PackageAppModule.register(secret, { telemetry: false });
  if (server === 'package-sdk') return PackageAppModule.register(secret);
  if (server === 'package-store') return StoreBackedAppModule.register(secret, process.env);
  throw new Error(`unknown server ${server}`);
}

if (server === 'package-sdk') registerOtelSdk();
const httpAdapter = adapterName === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
if (adapterName !== 'fastify' && adapterName !== 'express') throw new Error(`unknown adapter ${adapterName}`);
const app: INestApplication = await NestFactory.create((await appModule()) as never, httpAdapter, {
  rawBody: true,
  logger: false,
});
if (server?.startsWith('hand-written')) app.useGlobalPipes(new ValidationPipe());
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address() as { port: number };
process.stdout.write(`PORT ${port}\n`);

process.once('SIGTERM', () => {
  setTimeout(() => process.exit(0), 3_000).unref();
  void app.close().finally(() => process.exit(0));
});
