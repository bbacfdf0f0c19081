import { HOUR_MS } from '../analytics/delivery-window.js';
import type {
  DeliveryBucketRow,
  DeliveryTally,
  DeliveryWindow,
  DlrDeliveryStatsStore,
} from '../interfaces/delivery-stats.interface.js';
import { type DeliveryStatsStatements, deliveryStatsStatements } from './postgres-delivery-stats.queries.js';
import { deliveryKeyRanges } from './postgres-delivery-stats.window.js';
import type { RunStatement } from './postgres-outcomes.js';
import { fromDbText, toDbText } from './postgres-text.js';

/**
 * Minute buckets and blocks of ten minutes are kept this long: the `1h` window, and room for
 * clocks apart and a late prune.
 */
export const MINUTE_BUCKETS_KEPT_MS = 3 * HOUR_MS;
/** Hour buckets and blocks of six hours are kept this long: the `24h` window, and as much again. */
export const HOUR_BUCKETS_KEPT_MS = 48 * HOUR_MS;

/** Most tallies sent in one call (calls that waited are sent together up to it; a larger call alone). */
export const MAX_TALLIES_PER_CALL = 1_000;

/** A `tallyDelivery` call waiting to be sent. */
interface WaitingCall {
  readonly tallies: readonly DeliveryTally[];
  resolve(answers: readonly (number | null)[]): void;
  reject(error: unknown): void;
}

const STEPS: ReadonlySet<string> = new Set(['started', 'delivered', 'failed']);

/** A row of `delivery_buckets` as the buckets statement answers it. */
interface BucketRecord {
  readonly channel: string;
  readonly country: string;
  readonly started: number;
  readonly delivered: number;
  readonly failed: number;
  readonly bins: number[];
  readonly reasons: Record<string, number>;
}

/**
 * The delivery analytics (`DlrDeliveryStatsStore`) of `PostgresDlrStore`: a batch of tallies is
 * one call of the schema's `tally_delivery` function (one round trip, atomic: each message's row
 * is locked for its decision, so instances tallying the same steps at once count them once), and
 * a window is a few ranges of `delivery_buckets`' primary key (`deliveryKeyRanges`). The store
 * delegates to it.
 */
export class PostgresDeliveryStats implements DlrDeliveryStatsStore {
  /** The statements, public so that the store's retention runs `prune` with its own. */
  readonly sql: DeliveryStatsStatements;
  /** Calls of `tallyDelivery` not sent yet, in the order they were made. */
  private waiting: WaitingCall[] = [];
  private sending = false;

  constructor(
    schema: string,
    private readonly run: RunStatement,
  ) {
    this.sql = deliveryStatsStatements(schema);
  }

  /**
   * {@inheritDoc DlrDeliveryStatsStore.tallyDelivery}
   *
   * One call at a time per store: calls made meanwhile wait, and are sent together as the next
   * call (in the order they were made, at most `MAX_TALLIES_PER_CALL` tallies), so that the
   * analytics take one pooled connection at most, never the connections intake needs.
   */
  tallyDelivery(tallies: readonly DeliveryTally[]): Promise<readonly (number | null)[]> {
    for (const tally of tallies) {
      if (!Number.isFinite(tally.at) || !Number.isFinite(tally.receivedAt) || !STEPS.has(tally.step)) {
        return Promise.reject(
          new TypeError('PostgresDlrStore: a tally needs finite at and receivedAt, and a known step'),
        );
      }
    }
    if (tallies.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.waiting.push({ tallies, resolve, reject });
      if (!this.sending) void this.send();
    });
  }

  /** Sends the waiting calls, together, until none is left. */
  private async send(): Promise<void> {
    this.sending = true;
    while (this.waiting.length > 0) {
      // The first call waiting, and those after it that fit.
      let end = 1;
      let count = this.waiting[0]!.tallies.length;
      while (end < this.waiting.length && count + this.waiting[end]!.tallies.length <= MAX_TALLIES_PER_CALL) {
        count += this.waiting[end++]!.tallies.length;
      }
      const calls = this.waiting.splice(0, end);
      try {
        const answers = await this.tallyAll(calls.flatMap((call) => call.tallies));
        let offset = 0;
        for (const call of calls) call.resolve(answers.slice(offset, (offset += call.tallies.length)));
      } catch (error) {
        for (const call of calls) call.reject(error);
      }
    }
    this.sending = false;
  }

  private async tallyAll(tallies: readonly DeliveryTally[]): Promise<(number | null)[]> {
    const values = [
      tallies.map((tally) => toDbText(tally.messageId)),
      tallies.map((tally) => toDbText(tally.channel)),
      tallies.map((tally) => toDbText(tally.country)),
      tallies.map((tally) => tally.step),
      tallies.map((tally) => (tally.reason === null ? null : toDbText(tally.reason))),
      tallies.map((tally) => tally.at),
      tallies.map((tally) => tally.receivedAt),
    ];
    const [row] = (await this.run(this.sql.tally, values)).rows as { seconds: (number | null)[] }[];
    return row!.seconds;
  }

  /** {@inheritDoc DlrDeliveryStatsStore.deliveryBuckets} */
  async deliveryBuckets(window: DeliveryWindow, now: number): Promise<readonly DeliveryBucketRow[]> {
    const { rows } = await this.run(this.sql.buckets, deliveryKeyRanges(window, now));
    return (rows as BucketRecord[]).map((row) => ({
      channel: fromDbText(row.channel),
      country: fromDbText(row.country),
      started: row.started,
      delivered: row.delivered,
      failed: row.failed,
      bins: row.bins,
      reasons: Object.fromEntries(
        Object.entries(row.reasons).map(([reason, count]) => [fromDbText(reason), count]),
      ),
    }));
  }

  /**
   * Deletes a batch of up to `batchSize` messages not tallied since before `olderThan` (ms), and
   * of buckets older than kept (minutes and blocks of ten `MINUTE_BUCKETS_KEPT_MS`, hours and
   * blocks of six `HOUR_BUCKETS_KEPT_MS` before `now`);
   * resolves with how many of each.
   */
  async prune(
    olderThan: number,
    batchSize: number,
    now = Date.now(),
  ): Promise<{ readonly deliveryMessages: number; readonly deliveryBuckets: number }> {
    const values = [olderThan, batchSize, now - MINUTE_BUCKETS_KEPT_MS, now - HOUR_BUCKETS_KEPT_MS];
    const [row] = (await this.run(this.sql.prune, values.map(Math.round))).rows as {
      messages: number;
      buckets: number;
    }[];
    return { deliveryMessages: row!.messages, deliveryBuckets: row!.buckets };
  }
}
