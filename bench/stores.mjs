// The store comparison of `npm run bench`: this package, as (c), on the in-memory store, on
// Redis and on PostgreSQL, same traffic and same run, with each store's ratio to in-memory.
// Redis and PostgreSQL are private servers on free loopback ports, started and stopped here by
// the test suite's own helpers (compiled to bench/dist/support by build.mjs). A store whose
// server is not installed is reported as skipped.
import { benchServer } from './harness.mjs';
import { redisAvailable, startRedisServer } from './dist/support/redis-server.js';
import { postgresAvailable, startPostgresServer } from './dist/support/postgres-server.js';

export const STORES = ['memory', 'redis', 'postgres'];
const LABELS = { memory: 'in-memory', redis: 'Redis', postgres: 'PostgreSQL' };

/** Runs every store on every adapter `rounds` times; prints each run, the medians and the ratios. */
export async function benchStores({ adapters, rounds, median, ...load }) {
  console.log('\nstores: (c) this package on each store, same traffic');
  const redis = redisAvailable() ? await startRedisServer() : null;
  const postgres = postgresAvailable() ? await startPostgresServer() : null;
  const runs = [];
  let warnings = 0;
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const adapter of adapters) {
        for (const store of STORES) {
          if ((store === 'redis' && !redis) || (store === 'postgres' && !postgres)) continue;
          // Each run starts empty: its own key prefix or schema.
          Object.assign(process.env, {
            BENCH_STORE: store,
            BENCH_REDIS_URL: redis?.url ?? '',
            BENCH_REDIS_PREFIX: `bench-${round}-${adapter}:`,
            BENCH_DATABASE_URL: postgres?.url ?? '',
            BENCH_DATABASE_SCHEMA: `bench_${round}_${adapter}`,
          });
          const result = await benchServer(adapter, 'package-store', load);
          runs.push({ ...result, store });
          console.log(
            `  round ${round} ${adapter.padEnd(7)} ${LABELS[store].padEnd(10)} ` +
              `${Math.round(result.reqPerSec).toString().padStart(6)} req/s  p99 ${String(result.p99).padStart(3)} ms  ` +
              `handled ${result.handled} = ${result.total2xx} 2xx + ${result.cutOff} of ${result.inFlight} in flight at phase ends`,
          );
          for (const problem of result.problems) {
            warnings++;
            console.log(`  WARNING ${adapter} ${LABELS[store]}: ${problem}`);
          }
        }
      }
    }
  } finally {
    await redis?.stop();
    await postgres?.stop();
  }

  console.log(`\n  ${rounds > 1 ? `median of ${rounds} rounds` : 'results'}:`);
  console.log('  adapter  store          req/s (mean)   p99 ms   ratio to in-memory');
  for (const adapter of adapters) {
    const of = (store) => runs.filter((run) => run.adapter === adapter && run.store === store);
    const baseline = median(of('memory').map((run) => run.reqPerSec));
    for (const store of STORES) {
      const mine = of(store);
      if (mine.length === 0) {
        console.log(`  ${adapter.padEnd(8)} ${LABELS[store].padEnd(14)} skipped: server not installed`);
        continue;
      }
      const reqPerSec = median(mine.map((run) => run.reqPerSec));
      console.log(
        `  ${adapter.padEnd(8)} ${LABELS[store].padEnd(14)} ${reqPerSec.toFixed(0).padStart(12)} ` +
          `${String(median(mine.map((run) => run.p99))).padStart(8)} ${(reqPerSec / baseline).toFixed(2).padStart(12)}x`,
      );
    }
  }
  return warnings;
}
