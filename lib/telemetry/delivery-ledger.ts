import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../messente-dlr.constants.js';
import { FAILURE_STATUSES, isFinalStatus } from '../dlr-status.js';
import type { DeliveryTally, DlrDeliveryStatsStore } from '../interfaces/delivery-stats.interface.js';
import type { DlrStore, StoredReport } from '../interfaces/dlr-store.interface.js';
import { countryOf } from '../payload/country-of.js';
import { dlrErrorReason } from '../payload/describe-dlr-error.js';
import { errorMessage } from '../utils/error-message.js';
import { parseUtcTimestamp } from '../utils/parse-utc-timestamp.js';

/** One message of a tracked send, as the ledger needs it. */
export interface LedgerSentMessage {
  readonly messageId: string;
  readonly channel: string;
}

/** Called with each delivery the store measured: seconds from start to DELIVRD or SEEN. */
export type DeliveryMeasured = (seconds: number, channel: string, country: string) => void;

const failureSet = new Set<string>(FAILURE_STATUSES);
const LOG_EVERY_MS = 60_000;
/** The most steps one store call is given. */
const MAX_BATCH = 1_000;
/** The most steps waiting for the store; past it, steps are dropped (and the loss logged). */
const MAX_QUEUED = 50_000;

/** A channel as an attribute and a bucket key: short text as sent, else `_OTHER`. */
export function channelKey(channel: unknown): string {
  return typeof channel === 'string' && /^[a-z0-9_-]{1,32}$/i.test(channel)
    ? channel.toLowerCase()
    : '_OTHER';
}

/**
 * Hands the store the steps its delivery analytics count (`DlrDeliveryStatsStore`): each
 * status change and each tracked send become tallies, written one call at a time, each call
 * taking every step queued meanwhile (up to 1 000), so that a burst of reports costs few store
 * calls and one connection. Not on the report's path: the answer to Messente never waits for
 * it, and a failure only loses counts (logged at most once a minute). Internal.
 */
export class DeliveryLedger {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private queued: DeliveryTally[] = [];
  /** True from the first queued step until the queue is empty again. */
  private draining = false;
  private dropped = 0;
  private lastLog = 0;

  private constructor(
    private readonly store: DlrDeliveryStatsStore,
    private readonly measured: DeliveryMeasured,
  ) {}

  /** A ledger over `store`, or null when the store keeps no delivery analytics. */
  static of(store: DlrStore, measured: DeliveryMeasured): DeliveryLedger | null {
    const { tallyDelivery, deliveryBuckets } = store;
    if (typeof tallyDelivery !== 'function' || typeof deliveryBuckets !== 'function') return null;
    return new DeliveryLedger(store as DlrStore & DlrDeliveryStatsStore, measured);
  }

  /** A status change the store recorded: the message starts, and ends when the status is final. */
  reportChanged(report: StoredReport): void {
    const { raw, status, receivedAt } = report;
    const at = parseUtcTimestamp(raw['timestamp'])?.getTime() ?? receivedAt;
    const base = {
      messageId: report.messageId,
      channel: channelKey(raw['channel']),
      country: countryOf(raw['to']),
      at,
      receivedAt,
    };
    // Only a report that is not final starts the message: a final one first heard of would
    // otherwise start and end at the same moment, a delivery in 0 s. The store starts such a
    // message at its final step, without a duration (its start is unknown).
    if (!isFinalStatus(status)) {
      this.queue({ ...base, step: 'started', reason: null });
      return;
    }
    const failed = failureSet.has(status);
    const reason = failed ? (dlrErrorReason(raw['err'] as number | null) ?? status.toLowerCase()) : null;
    this.queue({ ...base, step: failed ? 'failed' : 'delivered', reason });
  }

  /** A tracked send: its messages start at `at`, the moment the app tracked them. */
  tracked(messages: readonly LedgerSentMessage[], to: string | null, at: number): void {
    const country = countryOf(to);
    for (const message of messages) {
      const channel = channelKey(message.channel);
      this.queue({
        messageId: message.messageId,
        channel,
        country,
        step: 'started',
        reason: null,
        at,
        receivedAt: at,
      });
    }
  }

  private queue(tally: DeliveryTally): void {
    if (this.queued.length >= MAX_QUEUED) {
      // The store is down or far behind: counts are lost rather than memory.
      this.dropped++;
      return;
    }
    this.queued.push(tally);
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => void this.drain());
  }

  /**
   * Writes what is queued, one call at a time: steps queued while a call runs go together in
   * the next, so the analytics never hold more than one store connection, however busy.
   */
  private async drain(): Promise<void> {
    while (this.queued.length > 0) {
      await this.write(this.queued.splice(0, MAX_BATCH));
    }
    this.draining = false;
  }

  private async write(tallies: DeliveryTally[]): Promise<void> {
    try {
      const seconds = await this.store.tallyDelivery(tallies);
      seconds.forEach((value, index) => {
        const tally = tallies[index];
        if (value !== null && value !== undefined && tally)
          this.measured(Math.max(0, value), tally.channel, tally.country);
      });
    } catch (error) {
      this.failed(`the store could not count ${tallies.length} steps: ${errorMessage(error)}`);
    }
    if (this.dropped > 0) {
      this.failed(`${this.dropped} steps were not counted: more than ${MAX_QUEUED} waited for the store`);
      this.dropped = 0;
    }
  }

  /** Logs a loss, at most once a minute: the analytics are not worth a log line per report. */
  private failed(message: string): void {
    if (Date.now() - this.lastLog < LOG_EVERY_MS) return;
    this.lastLog = Date.now();
    this.logger.warn(`Delivery analytics: ${message}`);
  }
}
