// Telemetry's cost, measured in one process so that every variant shares the same machine load:
// four Fastify apps of the package (`telemetry: false`; `@opentelemetry/api` with no SDK; the
// metrics SDK alone; metrics and tracing SDKs, every span sampled) get the same signed reports through Fastify's inject()
// (the whole Nest pipeline, no sockets), in short batches taken in turn, rotating the order every
// round. What is compared is the process's CPU time per batch (process.cpuUsage, user + system),
// which other processes on the machine inflate less than wall time: it prints the median reports
// per CPU-second of each variant and the median, over rounds, of its ratio to `telemetry: false`
// in the same round (paired, so that a slow stretch of the machine hits both sides).
// Run by `npm run bench` after the HTTP runs; alone: `node bench/telemetry.mjs` (after a build).
// Env: BENCH_TELEMETRY_ROUNDS (default 30), BENCH_TELEMETRY_BATCH (requests per batch, default 1000).
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { PackageAppModule } from './dist/apps/package.js';
import { createOtelSdk } from './dist/otel-sdk.js';
import { DLR_PATH, SECRET, createTraffic, median } from './harness.mjs';

const rounds = Number(process.env.BENCH_TELEMETRY_ROUNDS ?? 30);
const batch = Number(process.env.BENCH_TELEMETRY_BATCH ?? 1000);
const CONCURRENCY = 32;

const sdk = createOtelSdk();
const VARIANTS = [
  { name: 'telemetry: false', options: { telemetry: false } },
  { name: 'no SDK (API only)', options: {} },
  { name: 'OTel metrics SDK', options: { meterProvider: sdk.meterProvider } },
  { name: 'OTel SDK', options: sdk },
];

async function start(options) {
  const app = await NestFactory.create(PackageAppModule.register(SECRET, options), new FastifyAdapter(), {
    rawBody: true,
    logger: false,
  });
  await app.init();
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.ready();
  return { app, fastify };
}

const traffic = createTraffic();
async function runBatch(fastify) {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < batch) {
      next++;
      const { body, headers } = traffic.request.setupRequest({ headers: {} });
      const response = await fastify.inject({ method: 'POST', url: DLR_PATH, headers, payload: body });
      if (response.statusCode !== 200) failed++;
    }
  };
  const started = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const used = process.cpuUsage(started);
  if (failed) throw new Error(`${failed} non-200 answers`);
  return batch / ((used.user + used.system) / 1e6);
}

const apps = [];
for (const variant of VARIANTS) apps.push({ ...variant, ...(await start(variant.options)), rates: [] });
for (const entry of apps) await runBatch(entry.fastify); // warm-up
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < apps.length; i++) {
    const entry = apps[(round + i) % apps.length];
    entry.rates.push(await runBatch(entry.fastify));
  }
}
for (const { app } of apps) await app.close();
await sdk.meterProvider.shutdown();
await sdk.tracerProvider.shutdown();

const off = apps[0].rates;
console.log(
  `telemetry cost, in process (Fastify inject, ${rounds} rounds of ${batch} reports each, ${CONCURRENCY} at once):`,
);
const TARGETS = { 'no SDK (API only)': 0.97, 'OTel metrics SDK': 0.9, 'OTel SDK': 0.9 };
for (const { name, rates } of apps) {
  const rate = median(rates);
  const ratio = median(rates.map((value, round) => value / off[round]));
  const target = TARGETS[name];
  const verdict =
    target === undefined ? '' : `  target >= ${target.toFixed(2)} ${ratio >= target ? 'met' : 'MISSED'}`;
  console.log(
    `  ${name.padEnd(18)} ${rate.toFixed(0).padStart(7)} reports per CPU-second (median; min ${Math.min(...rates).toFixed(0)}, ` +
      `max ${Math.max(...rates).toFixed(0)})  ${ratio.toFixed(3)} x off${verdict}`,
  );
}
