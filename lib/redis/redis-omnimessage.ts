import type { StoredReport } from '../interfaces/dlr-store.interface.js';
import { readBuckets } from './bucket-entries.js';
import type { RedisClient } from './redis-connection.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';
import { parseReport } from './redis-dlr.scripts.js';

/**
 * `RedisDlrStore.forOmnimessage()`: the omnimessage's ids are indexed in the home bucket of
 * each message, so every bucket is read, then the latest change of each message found, in the
 * bucket it was found in. Called inside the store's deadline.
 */
export async function readOmnimessage(
  client: RedisClient,
  keys: RedisDlrKeys,
  omnimessageId: string,
): Promise<StoredReport[]> {
  const members = await readBuckets(keys.walk(0), (bucket) =>
    client.zrange(keys.omnimessage(bucket, omnimessageId), 0, -1, 'WITHSCORES'),
  );
  const latest = await Promise.all(
    members.map((entry) => client.hget(keys.message(entry.member, entry.bucket), 'latest')),
  );
  return latest.filter((report): report is string => report !== null).map((json) => parseReport(json));
}
