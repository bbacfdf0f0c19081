import { crc32 } from 'node:zlib';

/** Default number of buckets: enough to spread over the masters of a small cluster. */
export const DEFAULT_BUCKETS = 16;
/** Upper bound of `buckets`: every read of a shared index touches each bucket once. */
export const MAX_BUCKETS = 1024;

/**
 * The store's key layout. Every key carries a hash tag `{<bucket>}`, so that Redis Cluster
 * hashes only the bucket number (the bucket of an id is CRC32 of the id, modulo the bucket count):
 *
 * - per message, in its home bucket (`homeOf`): `<prefix>{b}:msg:<id>` (hash: seen statuses,
 *   status, latest), `<prefix>{b}:hist:<id>` (list);
 * - per bucket: `<prefix>{b}:pending` (leases, a sorted set), `<prefix>{b}:pending-reports` (hash),
 *   `<prefix>{b}:unsettled` (sorted set), `<prefix>{b}:omni:<omnimessage id>` (sorted set of the
 *   message ids of this bucket that belong to the omnimessage), `<prefix>{b}:recent` (the
 *   bucket's latest changes, a sorted set scored by receipt), `<prefix>{b}:find:<period>` (the
 *   search entries of the bucket's messages reported in that period, a lex sorted set);
 * - on Redis Cluster only, per message, in its id's bucket: `<prefix>{b}:home:<id>`, its home
 *   bucket (see `RedisMessageHomes`);
 * - `<prefix>buckets`: the bucket count and layout version (`layoutValue`), written by the first
 *   instance and checked by the others;
 * - the keys of tracked outcomes: see `RedisTrackingKeys`.
 *
 * Layout 1 (standalone Redis): a message's home is the bucket of its id. Layout 2 (Redis
 * Cluster, `colocated`): a message lives in the bucket of the omnimessage its first report names,
 * beside the outcome its reports may change, or in its id's bucket when that report names none.
 * A report's keys, the indexes it updates and (layout 2, or any layout on one server) its
 * omnimessage's outcome are therefore in one slot, which is what lets one script record a
 * report and decide its outcome on a cluster; the shared indexes are read bucket by bucket.
 * The ids follow the tag, so braces inside ids cannot move a key to another slot.
 */
export class RedisDlrKeys {
  /** The bucket hash tags, `{0}` … `{n-1}`. */
  private readonly tags: readonly string[];

  /**
   * @param colocated layout 2 (Redis Cluster): a message that names an omnimessage lives in
   *   the omnimessage's bucket. False: layout 1, every message in its id's bucket.
   */
  constructor(
    private readonly prefix: string,
    readonly buckets: number,
    readonly colocated = false,
  ) {
    this.tags = Array.from({ length: buckets }, (_, bucket) => `${prefix}{${bucket}}:`);
  }

  /** Where the bucket count and layout version are recorded. */
  get layout(): string {
    return `${this.prefix}buckets`;
  }

  /**
   * What `layout` holds for this store: the bucket count, followed by ` v2` in layout 2. Layout
   * 1 is the bare count, as every version before layout 2 wrote it, and such a version refuses
   * a value with a suffix as a bucket count of another store's.
   */
  get layoutValue(): string {
    return this.colocated ? `${this.buckets} v2` : String(this.buckets);
  }

  /** What every key of `bucket` starts with: the prefix and the bucket's hash tag, `<prefix>{b}:`. */
  tag(bucket: number): string {
    return this.tags[bucket]!;
  }

  /**
   * The bucket of an id: of a message id (its home in layout 1, see `homeOf`), an omnimessage
   * id or a ref.
   */
  bucketOf(messageId: string): number {
    return crc32(messageId) % this.buckets;
  }

  /**
   * The home bucket of a message, where its keys are, as a report of it tells: the bucket of
   * its omnimessage in layout 2 when the report names one, else the bucket of its id. (In
   * layout 2 a report naming another omnimessage than the message's first did tells wrong:
   * `RedisMessageHomes` finds that out.)
   */
  homeOf(messageId: string, omnimessageId: string | null): number {
    return this.bucketOf(this.colocated && omnimessageId !== null ? omnimessageId : messageId);
  }

  /** The message's hash: `seen:<status>` flags, `status`, `latest` (`bucket`: its home). */
  message(messageId: string, bucket = this.bucketOf(messageId)): string {
    return `${this.tags[bucket]}msg:${messageId}`;
  }

  /** The message's reports, oldest first (`bucket`: its home). */
  history(messageId: string, bucket = this.bucketOf(messageId)): string {
    return `${this.tags[bucket]}hist:${messageId}`;
  }

  /** Layout 2: the home bucket of a message whose home is not its id's bucket, in its id's bucket. */
  homeIndex(messageId: string): string {
    return `${this.tags[this.bucketOf(messageId)]}home:${messageId}`;
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

  /** The KEYS of the `RECORD` script for one report, in its order: all in `bucket`, by default its home. */
  recordKeys(
    messageId: string,
    omnimessageId: string | null,
    period: number,
    bucket = this.homeOf(messageId, omnimessageId),
  ): string[] {
    return [
      this.message(messageId, bucket),
      this.history(messageId, bucket),
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
