// What the package itself costs per report, without HTTP: `node bench/intake-profile.mjs` (after a
// build; `npm run bench` does not run it). In one process, with the bench's package app (in-memory
// store, one '*' handler), it measures the CPU time per report of each step a report takes after
// the adapter parsed it (the three guards, the pipe, and DlrIntakeService.accept: store, dispatch,
// handler, telemetry), then profiles accept() with the inspector and prints its top functions by
// self time. Reports go in 32 at a time with a macrotask between batches, as under HTTP load.
// Env: BENCH_INTAKE_REPORTS (measured, default 100 000), BENCH_TOP (rows, default 25).
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Session } from 'node:inspector/promises';
import { build } from './build.mjs';

build();
const { SECRET, createTraffic, where } = await import('./harness.mjs');
const { PackageAppModule } = await import('./dist/apps/package.js');
const { DlrIntakeService } = await import('../dist/services/dlr-intake.service.js');
const { DlrPayloadPipe } = await import('../dist/pipes/dlr-payload.pipe.js');
const { IpAllowlistGuard } = await import('../dist/guards/ip-allowlist.guard.js');
const { DlrBodyGuard } = await import('../dist/guards/dlr-body.guard.js');
const { DlrSignatureGuard } = await import('../dist/guards/dlr-signature.guard.js');

const REPORTS = Number(process.env.BENCH_INTAKE_REPORTS ?? 100_000);
const WARMUP = 20_000;
const BATCH = 32;
const top = Number(process.env.BENCH_TOP ?? 25);

const app = await NestFactory.create(PackageAppModule.register(SECRET), { logger: false });
await app.init();
const intake = app.get(DlrIntakeService);
const pipe = app.get(DlrPayloadPipe, { strict: false });
const guards = [IpAllowlistGuard, DlrBodyGuard, DlrSignatureGuard].map((guard) =>
  app.get(guard, { strict: false }),
);

// What the adapter hands over: the request (as the guards read it) and the parsed body.
const traffic = createTraffic();
const requests = Array.from({ length: WARMUP + REPORTS }, () => {
  const { body, headers } = traffic.request.setupRequest({ headers: {} });
  const request = { ip: '127.0.0.1', headers, rawBody: Buffer.from(body) };
  const http = { getRequest: () => request };
  return { context: { switchToHttp: () => http }, body };
});

const cpu = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** CPU µs per report of `step` over requests[from, to), 32 at a time, a macrotask between. */
async function measure(from, to, step) {
  const started = cpu();
  for (let i = from; i < to; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(to, i + BATCH); j++) batch.push(step(requests[j], j));
    await Promise.all(batch);
    await turn();
  }
  await turn();
  return (cpu() - started) / (to - from);
}

const payloads = new Array(requests.length);
const steps = {
  'guards (IP, body, signature)': ({ context }) => {
    for (const guard of guards) guard.canActivate(context);
  },
  'JSON.parse (the adapter; for scale)': ({ body }, i) => {
    payloads[i] = JSON.parse(body);
  },
  'pipe (validate, freeze)': (_, i) => {
    payloads[i] = pipe.transform(payloads[i]);
  },
  'intake.accept (store, dispatch, handler, telemetry)': (_, i) => intake.accept(payloads[i]),
};
for (const step of Object.values(steps)) await measure(0, WARMUP, step); // warm-up, untimed

const session = new Session();
session.connect();
const costs = {};
let profile;
for (const [name, step] of Object.entries(steps)) {
  const profiled = name.startsWith('intake');
  if (profiled) {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 50 });
    await session.post('Profiler.start');
  }
  costs[name] = await measure(WARMUP, WARMUP + REPORTS, step);
  if (profiled) ({ profile } = await session.post('Profiler.stop'));
}
session.disconnect();
await app.close();

console.log(
  `CPU per report, ${REPORTS.toLocaleString('en')} reports after ${WARMUP.toLocaleString('en')} of warm-up:`,
);
for (const [name, micros] of Object.entries(costs))
  console.log(`  ${micros.toFixed(2).padStart(6)} µs  ${name}`);
console.log('(the intake step ran under the profiler, which adds to its time)');

// Self time by function, from the samples (each one sampling interval).
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const counts = new Map();
for (const id of profile.samples) {
  const { functionName, url, lineNumber } = nodes.get(id).callFrame;
  if (functionName === '(idle)') continue;
  const key = `${functionName || '(anonymous)'}  ${where(url)}${url ? `:${lineNumber + 1}` : ''}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
console.log(`\nintake.accept: top ${top} functions by self time (share of ${total} samples)`);
for (const [key, count] of [...counts].sort((x, y) => y[1] - x[1]).slice(0, top)) {
  console.log(`  ${((100 * count) / total).toFixed(1).padStart(5)}%  ${key}`);
}
