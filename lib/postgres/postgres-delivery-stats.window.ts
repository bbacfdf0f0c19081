import { HOUR_MS, MINUTE_MS, deliveryWindowRange } from '../analytics/delivery-window.js';
import type { DeliveryWindow } from '../interfaces/delivery-stats.interface.js';

/**
 * A block of ten minutes: `tally_delivery` adds each count to its block's row too, so that the
 * `1h` window reads at most 15 rows per channel and country (its whole blocks, 5 or 6, and the
 * minutes at either end) instead of 60. Ten divides an hour, so a block never straddles one.
 */
export const TEN_MINUTES_MS = 10 * MINUTE_MS;
/**
 * A block of six hours, for the `24h` window as blocks of ten are for `1h`: at most 9 rows per
 * channel and country (3 or 4 whole blocks, the hours at either end) instead of 24. Six divides
 * a day, so blocks begin at 00:00, 06:00, 12:00 and 18:00 UTC.
 */
export const SIX_HOURS_MS = 6 * HOUR_MS;

/** How many ranges of `delivery_buckets`' primary key the buckets statement reads: buckets, blocks, buckets. */
export const DELIVERY_KEY_RANGES = 3;

/**
 * The ranges that hold exactly the buckets of `deliveryWindowRange(window, now)`, each counted
 * once, as the buckets statement takes them: per range its bucket size, the start of its first
 * and of its last bucket (ms): the buckets (minutes for `1h`, hours for `24h`) before the
 * window's first whole block (of ten minutes, of six hours), the whole blocks, and the buckets
 * after the last one. Empty ranges (first after last) fill up to `DELIVERY_KEY_RANGES`.
 */
export function deliveryKeyRanges(window: DeliveryWindow, now: number): number[] {
  const { bucketMs, first, last } = deliveryWindowRange(window, now);
  const ranges: number[] = [];
  const add = (size: number, from: number, to: number) => {
    if (from <= to) ranges.push(size, from, to);
  };
  const blockMs = bucketMs === MINUTE_MS ? TEN_MINUTES_MS : SIX_HOURS_MS;
  // Blocks from the first that starts in the window to the last that ends in it (end exclusive).
  const blocksFrom = Math.ceil(first / blockMs) * blockMs;
  const blocksTo = Math.floor((last + bucketMs) / blockMs) * blockMs;
  if (blocksFrom >= blocksTo) {
    add(bucketMs, first, last);
  } else {
    add(bucketMs, first, blocksFrom - bucketMs);
    add(blockMs, blocksFrom, blocksTo - blockMs);
    add(bucketMs, blocksTo, last);
  }
  return padded(ranges);
}

/** `ranges` and empty ones after them, `DELIVERY_KEY_RANGES` in all. */
function padded(ranges: number[]): number[] {
  while (ranges.length < 3 * DELIVERY_KEY_RANGES) ranges.push(MINUTE_MS, 1, 0);
  return ranges;
}
