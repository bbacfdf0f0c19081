import { crc32 } from 'node:zlib';

/** Default number of buckets: enough to spread over the masters of a small cluster. */
export const DEFAULT_BUCKETS = 16;
/** Upper bound of `buckets`: every read of a shared index touches each bucket once. */
export const MAX_BUCKETS = 1024;

/**
 * The store's key layout. Every key carries a hash tag `{<bucket>}`, so that Redis Cluster
 * hashes only the bucket number:
 *
 * - per message (bucket = CRC32 of the message id, modulo the bucket count):
 *   `<prefix>{b}:msg:<id>` (hash: seen statuses, status, latest), `<prefix>{b}:hist:<id>` (list);
 * - per bucket: `<prefix>{b}:pending` (leases, a sorted set), `<prefix>{b}:pending-reports` (hash),
 *   `<prefix>{b}:unsettled` (sorted set), `<prefix>{b}:omni:<omnimessage id>` (sorted set of the
 *   message ids of this bucket that belong to the omnimessage), `<prefix>{b}:recent` (the
 *   bucket's latest changes, a sorted set scored by receipt), `<prefix>{b}:find:<period>` (the
 *   search entries of the bucket's messages reported in that period, a lex sorted set);
 * - `<prefix>buckets`: the bucket count, written by the first instance and checked by the others;
 * - the keys of tracked outcomes: see `RedisTrackingKeys`.
 *
 * A message's keys and the indexes its report updates are therefore in one slot, which is
 * what lets one script record a report on a cluster; the shared indexes are read bucket by
 * bucket. The ids follow the tag, so braces inside ids cannot move a key to another slot.
 */
export class RedisDlrKeys {
  /** The bucket hash tags, `{0}` … `{n-1}`. */
  private readonly tags: readonly string[];

  constructor(
    private readonly prefix: string,
    readonly buckets: number,
  ) {
    this.tags = Array.from({ length: buckets }, (_, bucket) => `${prefix}{${bucket}}:`);
  }

  /** Where the bucket count is recorded. */
  get layout(): string {
    return `${this.prefix}buckets`;
  }

  /** What every key of `bucket` starts with: the prefix and the bucket's hash tag, `<prefix>{b}:`. */
  tag(bucket: number): string {
    return this.tags[bucket]!;
  }

  /** The bucket of a message (or of any id: tracking files omnimessages and refs the same way). */
  bucketOf(messageId: string): number {
    return crc32(messageId) % this.buckets;
  }

  /** The message's hash: `seen:<status>` flags, `status`, `latest`. */
  message(messageId: string): string {
    return `${this.tags[this.bucketOf(messageId)]}msg:${messageId}`;
  }

  /** The message's reports, oldest first. */
  history(messageId: string): string {
    return `${this.tags[this.bucketOf(messageId)]}hist:${messageId}`;
  }

  /** The ids of the omnimessage's messages that live in `bucket`, scored by first report. */
  omnimessage(bucket: number, omnimessageId: string): string {
    return `${this.tags[bucket]}omni:${omnimessageId}`;
  }

  /** Leases of the bucket's pending changes: a sorted set scored by lease end (ms). */
  leases(bucket: number): string {
    return `${this.tags[bucket]}pending`;
  }

  /** The bucket's pending reports: a hash from pending member to report. */
  pendingReports(bucket: number): string {
    return `${this.tags[bucket]}pending-reports`;
  }

  /** Ids of the bucket's messages whose latest status is not final, scored by its receipt (ms). */
  unsettled(bucket: number): string {
    return `${this.tags[bucket]}unsettled`;
  }

  /** The bucket's latest changes (pending members), scored by receipt (ms); trimmed to the newest. */
  recent(bucket: number): string {
    return `${this.tags[bucket]}recent`;
  }

  /** The search entries (see `searchEntries`) of the bucket's messages reported in `period`. */
  find(bucket: number, period: number): string {
    return `${this.tags[bucket]}find:${period}`;
  }

  /** The KEYS of the `RECORD` script for one report, in its order: all in the message's slot. */
  recordKeys(messageId: string, omnimessageId: string | null, period: number): string[] {
    const bucket = this.bucketOf(messageId);
    return [
      this.message(messageId),
      this.history(messageId),
      this.omnimessage(bucket, omnimessageId ?? ''),
      this.leases(bucket),
      this.pendingReports(bucket),
      this.unsettled(bucket),
      this.recent(bucket),
      this.find(bucket, period),
    ];
  }

  /** 0 … buckets-1, starting at `start` and wrapping around. */
  walk(start: number): number[] {
    return Array.from({ length: this.buckets }, (_, i) => (start + i) % this.buckets);
  }
}

/**
 * Refuses a key prefix with a brace: Redis Cluster hashes only the first `{…}` of a key, so a
 * brace in the prefix would put every key in one slot, or scatter a message's keys.
 */
export function assertNoHashTag(name: string, prefix: string): void {
  if (/[{}]/.test(prefix)) {
    throw new Error(
      `RedisDlrStore: ${name} must not contain '{' or '}' (got '${prefix}'): ` +
        'Redis Cluster would hash the braces instead of the store’s own hash tags',
    );
  }
}
