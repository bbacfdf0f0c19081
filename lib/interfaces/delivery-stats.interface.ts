/** The two windows the delivery analytics answer for. */
export type DeliveryWindow = '1h' | '24h';

/** The windows, in the order the board shows them. */
export const DELIVERY_WINDOWS: readonly DeliveryWindow[] = Object.freeze(['1h', '24h']);

/**
 * One step of one message that the delivery analytics count, as the telemetry point hands it
 * to the store: the message was first heard of (`started`: a tracked send, or its first
 * report), or reached its first final status (`delivered`: DELIVRD or SEEN; `failed`: a final
 * failure). A store counts each message's `started` once, and only its first final step.
 */
export interface DeliveryTally {
  readonly messageId: string;
  /** The message's channel (`sms`, `viber`, …), `_OTHER` when the report had none. */
  readonly channel: string;
  /** ISO 3166-1 alpha-2 of the recipient (`countryOf(to)`), `_OTHER` when unknown. */
  readonly country: string;
  readonly step: 'started' | 'delivered' | 'failed';
  /** For `failed`: the `err` reason (`describeDlrError`), or the status in lower case without one. */
  readonly reason: string | null;
  /**
   * When the step happened, ms since the epoch: Messente's `timestamp` of the report (the time
   * the status was reached), or the app's clock at `track()`. Durations are measured with it.
   */
  readonly at: number;
  /** When this process took the step in, ms since the epoch: the minute and hour it counts in. */
  readonly receivedAt: number;
}

/**
 * What a store keeps of one channel and country over one bucket of time (a minute or an
 * hour): the counts of the steps taken in it, and the histogram of time to deliver over
 * `DELIVERY_SECONDS_BOUNDS`. Stores answer their buckets of a window as these rows.
 */
export interface DeliveryBucketRow {
  readonly channel: string;
  readonly country: string;
  readonly started: number;
  readonly delivered: number;
  readonly failed: number;
  /** Deliveries per duration bin: `bins[i]` counts durations ≤ `DELIVERY_SECONDS_BOUNDS[i]` (and above the previous bound); one more bin for longer ones. */
  readonly bins: readonly number[];
  /** Failures per reason. */
  readonly reasons: Readonly<Record<string, number>>;
}

/** One row of `GET {path}/api/delivery`: a channel's or a country's numbers over the window. */
export interface DeliveryGroupStats {
  readonly key: string;
  readonly delivered: number;
  readonly failed: number;
  /** Messages started in the window and not yet final there (never below 0). */
  readonly pending: number;
  /** `delivered / (delivered + failed)`, or null when nothing is final. */
  readonly rate: number | null;
  /** Median time to deliver, in seconds, at the resolution of the histogram's bins; null without deliveries. */
  readonly p50Seconds: number | null;
  /** 90th percentile of time to deliver, as `p50Seconds`. */
  readonly p90Seconds: number | null;
}

/** The answer of `GET {path}/api/delivery?window=1h|24h`. */
export interface DeliveryStats {
  readonly window: DeliveryWindow;
  /** Start and end of the buckets summed, ms since the epoch. */
  readonly from: number;
  readonly to: number;
  readonly total: DeliveryGroupStats;
  readonly byChannel: readonly DeliveryGroupStats[];
  readonly byCountry: readonly DeliveryGroupStats[];
  /** Failures in the window by reason, most first. */
  readonly failuresByReason: readonly { readonly reason: string; readonly count: number }[];
}

/**
 * Delivery analytics: the part of `DlrStore` that counts deliveries per minute and per hour,
 * so that every instance's reports count and a window is read from its buckets, not by a scan.
 * Optional: without it the board's Delivery panel says so, and `messente.dlr.delivery.duration`
 * is not recorded.
 */
export interface DlrDeliveryStatsStore {
  /**
   * Counts the steps, in order, in the minute and the hour of their `receivedAt`. Answers, per
   * tally, the seconds from the message's start to this `delivered` step when this call counted
   * it and the start is known, else null.
   */
  tallyDelivery(tallies: readonly DeliveryTally[]): Promise<readonly (number | null)[]>;
  /**
   * The rows of the buckets of the window that ends at `now` (see `deliveryWindowRange`): one
   * per bucket and pair, or, better, already summed per channel and country (what crosses the
   * wire then does not grow with the window's length); `summarizeDelivery` adds them up either way.
   */
  deliveryBuckets(window: DeliveryWindow, now: number): Promise<readonly DeliveryBucketRow[]>;
}
