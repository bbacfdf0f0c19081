// Shared by the in-process comparisons (bench/baseline.mjs, bench/tracking.mjs, bench/accounts.mjs):
// Fastify apps of a build of the package driven through inject(), CPU time per batch, the
// statistics of paired rounds and how they are printed (rates, ratios, noise, a target's verdict,
// handler counts), the build and its description, and a Redis server's probe and key cleanup.
// Nothing here imports the package itself: each script passes the build it loaded (its
// dist/index.js as `pkg`). Nest, Fastify and ioredis are loaded on first use, so that importing
// this module (for `median`, say) loads nothing else.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

/** Requests in flight at once in a batch. */
export const CONCURRENCY = 32;

/** The order of three apps in a round: all six permutations, one per round, in turn. */
export const PERMUTATIONS = [
  [0, 1, 2],
  [2, 1, 0],
  [1, 2, 0],
  [0, 2, 1],
  [2, 0, 1],
  [1, 0, 2],
];

/** The median of `values` (the mean of the two middle ones for an even count). */
export function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** A distribution-free 95 % confidence interval of the median (order statistics, normal approximation). */
export function medianInterval(values) {
  const sorted = [...values].sort((x, y) => x - y);
  const n = sorted.length;
  const k = Math.floor((n - 1.96 * Math.sqrt(n)) / 2);
  return k < 1 ? [sorted[0], sorted[n - 1]] : [sorted[k - 1], sorted[n - k]];
}

/** A ratio as a signed percentage: 0.93 → `-7.0 %`. */
export const pct = (ratio) => `${ratio >= 1 ? '+' : ''}${(100 * (ratio - 1)).toFixed(1)} %`;
/** An interval as `low-high`, three decimals. */
export const range = ([low, high]) => `${low.toFixed(3)}-${high.toFixed(3)}`;

/** How long a batch waits for its handler calls before it counts them as missing (idle time). */
export const HANDLER_WAIT_MS = 5000;

/** Each round's rate of `entry` divided by that of `base` in the same round. */
export const pairedRatios = (entry, base) => entry.rates.map((rate, round) => rate / base.rates[round]);

/**
 * What noise looks like in this run, from the A/A control's paired ratios: the larger of its
 * median's distance from 1 and half the width of its 95 % confidence interval.
 */
export function noiseOf(controlRatios) {
  const [low, high] = medianInterval(controlRatios);
  return Math.max(Math.abs(1 - median(controlRatios)), (high - low) / 2);
}

/** Prints one line per app: its median reports per CPU-second, min and max; `nameOf(entry)` names it. */
export function printRates(entries, nameOf) {
  const width = Math.max(...entries.map((entry) => nameOf(entry).length));
  for (const entry of entries) {
    const { rates } = entry;
    console.log(
      `  ${nameOf(entry).padEnd(width)} ${median(rates).toFixed(0).padStart(7)} reports per CPU-second ` +
        `(median; min ${Math.min(...rates).toFixed(0)}, max ${Math.max(...rates).toFixed(0)})`,
    );
  }
}

/** Prints one line per `[label, ratios]`: the median ratio, its 95 % CI and the rounds' range. */
export function printRatios(rows) {
  const width = Math.max(...rows.map(([label]) => label.length)) + 1;
  for (const [label, ratios] of rows) {
    const ratio = median(ratios);
    console.log(
      `  ${label.padEnd(width)} ${ratio.toFixed(3)} (median of ${ratios.length} rounds, ${pct(ratio)}; 95 % CI ` +
        `${range(medianInterval(ratios))}; rounds ${range([Math.min(...ratios), Math.max(...ratios)])})`,
    );
  }
}

/** Prints the noise of the run (noiseOf). */
export function printNoise(noise) {
  console.log(
    `  noise ±${(100 * noise).toFixed(1)} % (the A/A median's distance from 1 or half its 95 % CI, the larger)`,
  );
}

/**
 * The verdict on a target "median ratio >= target": `met`, and `text` such as
 * `met: on/off 0.950, -5.0 % (its whole 95 % CI is above the target)` (`label` names the ratio, if
 * given), saying whether the median alone or the whole interval meets it, and when the median is
 * within noise of the target.
 */
export function targetVerdict(ratios, target, noise, label = '') {
  const ratio = median(ratios);
  const [low, high] = medianInterval(ratios);
  const met = ratio >= target;
  const how = met
    ? low >= target
      ? 'its whole 95 % CI is above the target'
      : `by the median only: its 95 % CI reaches down to ${low.toFixed(3)}`
    : high >= target
      ? `by the median; its 95 % CI reaches up to ${high.toFixed(3)}`
      : 'its whole 95 % CI is below the target';
  const close = Math.abs(ratio - target) < noise ? '; within noise of the target: run it again' : '';
  return {
    met,
    text: `${met ? 'met' : 'MISSED'}: ${label ? `${label} ` : ''}${ratio.toFixed(3)}, ${pct(ratio)} (${how}${close})`,
  };
}

/**
 * Waits until `entry`'s handler count `field` stops moving (settledCalls) and checks it against
 * `expected` (default: the 200s) and that nothing was refused. Returns `{ ok, count, text }`, the
 * text as `label 1000 = 1000`, with the first refusal when there was one.
 */
export async function checkCalls(entry, label, field = 'calls', expected = entry.accepted) {
  const count = await settledCalls(entry, field);
  const ok = count === expected && (field !== 'calls' || entry.refused === 0);
  const refusals =
    field === 'calls' && entry.refused ? ` (${entry.refused} refused, first: ${entry.refusal})` : '';
  return { ok, count, text: `${label} ${count} ${count === expected ? '=' : '!='} ${expected}${refusals}` };
}

/** `npm run build` in `root` unless BENCH_SKIP_BUILD=1; throws when it fails. */
export function buildPackage(root) {
  if (process.env.BENCH_SKIP_BUILD === '1') return;
  const built = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) throw new Error(`npm run build failed (${built.status})`);
}

/**
 * The working tree at `root`: `{ head, changed, text }`, the short HEAD, how many files in lib/
 * differ from it, and a line such as `the working tree: HEAD 29902ff, lib/ as committed`.
 */
export function workingTree(root) {
  const git = (...args) => {
    const result = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
    return result.status === 0 ? result.stdout.trim() : '?';
  };
  const head = git('rev-parse', '--short', 'HEAD');
  const changed = git('status', '--porcelain', '--', 'lib').split('\n').filter(Boolean).length;
  const text =
    `the working tree: HEAD ${head}` +
    (changed ? `, ${changed} file(s) in lib/ changed or new since` : ', lib/ as committed');
  return { head, changed, text };
}

/** The start of a run's setup line: Node, the CPUs, and the rounds, batches and concurrency. */
export function describeRun({ rounds, batch, warmupBatches }) {
  const cpu = cpus();
  return (
    `node ${process.version}, ${cpu.length} x ${cpu[0]?.model.trim() ?? 'cpu'}; Fastify inject, ${rounds} rounds ` +
    `of ${batch} reports per app (after ${warmupBatches} unmeasured), ${CONCURRENCY} at once`
  );
}

/** Applies a method decorator of `pkg` to `Class.prototype[method]`, as TypeScript would. */
function decorate(Class, method, decorator) {
  const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, method);
  const decorated = decorator(Class.prototype, method, descriptor);
  Object.defineProperty(Class.prototype, method, decorated ?? descriptor);
}

/**
 * Handler counts that can be waited for: `calls` (status changes), `outcomes` (outcome changes)
 * and `results` (outcome changes by result); `reach()` resolves once a count is at least `target`.
 */
function createCounter() {
  const waiters = new Set();
  const counter = {
    calls: 0,
    outcomes: 0,
    results: {},
    notify() {
      for (const waiter of waiters) {
        if (counter[waiter.field] >= waiter.target) {
          waiters.delete(waiter);
          waiter.resolve(true);
        }
      }
    },
    /** Resolves true once `counter[field] >= target`, false after `timeoutMs` (idle time, no CPU). */
    reach(field, target, timeoutMs = 10_000) {
      if (counter[field] >= target) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiter = { field, target, resolve };
        waiters.add(waiter);
        setTimeout(() => {
          if (waiters.delete(waiter)) resolve(false);
        }, timeoutMs).unref();
      });
    },
  };
  return counter;
}

/**
 * A Fastify app of the build `pkg` (its dist/index.js, loaded): MessenteDlrModule.forRoot with one
 * secret, loopback allowed and `options` on top, one `@OnDlrStatus('*')` handler that counts its
 * calls and, with `outcomes: true`, one `@OnDeliveryOutcome('*')` handler that counts its calls by
 * result. The app module is plain JS, decorators applied as functions. Returns
 * `{ app, fastify, counter, accepted, refused, refusal, rates, ...extra }`.
 */
export async function startApp(pkg, { secret, options = {}, outcomes = false, extra = {} }) {
  await import('reflect-metadata');
  const { Injectable, Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  const counter = createCounter();
  class Handlers {
    on() {
      counter.calls++;
      counter.notify();
    }
    onOutcome(event) {
      const result = event.outcome.result;
      counter.results[result] = (counter.results[result] ?? 0) + 1;
      counter.outcomes++;
      counter.notify();
    }
  }
  Injectable()(Handlers);
  decorate(Handlers, 'on', pkg.OnDlrStatus('*'));
  if (outcomes) decorate(Handlers, 'onOutcome', pkg.OnDeliveryOutcome('*'));
  class AppModule {}
  Module({
    imports: [
      pkg.MessenteDlrModule.forRoot({
        signatureSecrets: [secret],
        allowedIps: ['127.0.0.1'],
        ...options,
      }),
    ],
    providers: [Handlers],
  })(AppModule);
  const app = await NestFactory.create(AppModule, new FastifyAdapter(), { rawBody: true, logger: false });
  await app.init();
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.ready();
  return { ...extra, app, fastify, counter, accepted: 0, refused: 0, refusal: null, rates: [] };
}

/**
 * Sends `requests` (`{ body, headers }`) to `path` of one app, CONCURRENCY at once; returns reports
 * per CPU-second (process.cpuUsage, user + system). With `until`, the measured time runs on until
 * the promise it returns settles (e.g. handlers that run after the answer).
 */
export async function runBatch(entry, requests, path, until) {
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const { body, headers } = requests[next++];
      const response = await entry.fastify.inject({ method: 'POST', url: path, headers, payload: body });
      if (response.statusCode === 200) entry.accepted++;
      else {
        entry.refused++;
        entry.refusal ??= `${response.statusCode} ${response.body.slice(0, 200)}`;
      }
    }
  };
  const started = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (until) await until();
  const used = process.cpuUsage(started);
  return requests.length / ((used.user + used.system) / 1e6);
}

/** Handlers may run after the answer: the count `field`, once it stops moving. */
export async function settledCalls(entry, field = 'calls') {
  let previous = -1;
  for (let tries = 0; tries < 50 && entry.counter[field] !== previous; tries++) {
    previous = entry.counter[field];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return entry.counter[field];
}

/** True when a Redis server answers PING at `url` within a second. */
export async function redisAnswers(url) {
  const { Redis } = await import('ioredis');
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Deletes every key of the Redis server at `url` whose name starts with `prefix` (SCAN + UNLINK). */
export async function deleteRedisKeys(url, prefix) {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await client.unlink(...keys);
      cursor = nextCursor;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
