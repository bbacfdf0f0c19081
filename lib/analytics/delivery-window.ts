import type { DeliveryWindow } from '../interfaces/delivery-stats.interface.js';

/** A minute and an hour in ms: the two bucket sizes every store keeps. */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

/** The buckets a window sums: their size and the start of the first and of the last, in ms. */
export interface DeliveryWindowRange {
  readonly bucketMs: number;
  readonly first: number;
  readonly last: number;
}

/**
 * The buckets of a window ending at `now`: `1h` is the current minute and the 59 before it,
 * `24h` the current hour and the 23 before it. Whole buckets, so that a store answers from
 * its counters alone; the window is thus up to one bucket longer than its name.
 */
export function deliveryWindowRange(window: DeliveryWindow, now: number): DeliveryWindowRange {
  const [bucketMs, count] = window === '1h' ? [MINUTE_MS, 60] : [HOUR_MS, 24];
  const last = Math.floor(now / bucketMs) * bucketMs;
  return { bucketMs, first: last - (count - 1) * bucketMs, last };
}

/** The start of the minute and of the hour a moment counts in. */
export function deliveryBucketsOf(at: number): { readonly minute: number; readonly hour: number } {
  return { minute: Math.floor(at / MINUTE_MS) * MINUTE_MS, hour: Math.floor(at / HOUR_MS) * HOUR_MS };
}

/** True for `1h` and `24h`. */
export function isDeliveryWindow(value: unknown): value is DeliveryWindow {
  return value === '1h' || value === '24h';
}
