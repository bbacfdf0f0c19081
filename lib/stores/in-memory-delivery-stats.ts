import { LRUCache } from 'lru-cache';
import { DELIVERY_BIN_COUNT, deliveryBinOf } from '../analytics/delivery-bins.js';
import { HOUR_MS, MINUTE_MS, deliveryBucketsOf, deliveryWindowRange } from '../analytics/delivery-window.js';
import type {
  DeliveryBucketRow,
  DeliveryTally,
  DeliveryWindow,
} from '../interfaces/delivery-stats.interface.js';

/** What is remembered of one message: when it started, and whether a final step was counted. */
interface MessageState {
  startedAt: number;
  final: boolean;
}

/** A row as counted: `DeliveryBucketRow` with its counters writable. */
interface RowCounts {
  readonly channel: string;
  readonly country: string;
  started: number;
  delivered: number;
  failed: number;
  readonly bins: number[];
  // A Map, not an object: a reason is text from the report, `__proto__` included.
  readonly reasons: Map<string, number>;
}

/** The rows of one bucket, by channel and country. */
type Bucket = Map<string, RowCounts>;

/** Minute buckets kept: the 60 of the `1h` window and the one being filled as the minute turns. */
const MINUTES_KEPT_MS = 61 * MINUTE_MS;
/** Hour buckets kept: the 24 of the `24h` window and the one being filled as the hour turns. */
const HOURS_KEPT_MS = 25 * HOUR_MS;
/**
 * Rows one bucket holds at most. Countries are a fixed list, but a channel is text from the
 * report (short, but any): past the bound, new pairs count in one `_OTHER`/`_OTHER` row, so
 * that a sender inventing channels cannot grow a bucket without limit.
 */
export const MAX_ROWS_PER_BUCKET = 1_000;

const OTHER = '_OTHER';

/** The key of a row: JSON of the pair, so that no character of either part can pass for a separator. */
function pairKey(channel: string, country: string): string {
  return JSON.stringify([channel, country]);
}

const OTHER_KEY = pairKey(OTHER, OTHER);

/**
 * The delivery analytics of `InMemoryDlrStore` (`DlrDeliveryStatsStore`): each message's start
 * and whether its final step was counted, and the counters of every minute and hour bucket.
 * Synchronous, so every tally is decided atomically.
 *
 * Bounded, and what it forgets:
 * - Messages: an LRU of `maxMessages`, the store's own bound, least recently counted first. A
 *   message forgotten there is unknown again: a later step of it starts it once more (`started`
 *   +1) and, when final, counts even if a final step of it was counted before, without a
 *   duration (its start is forgotten).
 * - Buckets: minute buckets older than 61 minutes and hour buckets older than 25 hours (by
 *   this process's clock) are dropped as new buckets are made; a step whose bucket is already
 *   that old is not counted in it.
 * - Rows: at most `MAX_ROWS_PER_BUCKET` per bucket, the rest counted in an `_OTHER` row.
 */
export class InMemoryDeliveryStats {
  private readonly messages: LRUCache<string, MessageState>;
  private readonly minutes = new Map<number, Bucket>();
  private readonly hours = new Map<number, Bucket>();

  constructor(maxMessages: number) {
    this.messages = new LRUCache({ max: maxMessages });
  }

  /**
   * {@inheritDoc DlrDeliveryStatsStore.tallyDelivery}
   *
   * `now` is this process's clock, by which buckets too old to keep are dropped.
   */
  tally(tallies: readonly DeliveryTally[], now = Date.now()): (number | null)[] {
    return tallies.map((tally) => this.tallyOne(tally, now));
  }

  /**
   * {@inheritDoc DlrDeliveryStatsStore.deliveryBuckets}
   *
   * Summed per channel and country here, one row each: the answer is a few dozen rows rather
   * than one per minute and pair, and copies, so that no caller can change what is kept.
   */
  buckets(window: DeliveryWindow, now: number): DeliveryBucketRow[] {
    const { bucketMs, first, last } = deliveryWindowRange(window, now);
    const buckets = window === '1h' ? this.minutes : this.hours;
    const sums = new Map<string, RowCounts>();
    for (let start = first; start <= last; start += bucketMs) {
      for (const [key, row] of buckets.get(start) ?? []) {
        let sum = sums.get(key);
        if (sum === undefined) sums.set(key, (sum = emptyRow(row.channel, row.country)));
        sum.started += row.started;
        sum.delivered += row.delivered;
        sum.failed += row.failed;
        row.bins.forEach((count, bin) => (sum.bins[bin]! += count));
        for (const [reason, count] of row.reasons)
          sum.reasons.set(reason, (sum.reasons.get(reason) ?? 0) + count);
      }
    }
    return [...sums.values()].map((sum) => ({ ...sum, reasons: Object.fromEntries(sum.reasons) }));
  }

  private tallyOne(tally: DeliveryTally, now: number): number | null {
    const { messageId, step, at } = tally;
    let state = this.messages.get(messageId);
    if (state === undefined) {
      state = { startedAt: at, final: false };
      this.messages.set(messageId, state);
      this.count(tally, now, (row) => row.started++);
      // A message first heard of at its final step: its start is unknown, so no duration.
      if (step === 'started') return null;
      state.final = true;
      this.count(tally, now, (row) => (step === 'failed' ? countFailure(row, tally) : row.delivered++));
      return null;
    }
    if (step === 'started') {
      // A track() that comes after the first report: the message started earlier than thought.
      state.startedAt = Math.min(state.startedAt, at);
      return null;
    }
    if (state.final) return null;
    state.final = true;
    if (step === 'failed') {
      this.count(tally, now, (row) => countFailure(row, tally));
      return null;
    }
    const seconds = (at - state.startedAt) / 1000;
    this.count(tally, now, (row) => {
      row.delivered++;
      row.bins[deliveryBinOf(seconds)]!++;
    });
    return seconds;
  }

  /** Applies `change` to the tally's row in its minute and in its hour, unless too old to keep. */
  private count(tally: DeliveryTally, now: number, change: (row: RowCounts) => void): void {
    const { minute, hour } = deliveryBucketsOf(tally.receivedAt);
    if (minute > now - MINUTES_KEPT_MS) change(this.rowOf(this.minutes, minute, tally, now));
    if (hour > now - HOURS_KEPT_MS) change(this.rowOf(this.hours, hour, tally, now));
  }

  private rowOf(buckets: Map<number, Bucket>, start: number, tally: DeliveryTally, now: number): RowCounts {
    let bucket = buckets.get(start);
    if (bucket === undefined) {
      this.dropOldBuckets(now);
      buckets.set(start, (bucket = new Map()));
    }
    const wanted = pairKey(tally.channel, tally.country);
    const found = bucket.get(wanted);
    if (found !== undefined) return found;
    const full = bucket.size >= MAX_ROWS_PER_BUCKET;
    const [channel, country, key] = full ? [OTHER, OTHER, OTHER_KEY] : [tally.channel, tally.country, wanted];
    let row = bucket.get(key);
    if (row === undefined) bucket.set(key, (row = emptyRow(channel, country)));
    return row;
  }

  private dropOldBuckets(now: number): void {
    // A few dozen buckets at most, and only when a new one is made: a plain scan.
    for (const start of this.minutes.keys()) if (start <= now - MINUTES_KEPT_MS) this.minutes.delete(start);
    for (const start of this.hours.keys()) if (start <= now - HOURS_KEPT_MS) this.hours.delete(start);
  }
}

function emptyRow(channel: string, country: string): RowCounts {
  const bins = new Array<number>(DELIVERY_BIN_COUNT).fill(0);
  return { channel, country, started: 0, delivered: 0, failed: 0, bins, reasons: new Map() };
}

function countFailure(row: RowCounts, tally: DeliveryTally): void {
  row.failed++;
  const reason = tally.reason ?? 'unknown';
  row.reasons.set(reason, (row.reasons.get(reason) ?? 0) + 1);
}
