import type { PendingKey, StoredReport } from '../interfaces/dlr-store.interface.js';
import { encodeReportKey } from '../stores/report-key.js';
import type { RedisClient } from './redis-connection.js';
import type { RedisDlrKeys } from './redis-dlr.keys.js';
import { scriptOn } from './redis-dlr.scripts.js';
import { CLAIM_HOME, FORGET_MISPLACED } from './redis-home.scripts.js';
import { periodOf, searchEntries } from './search-entries.js';

/**
 * Where a message's keys are (its home bucket, see `RedisDlrKeys.homeOf`), found from its id
 * alone, for the calls that get nothing else: `latest()`, `history()`, `complete()`, `release()`.
 *
 * Layout 1 (standalone Redis): the bucket of the id. Nothing is read or written.
 *
 * Layout 2 (Redis Cluster): a message lives in the bucket its first report's omnimessage names
 * (the id's own bucket when it names none), beside the outcome the report may change, which the
 * id alone does not tell. The home index `<prefix>{b}:home:<message id>`, in the bucket of the
 * id (a slot any caller can compute), holds that bucket for as long as the message's keys live.
 * A report recorded in the id's own bucket writes it inside its script; any other report sends
 * `CLAIM_HOME` beside its script, at once. A report whose omnimessage is not in its message's
 * home (its reports name different omnimessages, or one and none: Messente's do not) was
 * recorded in the wrong bucket: it is undone there (`FORGET_MISPLACED`) and recorded again in
 * the home, which decides it exactly as for any other report of the message. Its outcome is
 * then decided with the message's tracked omnimessage, if any, by a second step (see
 * `SYNC_OUTCOME`), and an outcome the misplaced report changed, in the rare case that the
 * message was tracked under the omnimessage that report named, is not undone. Costs:
 *
 * - recording a report whose omnimessage is in another bucket than its message id (15 in 16
 *   with 16 buckets): one `CLAIM_HOME` beside the script (one round trip, two commands,
 *   possibly on two masters); in the id's own bucket, one `GET` and one `SET` in the script;
 * - a report recorded in the wrong bucket: two round trips more;
 * - `latest()`, `history()`, `complete()`, `release()`: one `GET` first (two round trips);
 * - `claimPending()`: one `CLAIM_HOME` per claimed report outside its id's bucket (see `repair`);
 * - one small key per message, expiring with it.
 *
 * `CLAIM_HOME` is not followed by `WAIT` (`waitForReplicas`): a master that fails before its
 * replica has a new home key loses it, and until the message's next report claims it again a
 * lookup by id does not find the message (a claim of its pending change restores it too).
 *
 * Reading every bucket instead would cost `buckets` commands (up to 1024) for each lookup, a
 * status query of an unknown id included.
 */
export class RedisMessageHomes {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisDlrKeys,
    private readonly ttlSeconds: number,
  ) {}

  /** The home bucket of a message: its id's bucket, or in layout 2 what its index says. */
  async find(messageId: string): Promise<number> {
    const own = this.keys.bucketOf(messageId);
    if (!this.keys.colocated) return own;
    const home = await this.client.get(this.keys.homeIndex(messageId));
    return home === null ? own : this.bucket(home);
  }

  /**
   * Claims `bucket` as the home of a message a report was recorded in (see `CLAIM_HOME`);
   * answers its home, `bucket` unless the message lives elsewhere.
   */
  async claim(messageId: string, bucket: number): Promise<number> {
    const home = await scriptOn(this.client, CLAIM_HOME)(
      this.keys.homeIndex(messageId),
      String(bucket),
      String(this.ttlSeconds),
    );
    return this.bucket(String(home));
  }

  /**
   * Undoes a report (its key and body) recorded in `bucket`, which is not its message's home,
   * filed in the search period `period`.
   */
  async forget(key: PendingKey, raw: Readonly<Record<string, unknown>>, bucket: number, period: number) {
    const omnimessageId = typeof raw['omnimessage_id'] === 'string' ? raw['omnimessage_id'] : null;
    const { messageId, status } = key;
    await scriptOn(this.client, FORGET_MISPLACED)(
      ...this.keys.recordKeys(messageId, omnimessageId, period, bucket),
      messageId,
      encodeReportKey(messageId, status),
      ...searchEntries(messageId, omnimessageId, raw['to']),
    );
  }

  /**
   * The claimed reports to hand out (each claimed in `bucket`), once their homes are claimed
   * again: a report whose `CLAIM_HOME` failed when it was recorded was answered with an error
   * and is pending, and reaches its caller through a claim, which must be able to complete it.
   * A report claimed outside its message's home was recorded in the wrong bucket and not undone
   * (its `record()` failed midway): it is undone now instead, since the home holds the message.
   */
  async repair(claimed: readonly { bucket: number; report: StoredReport }[]): Promise<StoredReport[]> {
    if (!this.keys.colocated) return claimed.map(({ report }) => report);
    const kept = await Promise.all(
      claimed.map(async ({ bucket, report }) => {
        if (bucket === this.keys.bucketOf(report.messageId)) return true;
        if ((await this.claim(report.messageId, bucket)) === bucket) return true;
        await this.forget(report, report.raw, bucket, periodOf(report.receivedAt, this.ttlSeconds));
        return false;
      }),
    );
    return claimed.flatMap(({ report }, i) => (kept[i] ? [report] : []));
  }

  /** A bucket as the index holds it; an error for anything this store could not have written. */
  bucket(value: string): number {
    const bucket = Number(value);
    if (Number.isInteger(bucket) && bucket >= 0 && bucket < this.keys.buckets) return bucket;
    throw new Error(`RedisDlrStore: a message's home index holds '${value}', not a bucket`);
  }
}
