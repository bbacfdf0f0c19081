// `npm run bench` (package.json: "bench": "node bench/run.mjs").
//
// How it works: `npm run build` compiles the package to dist/; the bench servers are TypeScript
// (Nest needs decorators), in bench/server.ts and bench/apps/, compiled by bench/tsconfig.json to
// bench/dist/ (git- and prettier-ignored like every dist/) and importing the package by its own
// name, i.e. from dist/. BENCH_SKIP_BUILD=1 skips both builds.
//
// Each server runs alone in its own child process while this process drives it with autocannon:
// (a) bare route, (b) hand-written guard + ValidationPipe + EventEmitter2, (c) MessenteDlrModule,
// each on Fastify and Express, interleaved a,b,c per adapter, BENCH_ROUNDS times (median taken).
// Every server gets the same traffic: a fresh signed report per request. After each run the
// server's handler count is checked against the 2xx answers. Then a memory run of the store.
//
// Env: BENCH_SECONDS (measured, default 10), BENCH_WARMUP (default 2), BENCH_ROUNDS (default 1),
// BENCH_CONNECTIONS (default 32), BENCH_SKIP_BUILD=1, BENCH_SKIP_MEMORY=1, BENCH_SKIP_STORES=1
// (the store comparison, bench/stores.mjs: (c) on in-memory, Redis and PostgreSQL).
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { build } from './build.mjs';

build();
const { ADAPTERS, BENCH_DIR, LABELS, ROOT_DIR, SERVERS, benchServer } = await import('./harness.mjs');

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const warmupSeconds = Number(process.env.BENCH_WARMUP ?? 2);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);

const TARGETS = [
  { adapter: 'fastify', of: 'hand-written', factor: 2.0 },
  { adapter: 'fastify', of: 'bare', factor: 0.7 },
  { adapter: 'express', of: 'bare', factor: 0.9 },
];

function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const cpu = cpus();
console.log(
  `node ${process.version}, ${cpu.length} x ${cpu[0]?.model.trim() ?? 'cpu'}; ` +
    `warm-up ${warmupSeconds} s + measured ${seconds} s per server, ${connections} connections, ` +
    `pipelining 1, ${rounds} round(s)`,
);

const runs = [];
let warnings = 0;
for (let round = 1; round <= rounds; round++) {
  for (const adapter of ADAPTERS) {
    for (const server of SERVERS) {
      const result = await benchServer(adapter, server, { warmupSeconds, seconds, connections });
      runs.push(result);
      console.log(
        `  round ${round} ${adapter.padEnd(7)} ${LABELS[server].padEnd(17)} ` +
          `${Math.round(result.reqPerSec).toString().padStart(6)} req/s  p99 ${String(result.p99).padStart(3)} ms  ` +
          `handled ${result.handled} = ${result.total2xx} 2xx + ${result.cutOff} of ${result.inFlight} in flight at phase ends`,
      );
      for (const problem of result.problems) {
        warnings++;
        console.log(`  WARNING ${adapter} ${LABELS[server]}: ${problem}`);
      }
    }
  }
}

const summary = new Map();
for (const adapter of ADAPTERS) {
  for (const server of SERVERS) {
    const mine = runs.filter((run) => run.adapter === adapter && run.server === server);
    summary.set(`${adapter} ${server}`, {
      reqPerSec: median(mine.map((run) => run.reqPerSec)),
      p99: median(mine.map((run) => run.p99)),
      non2xx: mine.reduce((sum, run) => sum + run.non2xx, 0),
    });
  }
}
const get = (adapter, server) => summary.get(`${adapter} ${server}`);

console.log('');
console.log(`${rounds > 1 ? `median of ${rounds} rounds` : 'results'}:`);
console.log('  adapter  server             req/s (mean)   p99 ms   non-2xx');
for (const adapter of ADAPTERS) {
  for (const server of SERVERS) {
    const { reqPerSec, p99, non2xx } = get(adapter, server);
    console.log(
      `  ${adapter.padEnd(8)} ${LABELS[server].padEnd(18)} ${reqPerSec.toFixed(0).padStart(12)} ` +
        `${String(p99).padStart(8)} ${String(non2xx).padStart(9)}`,
    );
  }
}

console.log('');
const ratio = (adapter, of) => get(adapter, 'package').reqPerSec / get(adapter, of).reqPerSec;
for (const adapter of ADAPTERS) {
  console.log(
    `  ${adapter.padEnd(8)} c/a = ${ratio(adapter, 'bare').toFixed(2)}   c/b = ${ratio(adapter, 'hand-written').toFixed(2)}`,
  );
}
console.log('');
for (const { adapter, of, factor } of TARGETS) {
  const measured = ratio(adapter, of);
  const name = `${adapter[0].toUpperCase()}${adapter.slice(1)} c >= ${factor.toFixed(2)} x ${of === 'bare' ? 'a' : 'b'}`;
  console.log(
    `  target ${name.padEnd(28)} ${measured >= factor ? 'met   ' : 'MISSED'} (measured ${measured.toFixed(2)}x)`,
  );
}
if (process.env.BENCH_SKIP_STORES !== '1') {
  const { benchStores } = await import('./stores.mjs');
  warnings += await benchStores({ adapters: ADAPTERS, rounds, median, warmupSeconds, seconds, connections });
}
if (warnings) console.log(`\n  WARNING: ${warnings} correctness problem(s), see above`);

if (process.env.BENCH_SKIP_MEMORY !== '1') {
  console.log('');
  const memory = spawnSync(process.execPath, ['--expose-gc', join(BENCH_DIR, 'memory.mjs')], {
    cwd: ROOT_DIR,
    stdio: 'inherit',
  });
  if (memory.status !== 0) process.exitCode = 1;
}
if (warnings) process.exitCode = 1;
