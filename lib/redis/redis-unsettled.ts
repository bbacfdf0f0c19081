import type { StoredReport } from '../interfaces/dlr-store.interface.js';
import { type Entry, groupByBucket } from './bucket-entries.js';
import { lowestAcross } from './bucket-claims.js';
import type { RedisClient } from './redis-connection.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';
import { UNSETTLED_LATEST, parseReport, scriptOn } from './redis-dlr.scripts.js';

/**
 * `RedisDlrStore.unsettled()`: the latest changes that are not final and were received before
 * `before`, oldest first, at most `count`. Reads the oldest `count` of every bucket, takes the
 * oldest `count` across buckets, then their latest changes; ids whose message expired are
 * dropped from the index and the read is repeated (a bounded number of times). Called inside
 * the store's deadline.
 */
export async function readUnsettled(
  client: RedisClient,
  keys: RedisDlrKeys,
  before: number,
  count: number,
): Promise<StoredReport[]> {
  for (let round = 0; ; round++) {
    const oldest = await lowestAcross(
      client,
      (bucket) => keys.unsettled(bucket),
      keys.walk(0),
      `(${before}`,
      count,
    );
    const latest = new Map<Entry, string>();
    await Promise.all(
      [...groupByBucket(oldest)].map(async ([bucket, entries]) => {
        const scriptKeys = [
          keys.unsettled(bucket),
          ...entries.map((entry) => keys.message(entry.member, bucket)),
        ];
        const reports = (await scriptOn(client, UNSETTLED_LATEST)(
          scriptKeys.length,
          ...scriptKeys,
          ...entries.map((entry) => entry.member),
        )) as string[];
        entries.forEach((entry, i) => reports[i] && latest.set(entry, reports[i]));
      }),
    );
    // Expired ids were dropped: another read finds the next ones.
    if (latest.size === oldest.length || round === 9) {
      return oldest.flatMap((entry) => {
        const report = latest.get(entry);
        return report === undefined ? [] : [parseReport(report)];
      });
    }
  }
}
