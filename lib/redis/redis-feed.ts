import type { StoredReport } from '../interfaces/dlr-store.interface.js';
import { MAX_RECENT } from '../stores/store-queries.js';
import { decodeReportKey } from '../stores/report-key.js';
import { type Entry, mergeByScore } from './bucket-entries.js';
import type { RedisClient } from './redis-connection.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';
import { SEARCH, parseReports, scriptOn } from './redis-dlr.scripts.js';
import { messageIdOf, periodsToRead, searchRanges } from './search-entries.js';

/**
 * The board's two reads of a `RedisDlrStore`, `recent()` and `search()`: each reads one
 * index per bucket (`recent`, `find`) and merges. Called inside the store's deadline.
 */

/**
 * The newest `count` changes (1 to `MAX_RECENT`). Each bucket keeps its newest changes (by
 * receipt). The newest `window` of every bucket hold the newest `window` of all, and each is
 * read back from its message's history; a change that left it (`maxHistory`, or its message
 * expired) is skipped, and the window doubles until `count` are found or every bucket was read
 * whole.
 */
export async function readRecent(
  client: RedisClient,
  keys: RedisDlrKeys,
  count: number,
): Promise<StoredReport[]> {
  const changes = new Map<string, StoredReport | null>();
  for (let window = count; ; window = Math.min(MAX_RECENT, window * 2)) {
    const replies = await Promise.all(
      keys.walk(0).map((bucket) => client.zrevrange(keys.recent(bucket), 0, window - 1, 'WITHSCORES')),
    );
    const newest = mergeByScore(replies).reverse().slice(0, window);
    const unread = newest.filter(({ member }) => !changes.has(member));
    const read = await Promise.all(unread.map((entry) => changeOf(client, keys, entry)));
    unread.forEach(({ member }, i) => changes.set(member, read[i] ?? null));
    const found = newest.flatMap(({ member }) => changes.get(member) ?? []);
    if (found.length >= count || newest.length < window || window === MAX_RECENT) {
      return found.slice(0, count);
    }
  }
}

/**
 * Ids of up to `count` messages `query` names (1 to `MAX_SEARCH`). One script per bucket reads
 * the search index of the periods that can hold a live message (see `search-entries.ts`), then
 * the latest change of each message found orders them. A prefix matching more than `count`
 * messages in one bucket keeps those of the newest periods.
 */
export async function searchIds(
  client: RedisClient,
  keys: RedisDlrKeys,
  query: string,
  count: number,
  ttlSeconds: number,
): Promise<string[]> {
  const periods = periodsToRead(Date.now(), ttlSeconds);
  const ranges = searchRanges(query);
  const search = scriptOn(client, SEARCH);
  const replies = await Promise.all(
    keys
      .walk(0)
      .map(
        async (bucket) =>
          (await search(
            periods.length,
            ...periods.map((period) => keys.find(bucket, period)),
            String(count),
            ...(ranges as unknown as string[]),
          )) as string[],
      ),
  );
  // Each id with the bucket that named it: its home (on Redis Cluster not always its id's bucket).
  const homes = new Map<string, number>();
  replies.forEach((members, bucket) => members.forEach((member) => homes.set(messageIdOf(member), bucket)));
  const ids = [...homes.keys()];
  const latest = await Promise.all(ids.map((id) => client.hget(keys.message(id, homes.get(id)), 'latest')));
  return ids
    .flatMap((id, i) => {
      const report = latest[i];
      return report == null ? [] : [{ id, at: (JSON.parse(report) as StoredReport).receivedAt }];
    })
    .sort((a, b) => b.at - a.at)
    .slice(0, count)
    .map((match) => match.id);
}

/**
 * The change a feed entry (its key, in its message's home bucket) names, from its message's
 * history; null once it left it.
 */
async function changeOf(client: RedisClient, keys: RedisDlrKeys, entry: Entry): Promise<StoredReport | null> {
  const { messageId, status } = decodeReportKey(entry.member);
  const history = parseReports(await client.lrange(keys.history(messageId, entry.bucket), 0, -1));
  // A message records each status once: the report with this status is the change.
  return history.find((report) => report.status === status) ?? null;
}
