// Before/after, same run: `node bench/baseline.mjs [REV]` (npm run bench:baseline; REV defaults to
// BENCH_BASELINE, else 25253a0, the last commit before "The house" refactor).
//
// How it works: REV is checked out into a temporary git worktree (`git worktree add --detach`),
// given this checkout's node_modules (a symlink) and compiled there with tsconfig.build.json; the
// current tree is built as usual (`npm run build`, skipped with BENCH_SKIP_BUILD=1). Then, in this
// one process, Fastify apps of both builds (MessenteDlrModule.forRoot with one secret, loopback
// allowed, one `@OnDlrStatus('*')` handler that counts its calls; the app module is plain JS,
// decorators applied as functions) get the same fresh signed reports through Fastify's inject()
// (the whole Nest pipeline, no sockets), in short batches taken in turn. What is compared is the
// process's CPU time per batch (process.cpuUsage, user + system), paired by round as in
// bench/telemetry.mjs. A third app, of a second copy of the baseline build loaded as modules of
// its own, is an A/A control: it differs from the baseline by nothing but noise, so its spread
// is what noise looks like in this run. The order of the three apps goes through all six
// permutations, one per round, so that none is always first or last. The apps, the batches, the
// statistics, what is printed of them and the Redis probe and cleanup are bench/in-process.mjs's,
// shared with bench/tracking.mjs and bench/accounts.mjs.
//
// Reports of a round are made (and signed) before it starts, outside the measured time; every
// app gets the same ones, each app's store being its own. Then the same with RedisDlrStore from
// each build's dist/redis/index.js if a Redis server answers (BENCH_BASELINE_REDIS_URL, default
// redis://127.0.0.1:6379): a key prefix per build and per run, deleted at the end.
//
// Verdict: noise is the larger of the A/A median ratio's distance from 1 and the half-width of
// its 95 % confidence interval (distribution-free, from order statistics). A current/baseline
// median below 1 - noise is a slowdown beyond noise. Exit code 1 only for errors (non-200
// answers, handler calls that differ from the 200s, a failed build, builds that load different
// copies of @nestjs/*), not for the verdict.
//
// Env: BENCH_BASELINE (REV, or `default`), BENCH_BASELINE_ROUNDS (default 30), BENCH_BASELINE_BATCH
// (reports per batch, default 1000), BENCH_BASELINE_WARMUP (unmeasured batches per app first, default 3),
// BENCH_BASELINE_REDIS_URL, BENCH_BASELINE_REDIS=0 (skip Redis),
// BENCH_SKIP_BUILD=1 (reuse dist/ of the current tree; the baseline is always compiled).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  PERMUTATIONS,
  checkCalls,
  deleteRedisKeys,
  describeRun,
  median,
  noiseOf,
  pairedRatios,
  pct,
  printRates,
  printRatios,
  redisAnswers,
  runBatch,
  startApp,
  workingTree,
} from './in-process.mjs';

const DEFAULT_REV = '25253a0';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const requested = process.argv[2] ?? process.env.BENCH_BASELINE;
const rev = !requested || requested === 'default' ? DEFAULT_REV : requested;
const rounds = Number(process.env.BENCH_BASELINE_ROUNDS ?? 30);
const batch = Number(process.env.BENCH_BASELINE_BATCH ?? 1000);
const warmupBatches = Number(process.env.BENCH_BASELINE_WARMUP ?? 3);
const redisUrl = process.env.BENCH_BASELINE_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Packages both builds must load from the same place: one Nest, one reflect-metadata, … */
const SHARED = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/platform-fastify',
  '@nestjs/event-emitter',
  '@nestjs/cqrs',
  '@opentelemetry/api',
  'reflect-metadata',
  'rxjs',
  'class-validator',
  'class-transformer',
  'lru-cache',
  'ioredis',
];

function git(...args) {
  const result = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed (${result.status})`);
}

/** Where `name` is found from `file`, as Node looks for it (node_modules upwards), symlinks resolved. */
function packageDir(file, name) {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return realpathSync(dirname(candidate));
    if (dirname(dir) === dir) return null;
  }
}

// ---- the baseline worktree, removed whatever happens -------------------------------------------
const commit = spawnSync('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], {
  cwd: ROOT,
  encoding: 'utf8',
}).stdout.trim();
if (!commit) throw new Error(`bench/baseline.mjs: ${rev} is not a commit of this repository`);
const temp = mkdtempSync(join(tmpdir(), 'messente-dlr-baseline-'));
const tree = join(temp, 'tree');
let worktreeAdded = false;
function cleanUp() {
  try {
    if (existsSync(join(tree, 'node_modules'))) unlinkSync(join(tree, 'node_modules')); // the symlink only
  } catch {
    // removed below with the worktree at worst; git does not follow symlinks
  }
  if (worktreeAdded) {
    const removed = spawnSync('git', ['worktree', 'remove', '--force', tree], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (removed.status !== 0) console.error(`git worktree remove: ${removed.stderr.trim()}`);
    worktreeAdded = false;
  }
  rmSync(temp, { recursive: true, force: true });
  spawnSync('git', ['worktree', 'prune'], { cwd: ROOT });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

const apps = [];
let redisCleanup = null;
try {
  git('worktree', 'add', '--detach', tree, commit);
  worktreeAdded = true;
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'), 'dir');
  run(join(tree, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], tree);
  // The A/A control: the same compiled files under another path, so Node loads them as modules
  // of their own, with their own compiled code, as the current build's are.
  cpSync(join(tree, 'dist'), join(tree, 'dist-control'), { recursive: true });
  if (process.env.BENCH_SKIP_BUILD !== '1') run('npm', ['run', '--silent', 'build'], ROOT);

  const workTree = workingTree(ROOT);
  const { head, changed } = workTree;
  const baseName = `baseline ${commit.slice(0, 7)}`;
  const BUILDS = [
    { name: baseName, short: 'baseline', dist: join(tree, 'dist') },
    { name: `current (${head}${changed ? `+${changed}` : ''})`, short: 'current', dist: join(ROOT, 'dist') },
    { name: `${baseName} again`, short: 'A/A', dist: join(tree, 'dist-control') },
  ];
  const where = (build) => join(build.dist, 'index.js');
  for (const name of SHARED) {
    const mine = packageDir(fileURLToPath(import.meta.url), name);
    for (const build of BUILDS) {
      const theirs = packageDir(where(build), name);
      if (theirs !== mine)
        throw new Error(`${build.name} loads ${name} from ${theirs}, this script from ${mine}`);
    }
  }

  // Loaded only now: harness.mjs signs with the current build's testing entry.
  const { DLR_PATH, SECRET, createTraffic } = await import('./harness.mjs');
  for (const build of BUILDS) {
    build.pkg = await import(pathToFileURL(where(build)).href);
    build.redis = await import(pathToFileURL(join(build.dist, 'redis', 'index.js')).href);
  }

  /** A Fastify app of `build` (in-process.mjs: one secret, loopback allowed, one counting '*' handler). */
  async function start(build, options) {
    const entry = await startApp(build.pkg, { secret: SECRET, options, extra: { build } });
    apps.push(entry);
    return entry;
  }

  const traffic = createTraffic();
  /** `batch` fresh signed reports, made before the measured batches that share them. */
  function reports() {
    return Array.from({ length: batch }, () => {
      const { body, headers } = traffic.request.setupRequest({ headers: {} });
      return { body, headers };
    });
  }

  let problems = 0;

  /** One comparison: three apps on `storeFor(build, index)`, `rounds` rounds, then the report. */
  async function compare(title, storeFor) {
    const entries = [];
    for (const [index, build] of BUILDS.entries()) {
      const store = await storeFor(build, index);
      entries.push(await start(build, store ? { store } : {}));
    }
    for (let i = 0; i < warmupBatches; i++) {
      const warmup = reports();
      for (const entry of entries) await runBatch(entry, warmup, DLR_PATH);
    }
    for (let round = 0; round < rounds; round++) {
      const requests = reports();
      for (const i of PERMUTATIONS[round % PERMUTATIONS.length]) {
        entries[i].rates.push(await runBatch(entries[i], requests, DLR_PATH));
      }
    }
    const [base, current, control] = entries;
    const currentRatios = pairedRatios(current, base);
    const controlRatios = pairedRatios(control, base);
    const currentRatio = median(currentRatios);
    const noise = noiseOf(controlRatios);

    console.log('');
    console.log(`${title}:`);
    printRates(entries, (entry) => entry.build.name);
    printRatios([
      ['current / baseline', currentRatios],
      ['A/A: again / baseline', controlRatios],
    ]);
    const verdict =
      currentRatio < 1 - noise
        ? `SLOWDOWN beyond noise: current ${pct(currentRatio)}, noise ±${(100 * noise).toFixed(1)} %`
        : currentRatio > 1 + noise
          ? `no slowdown beyond noise (faster beyond noise: ${pct(currentRatio)}, noise ±${(100 * noise).toFixed(1)} %)`
          : `no slowdown beyond noise (current ${pct(currentRatio)}, noise ±${(100 * noise).toFixed(1)} %)`;
    console.log(`  verdict: ${verdict}`);
    const checks = await Promise.all(entries.map((entry) => checkCalls(entry, entry.build.short)));
    const wrong = checks.filter((check) => !check.ok).length;
    console.log(
      `  handler calls = 200s: ${checks.map((check) => check.text).join('; ')}${wrong ? '  WARNING' : ''}`,
    );
    problems += wrong;
    for (const entry of entries) await entry.app.close();
    apps.length = 0;
  }

  const subject = git('log', '-1', '--format=%s', commit);
  console.log('before/after in one process (bench/baseline.mjs):');
  console.log(
    `  baseline  ${commit.slice(0, 7)} ${subject.length > 80 ? `${subject.slice(0, 79)}…` : subject}`,
  );
  console.log(`  current   ${workTree.text}`);
  console.log('  A/A       a second copy of the baseline build, loaded as modules of its own');
  console.log(
    `${describeRun({ rounds, batch, warmupBatches })}; CPU time (user + system) per batch; order permuted every round`,
  );

  await compare('in-memory store (default)', () => undefined);

  let redisReachable = false;
  if (process.env.BENCH_BASELINE_REDIS !== '0') {
    redisReachable = await redisAnswers(redisUrl);
    if (redisReachable) {
      const runPrefix = `bench-baseline:${process.pid}-${Date.now().toString(36)}:`;
      redisCleanup = () => deleteRedisKeys(redisUrl, runPrefix);
      await compare(
        `RedisDlrStore (${redisUrl}, key prefix ${runPrefix}<app>:)`,
        (build, index) =>
          new build.redis.RedisDlrStore({ url: redisUrl, keyPrefix: `${runPrefix}${index}:` }),
      );
    }
  }
  if (!redisReachable) console.log(`\nRedisDlrStore: skipped (no Redis answering at ${redisUrl})`);
  if (problems) {
    console.log(`\n  WARNING: ${problems} app(s) with refused reports or handler calls != 200s`);
    process.exitCode = 1;
  }
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  for (const entry of apps) await entry.app.close().catch(() => {});
  if (redisCleanup) await redisCleanup().catch((error) => console.error(`Redis key cleanup: ${error}`));
  cleanUp();
}
