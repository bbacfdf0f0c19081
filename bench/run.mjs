// `npm run bench` (package.json: "bench": "node bench/run.mjs").
//
// How it works: `npm run build` compiles the package to dist/; the bench servers are TypeScript
// (Nest needs decorators), in bench/server.ts and bench/apps/, compiled by bench/tsconfig.json to
// bench/dist/ (git- and prettier-ignored like every dist/) and importing the package by its own
// name, i.e. from dist/. BENCH_SKIP_BUILD=1 skips both builds.
//
// Each server runs alone in its own child process while this process drives it with autocannon:
// (a) bare route, (b) hand-written guard + ValidationPipe + EventEmitter2, (b+sig) the same plus
// an HMAC signature guard, (c) MessenteDlrModule, each on Fastify and Express, interleaved per
// adapter, BENCH_ROUNDS times (median taken). Every server gets the same traffic: a fresh signed
// report per request. After each run the server's handler count is checked against the 2xx
// answers. Then the latency mode: a, b+sig and c at fixed offered rates (BENCH_RATES), p50/p99/max
// of every 2xx. Then the stores, telemetry in one process, outcome tracking on against off in one
// process (bench/tracking.mjs), the accounts list form against a single secret (bench/accounts.mjs),
// a memory run of the store, the omnimessage index and the outage
// bounds (bench/outage.mjs).
//
// Env: BENCH_SECONDS (measured, default 10), BENCH_WARMUP (default 2), BENCH_ROUNDS (default 1),
// BENCH_CONNECTIONS (default 32), BENCH_RATES (req/s, default 1000,3000; empty skips the latency
// mode), BENCH_SKIP_BUILD=1, BENCH_SKIP_MEMORY=1 (memory, omnimessage and outage runs), BENCH_SKIP_TELEMETRY=1 (the in-process telemetry
// run, bench/telemetry.mjs), BENCH_SKIP_TRACKING=1 (outcome tracking on against off, in one process,
// bench/tracking.mjs), BENCH_SKIP_ACCOUNTS=1 (3 accounts x 2 secrets against a single secret, in one
// process, bench/accounts.mjs), BENCH_SKIP_STORES=1 (the store comparison, bench/stores.mjs: (c) on
// in-memory, Redis and PostgreSQL), BENCH_BASELINE=<commit>|default (last: the current build
// against that commit's in one process, bench/baseline.mjs; not run unless set).
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { build } from './build.mjs';

build();
const {
  ADAPTERS,
  BENCH_DIR,
  LABELS,
  LATENCY_SERVERS,
  ROOT_DIR,
  SERVERS,
  benchServer,
  latencyServer,
  median,
} = await import('./harness.mjs');

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const warmupSeconds = Number(process.env.BENCH_WARMUP ?? 2);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const rates = (process.env.BENCH_RATES ?? '1000,3000').split(',').filter(Boolean).map(Number);

const TARGETS = [
  { adapter: 'fastify', of: 'bare', factor: 0.6 },
  { adapter: 'fastify', of: 'hand-written-signed', factor: 1.5 },
  { adapter: 'express', of: 'bare', factor: 0.85 },
];
// Telemetry's cost, against the package with `telemetry: false` in the same run.
const TELEMETRY_TARGETS = [
  { server: 'package', factor: 0.97, name: 'no SDK' },
  { server: 'package-sdk', factor: 0.9, name: 'OTel SDK' },
];
/** Package p99 at most this many times bare's p99, at this offered rate, on every adapter. */
const LATENCY_TARGET = { rate: 1000, factor: 1.3 };
/**
 * autocannon (in this process, signing every request) and the server share two cores. At this
 * share of a core the generator, not the server, sets the pace, and a ratio to that server
 * reads higher than the servers' own capacities would give.
 */
const CLIENT_BOUND = 0.85;
const SHORT = { bare: 'a', 'hand-written': 'b', 'hand-written-signed': 'b+sig', package: 'c' };

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
        `  round ${round} ${adapter.padEnd(7)} ${LABELS[server].padEnd(20)} ` +
          `${Math.round(result.reqPerSec).toString().padStart(6)} req/s  p99 ${String(result.p99).padStart(3)} ms  ` +
          `client ${(100 * result.clientCpu).toFixed(0).padStart(3)} %  ` +
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
      clientCpu: median(mine.map((run) => run.clientCpu)),
      p99: median(mine.map((run) => run.p99)),
      non2xx: mine.reduce((sum, run) => sum + run.non2xx, 0),
    });
  }
}
const get = (adapter, server) => summary.get(`${adapter} ${server}`);

console.log('');
console.log(`${rounds > 1 ? `median of ${rounds} rounds` : 'results'}:`);
console.log('  adapter  server             req/s (mean)   p99 ms   non-2xx   load generator CPU');
for (const adapter of ADAPTERS) {
  for (const server of SERVERS) {
    const { reqPerSec, p99, non2xx, clientCpu } = get(adapter, server);
    const bound = clientCpu >= CLIENT_BOUND ? '  generator-bound: a lower bound of the server' : '';
    console.log(
      `  ${adapter.padEnd(8)} ${LABELS[server].padEnd(20)} ${reqPerSec.toFixed(0).padStart(12)} ` +
        `${String(p99).padStart(8)} ${String(non2xx).padStart(9)} ${(100 * clientCpu).toFixed(0).padStart(8)} %${bound}`,
    );
  }
}

console.log('');
const ratio = (adapter, of) => get(adapter, 'package').reqPerSec / get(adapter, of).reqPerSec;
for (const adapter of ADAPTERS) {
  console.log(
    `  ${adapter.padEnd(8)} c/a = ${ratio(adapter, 'bare').toFixed(2)}   c/b = ${ratio(adapter, 'hand-written').toFixed(2)}` +
      `   c/(b+sig) = ${ratio(adapter, 'hand-written-signed').toFixed(2)}`,
  );
}
console.log('');
const capital = (adapter) => `${adapter[0].toUpperCase()}${adapter.slice(1)}`;
for (const { adapter, of, factor } of TARGETS) {
  const measured = ratio(adapter, of);
  const name = `${capital(adapter)} c >= ${factor.toFixed(2)} x ${SHORT[of]}`;
  const caveat =
    get(adapter, of).clientCpu >= CLIENT_BOUND
      ? `; ${SHORT[of]} was generator-bound, so this reads high`
      : '';
  console.log(
    `  target ${name.padEnd(28)} ${measured >= factor ? 'met   ' : 'MISSED'} (measured ${measured.toFixed(2)}x${caveat})`,
  );
}
for (const adapter of ADAPTERS) {
  for (const { server, factor, name } of TELEMETRY_TARGETS) {
    const measured = get(adapter, server).reqPerSec / get(adapter, 'package-telemetry-off').reqPerSec;
    const label = `${adapter[0].toUpperCase()}${adapter.slice(1)} ${name} >= ${factor.toFixed(2)} x off`;
    console.log(
      `  target ${label.padEnd(28)} ${measured >= factor ? 'met   ' : 'MISSED'} (measured ${measured.toFixed(3)}x)`,
    );
  }
}

if (rates.length > 0) {
  console.log('');
  console.log(`latency at a fixed offered rate (${connections} connections, every 2xx answer, ms):`);
  const latencyRuns = [];
  for (let round = 1; round <= rounds; round++) {
    for (const rate of rates) {
      for (const adapter of ADAPTERS) {
        for (const server of LATENCY_SERVERS) {
          const run = await latencyServer(adapter, server, { rate, warmupSeconds, seconds, connections });
          latencyRuns.push(run);
          for (const problem of run.problems) {
            warnings++;
            console.log(`  WARNING ${adapter} ${LABELS[server]} at ${rate}/s: ${problem}`);
          }
        }
      }
    }
  }
  const latency = (adapter, server, rate) => {
    const mine = latencyRuns.filter((r) => r.adapter === adapter && r.server === server && r.rate === rate);
    return {
      achieved: median(mine.map((r) => r.achieved)),
      p50: median(mine.map((r) => r.p50)),
      p99: median(mine.map((r) => r.p99)),
      max: median(mine.map((r) => r.max)),
    };
  };
  console.log('  rate/s  adapter  server               achieved     p50      p99      max');
  for (const rate of rates) {
    for (const adapter of ADAPTERS) {
      for (const server of LATENCY_SERVERS) {
        const { achieved, p50, p99, max } = latency(adapter, server, rate);
        console.log(
          `  ${String(rate).padStart(6)}  ${adapter.padEnd(8)} ${LABELS[server].padEnd(20)} ${achieved.toFixed(0).padStart(8)} ` +
            `${p50.toFixed(2).padStart(7)} ${p99.toFixed(2).padStart(8)} ${max.toFixed(2).padStart(8)}`,
        );
      }
    }
  }
  if (rates.includes(LATENCY_TARGET.rate)) {
    console.log('');
    for (const adapter of ADAPTERS) {
      const measured =
        latency(adapter, 'package', LATENCY_TARGET.rate).p99 /
        latency(adapter, 'bare', LATENCY_TARGET.rate).p99;
      const name = `${capital(adapter)} p99 c <= ${LATENCY_TARGET.factor.toFixed(2)} x a @${LATENCY_TARGET.rate}/s`;
      console.log(
        `  target ${name.padEnd(28)} ${measured <= LATENCY_TARGET.factor ? 'met   ' : 'MISSED'} (measured ${measured.toFixed(2)}x)`,
      );
    }
  }
}
if (process.env.BENCH_SKIP_STORES !== '1') {
  const { benchStores } = await import('./stores.mjs');
  warnings += await benchStores({ adapters: ADAPTERS, rounds, median, warmupSeconds, seconds, connections });
}
if (warnings) console.log(`\n  WARNING: ${warnings} correctness problem(s), see above`);

if (process.env.BENCH_SKIP_TELEMETRY !== '1') {
  // The HTTP runs above compare servers run one after another; telemetry's few-percent cost
  // needs all variants under the same load, which this in-process run gives.
  console.log('');
  const telemetry = spawnSync(process.execPath, [join(BENCH_DIR, 'telemetry.mjs')], {
    cwd: ROOT_DIR,
    stdio: 'inherit',
  });
  if (telemetry.status !== 0) process.exitCode = 1;
}

if (process.env.BENCH_SKIP_TRACKING !== '1') {
  // Outcome tracking on against off, in one process like telemetry (bench/tracking.mjs): the
  // in-memory store, then RedisDlrStore when a Redis server answers. dist/ is built above.
  console.log('');
  const tracking = spawnSync(process.execPath, [join(BENCH_DIR, 'tracking.mjs')], {
    cwd: ROOT_DIR,
    env: { ...process.env, BENCH_SKIP_BUILD: '1' },
    stdio: 'inherit',
  });
  if (tracking.status !== 0) process.exitCode = 1;
}

if (process.env.BENCH_SKIP_ACCOUNTS !== '1') {
  // The list form of module option `accounts` (3 accounts x 2 secrets) against a single secret,
  // in one process like tracking (bench/accounts.mjs). dist/ is built above.
  console.log('');
  const accounts = spawnSync(process.execPath, [join(BENCH_DIR, 'accounts.mjs')], {
    cwd: ROOT_DIR,
    env: { ...process.env, BENCH_SKIP_BUILD: '1' },
    stdio: 'inherit',
  });
  if (accounts.status !== 0) process.exitCode = 1;
}

if (process.env.BENCH_SKIP_MEMORY !== '1') {
  console.log('');
  const memory = spawnSync(process.execPath, ['--expose-gc', join(BENCH_DIR, 'memory.mjs')], {
    cwd: ROOT_DIR,
    stdio: 'inherit',
  });
  if (memory.status !== 0) process.exitCode = 1;
}
if (process.env.BENCH_SKIP_MEMORY !== '1') {
  console.log('');
  const omnimessage = spawnSync(process.execPath, [join(BENCH_DIR, 'omnimessage.mjs')], {
    cwd: ROOT_DIR,
    stdio: 'inherit',
  });
  if (omnimessage.status !== 0) process.exitCode = 1;
  console.log('');
  const outage = spawnSync(process.execPath, [join(BENCH_DIR, 'outage.mjs')], {
    cwd: ROOT_DIR,
    stdio: 'inherit',
  });
  if (outage.status !== 0) process.exitCode = 1;
}
if (process.env.BENCH_BASELINE) {
  // Before/after in one process: the current build against BENCH_BASELINE (a commit, or
  // `default`) compiled in a temporary git worktree, with an A/A control (bench/baseline.mjs).
  // Only when asked for, since it adds and removes a git worktree. dist/ is built above.
  console.log('');
  const baseline = spawnSync(process.execPath, [join(BENCH_DIR, 'baseline.mjs')], {
    cwd: ROOT_DIR,
    env: { ...process.env, BENCH_SKIP_BUILD: '1' },
    stdio: 'inherit',
  });
  if (baseline.status !== 0) process.exitCode = 1;
}
if (warnings) process.exitCode = 1;
