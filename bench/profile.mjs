// Where a bench server spends its time: `node bench/profile.mjs [fastify|express] [bare|hand-written|package]`
// (default: fastify package). Runs that server under the bench load with `node --cpu-prof`, then
// prints the top self-time functions and the self time per package from the .cpuprofile.
// Env as run.mjs (BENCH_SECONDS, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_SKIP_BUILD); BENCH_TOP rows.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from './build.mjs';

const [adapter = 'fastify', server = 'package'] = process.argv.slice(2);
build();
const { benchServer, where } = await import('./harness.mjs');

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const warmupSeconds = Number(process.env.BENCH_WARMUP ?? 2);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const top = Number(process.env.BENCH_TOP ?? 30);

const dir = mkdtempSync(join(tmpdir(), 'dlr-bench-prof-'));
const result = await benchServer(adapter, server, {
  warmupSeconds,
  seconds,
  connections,
  nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
});
console.log(
  `${adapter} ${server} under --cpu-prof: ${Math.round(result.reqPerSec)} req/s, p99 ${result.p99} ms` +
    `${result.problems.length ? `, WARNING ${result.problems.join('; ')}` : ''}`,
);
const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
console.log(`profile: ${join(dir, file)} (warm-up and measured phase, plus startup)`);
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));

const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
}

function area(url) {
  const path = where(url);
  if (!url) return '(native / vm)';
  if (path.startsWith('node:')) return 'node core';
  if (url.includes('/node_modules/')) {
    const parts = path.split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (path.startsWith('dist/')) return 'nestjs-messente-dlr (dist/)';
  return path.split('/')[0];
}

const byFunction = new Map();
const byArea = new Map();
let busy = 0;
let idle = 0;
for (const [id, ms] of self) {
  const { functionName, url, lineNumber } = nodes.get(id).callFrame;
  if (functionName === '(idle)') {
    idle += ms;
    continue;
  }
  busy += ms;
  const key = `${functionName || '(anonymous)'}  ${where(url)}${url ? `:${lineNumber + 1}` : ''}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
  const group = functionName.startsWith('(') && !url ? functionName : area(url);
  byArea.set(group, (byArea.get(group) ?? 0) + ms);
}

// Inclusive time of the package's own functions (a frame counted once per stack).
const byPackageFunction = new Map();
const parents = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
for (const [id, ms] of self) {
  const counted = new Set();
  for (let at = id; at !== undefined; at = parents.get(at)) {
    const { functionName, url, lineNumber } = nodes.get(at).callFrame;
    if (!where(url).startsWith('dist/')) continue;
    const key = `${functionName || '(anonymous)'}  ${where(url)}:${lineNumber + 1}`;
    if (counted.has(key)) continue;
    counted.add(key);
    byPackageFunction.set(key, (byPackageFunction.get(key) ?? 0) + ms);
  }
}

const writev = [...byFunction]
  .filter(([key]) => key.startsWith('writev  '))
  .reduce((sum, [, ms]) => sum + ms, 0);
const perRequest = (ms) => `${((1000 * ms) / result.handled).toFixed(1)} us`;
const pct = (ms) => `${((100 * ms) / busy).toFixed(1).padStart(5)}%`;
console.log(
  `busy ${(busy / 1000).toFixed(1)} s, idle ${(idle / 1000).toFixed(1)} s; percentages of busy time`,
);
console.log(
  `per handled report (${result.handled}): busy ${perRequest(busy)}, ` +
    `of which writev ${perRequest(writev)} (the socket write; on a busy 2-core box it includes time off-CPU)`,
);
console.log('\nself time by package:');
for (const [name, ms] of [...byArea].sort((x, y) => y[1] - x[1]).slice(0, 15)) {
  console.log(`  ${pct(ms)} ${(ms / 1000).toFixed(2).padStart(6)} s  ${name}`);
}
console.log(`\ntop ${top} functions by self time:`);
for (const [name, ms] of [...byFunction].sort((x, y) => y[1] - x[1]).slice(0, top)) {
  console.log(`  ${pct(ms)} ${(ms / 1000).toFixed(2).padStart(6)} s  ${name}`);
}
console.log(`\ntop 15 functions of the package (dist/) by inclusive time:`);
for (const [name, ms] of [...byPackageFunction].sort((x, y) => y[1] - x[1]).slice(0, 15)) {
  console.log(`  ${pct(ms)} ${(ms / 1000).toFixed(2).padStart(6)} s  ${perRequest(ms).padStart(8)}  ${name}`);
}
