// What the board's Delivery panel costs to answer: `node bench/delivery.mjs` (npm run bench:delivery).
//
// How it works: the current tree is built (`npm run build`, skipped with BENCH_SKIP_BUILD=1) and
// loaded once. Per store, two stores are filled through `tallyDelivery`, as the module's
// telemetry point fills them (one `started` step per message, at its track(), then its first
// report, final: 90 % `delivered`, 10 % `failed` with a reason), BENCH_DELIVERY_REPORTS reports
// (default 100 000) in all: one store with them spread over the last hour, read with window `1h`
// (60 minute buckets), the other spread over the last 24 hours, read with `24h` (24 hour
// buckets). Channels sms / viber / whatsapp, 12 countries, durations from 1 s to 2 h. A third
// store of the same kind is left empty.
//
// What is measured is the panel's query, `deliveryBuckets(window, now)` then
// `summarizeDelivery(window, now, rows)` (what `GET {path}/api/delivery` does), in wall time
// (performance.now; the work of Redis and PostgreSQL happens outside this process), against the
// same query over the empty store's window: the baseline, the fixed cost of a round trip and of
// the buckets read. Full and empty queries alternate, BENCH_DELIVERY_QUERIES times each (default
// 50, after 5 unmeasured), and the median of each is printed with its ratio. `ping()` is timed
// alongside, for scale. Each full answer is checked: delivered + failed must equal the reports.
//
// Stores: InMemoryDlrStore; RedisDlrStore at BENCH_DELIVERY_REDIS_URL (default
// redis://127.0.0.1:6379, a fresh key prefix, deleted at the end); PostgresDlrStore at
// BENCH_DELIVERY_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test, fresh schemas,
// dropped at the end). A store is skipped, saying why, when its server does not answer or the
// built store has no `tallyDelivery` / `deliveryBuckets`.
//
// Exit code 1 for errors (a wrong answer, a failed build), never for the timings.
//
// Env: BENCH_DELIVERY_REPORTS, BENCH_DELIVERY_QUERIES, BENCH_DELIVERY_BATCH (tallies per
// tallyDelivery call while filling, default 500), BENCH_DELIVERY_STORES (default
// memory,redis,postgres), BENCH_DELIVERY_REDIS_URL, BENCH_DELIVERY_DATABASE_URL,
// BENCH_SKIP_BUILD=1 (reuse dist/).
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deleteRedisKeys, median, redisAnswers } from './in-process.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const reports = Number(process.env.BENCH_DELIVERY_REPORTS ?? 100_000);
const queries = Number(process.env.BENCH_DELIVERY_QUERIES ?? 50);
const batchSize = Number(process.env.BENCH_DELIVERY_BATCH ?? 500);
const wanted = (process.env.BENCH_DELIVERY_STORES ?? 'memory,redis,postgres').split(',');
const redisUrl = process.env.BENCH_DELIVERY_REDIS_URL ?? 'redis://127.0.0.1:6379';
const databaseUrl = process.env.BENCH_DELIVERY_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const WARMUP = 5;
/** Fill calls in flight at once: the ledger of a few instances. */
const FILL_CONCURRENCY = 4;

const CHANNELS = [
  ['sms', 0.7],
  ['viber', 0.2],
  ['whatsapp', 0.1],
];
const COUNTRIES = ['EE', 'LV', 'LT', 'FI', 'SE', 'GB', 'DE', 'PL', 'US', 'UA', 'NG', '_OTHER'];
const REASONS = ['expired', 'no_route', 'rejected', null];

function git(...args) {
  const result = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : '?';
}

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

/** One of `weighted` ([value, weight] pairs) at random. */
function pick(weighted) {
  let left = Math.random();
  for (const [value, weight] of weighted) if ((left -= weight) < 0) return value;
  return weighted[0][0];
}

/**
 * The tallies of `reports` messages whose reports were received evenly over [from, to]: per
 * message its start (track(), `at` = `receivedAt` = the report's time less its duration) and
 * its final step.
 */
function traffic(runId, from, to) {
  const tallies = [];
  for (let i = 0; i < reports; i++) {
    const receivedAt = Math.floor(from + ((to - from) * i) / reports);
    const seconds = Math.exp(Math.random() * Math.log(7_200));
    const base = {
      messageId: `${runId}-${i}`,
      channel: pick(CHANNELS),
      country: COUNTRIES[Math.floor(Math.random() * COUNTRIES.length)],
    };
    const startedAt = receivedAt - Math.round(seconds * 1000);
    tallies.push({ ...base, step: 'started', reason: null, at: startedAt, receivedAt: startedAt });
    const failed = Math.random() < 0.1;
    tallies.push({
      ...base,
      step: failed ? 'failed' : 'delivered',
      reason: failed ? REASONS[Math.floor(Math.random() * REASONS.length)] : null,
      at: receivedAt,
      receivedAt,
    });
  }
  return tallies;
}

/** Hands `tallies` to the store in batches, FILL_CONCURRENCY calls at once; returns the seconds taken. */
async function fill(store, tallies) {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < tallies.length) {
      const batch = tallies.slice(next, (next += batchSize));
      await store.tallyDelivery(batch);
    }
  };
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, worker));
  return (performance.now() - started) / 1000;
}

let problems = 0;
const cleanups = [];
try {
  if (process.env.BENCH_SKIP_BUILD !== '1') {
    const built = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (built.status !== 0) throw new Error(`npm run build failed (${built.status})`);
  }
  // Loaded only now, from dist/: the stores by the package's own name, the shared analytics by path.
  const { InMemoryDlrStore } = await import('nestjs-messente-dlr');
  // The optional entries may not load while their stores are being changed: that store is skipped.
  const optional = (entry) => import(entry).catch((error) => ({ failed: String(error).split('\n')[0] }));
  const redisEntry = await optional('nestjs-messente-dlr/redis');
  const postgresEntry = await optional('nestjs-messente-dlr/postgres');
  const dist = (path) => import(pathToFileURL(join(ROOT, 'dist', path)).href);
  const { summarizeDelivery } = await dist('analytics/summarize-delivery.js');
  const { deliveryWindowRange } = await dist('analytics/delivery-window.js');

  /** The panel's query: the rows of the window, summed. */
  const panel = async (store, window, now) =>
    summarizeDelivery(window, now, await store.deliveryBuckets(window, now));
  const timed = async (run) => {
    const started = performance.now();
    const answer = await run();
    return { ms: performance.now() - started, answer };
  };

  /** Fills, measures and prints one kind of store; `make(name)` gives a fresh, empty store. */
  async function bench(title, make) {
    console.log(`\n${title}:`);
    const runId = `${process.pid}-${Date.now().toString(36)}`;
    const now = Date.now();
    const empty = await make('empty');
    cleanups.push(() => empty.close?.());
    for (const window of ['1h', '24h']) {
      const range = deliveryWindowRange(window, now);
      const full = await make(window);
      cleanups.push(() => full.close?.());
      const tallies = traffic(`${runId}-${window}`, range.first, now);
      const seconds = await fill(full, tallies);
      const rows = (await full.deliveryBuckets(window, now)).length;
      console.log(
        `  ${window.padEnd(3)} fill: ${tallies.length} tallies of ${reports} reports in ${seconds.toFixed(1)} s ` +
          `(${Math.round(tallies.length / seconds)} tallies/s, ${batchSize} per call, ${FILL_CONCURRENCY} calls at once); ` +
          `the window answers ${rows} rows`,
      );
      const times = { full: [], empty: [], ping: [] };
      for (let i = -WARMUP; i < queries; i++) {
        // Alternate the order, so that neither the baseline nor ping always runs just after the
        // full query (and the garbage its answer leaves).
        const order = i % 2 ? ['empty', 'ping', 'full'] : ['full', 'ping', 'empty'];
        for (const which of order) {
          const { ms, answer } =
            which === 'ping'
              ? await timed(() => full.ping())
              : await timed(() => panel(which === 'full' ? full : empty, window, now));
          if (i >= 0) times[which].push(ms);
          if (which === 'ping') continue;
          const final = answer.total.delivered + answer.total.failed;
          const expected = which === 'full' ? reports : 0;
          if (final !== expected) {
            problems++;
            console.log(`  WARNING ${window} ${which}: delivered + failed = ${final}, expected ${expected}`);
          }
        }
      }
      const [fullMs, emptyMs, pingMs] = [median(times.full), median(times.empty), median(times.ping)];
      console.log(
        `  ${window.padEnd(3)} query: ${fullMs.toFixed(3)} ms with ${reports} reports, ${emptyMs.toFixed(3)} ms empty ` +
          `(baseline): ratio ${(fullMs / emptyMs).toFixed(1)}x, +${(fullMs - emptyMs).toFixed(3)} ms; ` +
          `ping ${pingMs.toFixed(3)} ms (medians of ${queries}; full min ${Math.min(...times.full).toFixed(3)}, ` +
          `max ${Math.max(...times.full).toFixed(3)})`,
      );
    }
  }

  const has = (Store) =>
    typeof Store.prototype.tallyDelivery === 'function' &&
    typeof Store.prototype.deliveryBuckets === 'function';
  const cpu = cpus();
  const head = git('rev-parse', '--short', 'HEAD');
  const changed = git('status', '--porcelain', '--', 'lib').split('\n').filter(Boolean).length;
  console.log('the Delivery panel query: deliveryBuckets + summarizeDelivery (bench/delivery.mjs)');
  console.log(
    `  build the working tree: HEAD ${head}` +
      (changed ? `, ${changed} file(s) in lib/ changed or new since` : ', lib/ as committed'),
  );
  console.log(
    `node ${process.version}, ${cpu.length} x ${cpu[0]?.model.trim() ?? 'cpu'}; load average ${load()} (1, 5, 15 min) ` +
      `at the start; ${reports} reports per window, ${queries} queries each, wall time`,
  );

  if (wanted.includes('memory')) {
    await bench('InMemoryDlrStore (default)', () => new InMemoryDlrStore());
  }

  if (!wanted.includes('redis')) {
    console.log('\nRedisDlrStore: skipped (not in BENCH_DELIVERY_STORES)');
  } else if (redisEntry.failed) {
    console.log(`\nRedisDlrStore: skipped (nestjs-messente-dlr/redis does not load: ${redisEntry.failed})`);
  } else if (!has(redisEntry.RedisDlrStore)) {
    console.log('\nRedisDlrStore: skipped (the built store has no tallyDelivery / deliveryBuckets)');
  } else if (!(await redisAnswers(redisUrl))) {
    console.log(`\nRedisDlrStore: skipped (no Redis answering at ${redisUrl})`);
  } else {
    const prefix = `bench-delivery:${process.pid}-${Date.now().toString(36)}:`;
    cleanups.push(() => deleteRedisKeys(redisUrl, prefix));
    await bench(
      `RedisDlrStore (${redisUrl}, key prefix ${prefix}<empty|1h|24h>:)`,
      (name) => new redisEntry.RedisDlrStore({ url: redisUrl, keyPrefix: `${prefix}${name}:` }),
    );
  }

  if (!wanted.includes('postgres')) {
    console.log('\nPostgresDlrStore: skipped (not in BENCH_DELIVERY_STORES)');
  } else if (postgresEntry.failed) {
    console.log(
      `\nPostgresDlrStore: skipped (nestjs-messente-dlr/postgres does not load: ${postgresEntry.failed})`,
    );
  } else if (!has(postgresEntry.PostgresDlrStore)) {
    console.log('\nPostgresDlrStore: skipped (the built store has no tallyDelivery / deliveryBuckets)');
  } else {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 8, connectionTimeoutMillis: 2000 });
    pool.on('error', () => {});
    const reachable = await pool.query('SELECT 1').then(
      () => true,
      () => false,
    );
    if (!reachable) {
      await pool.end();
      console.log(`\nPostgresDlrStore: skipped (no PostgreSQL answering at ${databaseUrl})`);
    } else {
      const prefix = `bd_${process.pid}_${Date.now().toString(36)}`; // short: the store names its queries after the schema
      const schemas = [];
      // Runs after the stores' own close(): cleanups run last first.
      cleanups.push(async () => {
        for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pool.end();
      });
      await bench(
        `PostgresDlrStore (${databaseUrl.replace(/\/\/[^@/]*@/, '//')}, schemas ${prefix}_<empty|1h|24h>)`,
        (name) => {
          const schema = `${prefix}_${name}`;
          schemas.push(schema);
          return new postgresEntry.PostgresDlrStore({ pool, schema, pruneIntervalMs: 0 });
        },
      );
    }
  }

  console.log(`\nload average ${load()} (1, 5, 15 min) at the end`);
  if (problems) {
    console.log(`\n  WARNING: ${problems} wrong answer(s)`);
    process.exitCode = 1;
  }
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) {
    await Promise.resolve()
      .then(cleanup)
      .catch((error) => console.error(`cleanup: ${error}`));
  }
}
