// Shared by run.mjs and profile.mjs: bench server child processes, the traffic and the load.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { dlrPayload, signDlr } from 'nestjs-messente-dlr/testing';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT_DIR = join(BENCH_DIR, '..');
export const SERVER_JS = join(BENCH_DIR, 'dist', 'server.js');
export const SECRET = 'bench-api-password';
export const DLR_PATH = '/messente/dlr';

export const ADAPTERS = ['fastify', 'express'];
export const SERVERS = [
  'bare',
  'hand-written',
  'hand-written-signed',
  'package',
  'package-telemetry-off',
  'package-sdk',
];
export const LABELS = {
  bare: '(a) bare',
  floor: '(f) floor',
  'hand-written': '(b) hand-written',
  'hand-written-signed': '(b+sig) + signature',
  package: '(c) this package',
  // (c) is the package as installed: @opentelemetry/api present, no SDK registered.
  'package-telemetry-off': '(c0) telemetry: false',
  'package-sdk': '(c+) OTel SDK',
};
/** The peers of the latency mode: same security work (b+sig) or none (a). */
export const LATENCY_SERVERS = ['bare', 'hand-written-signed', 'package'];

/** Starts `bench/dist/server.js <adapter> <server>` in its own process; resolves once it listens. */
export async function startServer(adapter, server, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, SERVER_JS, adapter, server], {
    cwd: ROOT_DIR,
    env: { ...process.env, BENCH_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const line = await Promise.race([
    once(createInterface({ input: child.stdout }), 'line').then(([text]) => text),
    exited.then(([code]) => {
      throw new Error(`${adapter} ${server} server exited with ${code} before listening`);
    }),
  ]);
  const port = Number(/^PORT (\d+)$/.exec(line)?.[1]);
  if (!port) throw new Error(`${adapter} ${server} server printed ${JSON.stringify(line)}`);
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The traffic: a fresh, validly signed report per request, made in autocannon's setupRequest.
 * Ids come from a counter, so every server gets byte-identical traffic and no id repeats.
 * `built` counts bodies handed to autocannon (an upper bound of what the server received).
 */
export function createTraffic() {
  const template = dlrPayload({ timestamp: '2024-05-01T12:00:00.000000' });
  // The body is the template with fresh ids, built by concatenation rather than by a
  // JSON.stringify per request: the generator shares the machine with the server, and every
  // microsecond it spends is one the server does not get. Same bytes as stringifying.
  const MESSAGE = '\u0000m',
    OMNI = '\u0000o';
  const parts = JSON.stringify({ ...template, message_id: MESSAGE, omnimessage_id: OMNI }).split(
    /"\\u0000([mo])"/,
  );
  let built = 0;
  const request = {
    method: 'POST',
    path: DLR_PATH,
    setupRequest(req) {
      const hex = (built++).toString(16).padStart(12, '0');
      let body = '';
      for (let i = 0; i < parts.length; i++) {
        if (i % 2 === 0) body += parts[i];
        else body += `"${parts[i] === 'm' ? '6f0c1a52-2d4e-4b7a-9c3d-' : '0b8e7c2f-5a61-4f0e-8d29-'}${hex}"`;
      }
      req.body = body;
      req.headers = {
        'content-type': 'application/json',
        'x-messente-signature': signDlr(body, SECRET),
      };
      return req;
    },
  };
  return {
    request,
    get built() {
      return built;
    },
  };
}

/** One autocannon phase against `url`. */
export function load(url, traffic, seconds, connections) {
  return autocannon({
    url,
    connections,
    pipelining: 1,
    duration: seconds,
    requests: [traffic.request],
  });
}

/**
 * One autocannon phase at a fixed offered rate (`overallRate` across all connections), keeping
 * every 2xx latency at full resolution: autocannon's own histogram rounds to whole ms, too
 * coarse for sub-millisecond answers.
 */
export async function loadAtRate(url, traffic, seconds, rate, connections) {
  const latencies = [];
  const tracker = autocannon({
    url,
    connections,
    pipelining: 1,
    duration: seconds,
    overallRate: rate,
    requests: [traffic.request],
  });
  tracker.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result = await tracker;
  return { result, latencies };
}

/** Where a profiled function lives: `package/path` under node_modules, else relative to the root. */
export function where(url) {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length);
  return path.startsWith(ROOT_DIR) ? path.slice(ROOT_DIR.length + 1) : path;
}

/** The median of `values` (the mean of the two middle ones for an even count). */
export { median } from './in-process.mjs';

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Latency of one fresh server at a fixed offered rate: p50, p99 and max in ms, after a warm-up. */
export async function latencyServer(adapter, server, { rate, warmupSeconds, seconds, connections }) {
  const instance = await startServer(adapter, server);
  try {
    const traffic = createTraffic();
    await loadAtRate(instance.url, traffic, warmupSeconds, rate, connections);
    const { result, latencies } = await loadAtRate(instance.url, traffic, seconds, rate, connections);
    const sorted = Float64Array.from(latencies).sort();
    return {
      adapter,
      server,
      rate,
      achieved: result.requests.average,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      max: sorted[sorted.length - 1] ?? NaN,
      problems:
        result.non2xx || result.errors || result.timeouts
          ? [`${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`]
          : [],
    };
  } finally {
    await instance.stop();
  }
}

/** The handler count of a server, read until it stops moving (handlers may run after the answer). */
export async function handledCount(url) {
  let previous = -1;
  for (let tries = 0; tries < 50; tries++) {
    const response = await globalThis.fetch(`${url}/count`);
    const { count } = await response.json();
    if (count === previous) return count;
    previous = count;
    await sleep(100);
  }
  return previous;
}

/** Warm-up then measured load on one fresh server; checks every 2xx fired exactly one handler. */
export async function benchServer(adapter, server, { warmupSeconds, seconds, connections, nodeArgs }) {
  const instance = await startServer(adapter, server, nodeArgs);
  try {
    const traffic = createTraffic();
    const warmup = await load(instance.url, traffic, warmupSeconds, connections);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const measured = await load(instance.url, traffic, seconds, connections);
    const cpu = process.cpuUsage(cpuBefore);
    // The load generator's share of one core: near 100 %, it and not the server set the pace.
    const clientCpu = (cpu.user + cpu.system) / 1_000 / (performance.now() - started);
    const count = await handledCount(instance.url);
    const ok2xx = warmup['2xx'] + measured['2xx'];
    const failures = {
      non2xx: warmup.non2xx + measured.non2xx,
      errors: warmup.errors + measured.errors,
      timeouts: warmup.timeouts + measured.timeouts,
    };
    // Every body autocannon builds is sent at once. When a phase ends it drops its connections,
    // so the requests then in flight (one per connection) may reach the handler unanswered:
    // 2xx <= handled <= bodies sent - non-2xx.
    const cutOff = count - ok2xx;
    const inFlight = traffic.built - ok2xx - failures.non2xx;
    const problems = [];
    if (failures.non2xx) problems.push(`${failures.non2xx} non-2xx answers`);
    if (failures.errors || failures.timeouts) {
      problems.push(`${failures.errors} errors, ${failures.timeouts} timeouts`);
    }
    if (cutOff < 0) problems.push(`${-cutOff} 2xx answers without a handler call`);
    if (cutOff > inFlight) {
      problems.push(`${cutOff - inFlight} handler calls more than reports sent without a non-2xx`);
    }
    return {
      adapter,
      server,
      reqPerSec: measured.requests.average,
      clientCpu,
      p99: measured.latency.p99,
      non2xx: measured.non2xx,
      total2xx: ok2xx,
      handled: count,
      cutOff,
      inFlight,
      problems,
    };
  } finally {
    await instance.stop();
  }
}
