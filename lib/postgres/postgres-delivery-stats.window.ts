import { MINUTE_MS, deliveryWindowRange } from '../analytics/delivery-window.js';
import type { DeliveryWindow } from '../interfaces/delivery-stats.interface.js';

/**
 * A block of ten minutes: `tally_delivery` adds each count to its block's row too, so that the
 * `1h` window reads at most 15 rows per channel and country (its whole blocks, 5 or 6, and the
 * minutes at either end) instead of 60. Ten divides an hour, so a block never straddles one.
 */
export const TEN_MINUTES_MS = 10 * MINUTE_MS;

/** How many ranges of `delivery_buckets`' primary key the buckets statement reads: minutes, blocks, minutes. */
export const DELIVERY_KEY_RANGES = 3;

/**
 * The ranges that hold exactly the buckets of `deliveryWindowRange(window, now)`, each counted
 * once, as the buckets statement takes them: per range its bucket size, the start of its first
 * and of its last bucket (ms). `24h` is its hours; `1h` the minutes before its first whole block
 * of ten, the whole blocks, and the minutes after the last one. Empty ranges (first after last)
 * fill up to `DELIVERY_KEY_RANGES`.
 */
export function deliveryKeyRanges(window: DeliveryWindow, now: number): number[] {
  const { bucketMs, first, last } = deliveryWindowRange(window, now);
  const ranges: number[] = [];
  const add = (size: number, from: number, to: number) => {
    if (from <= to) ranges.push(size, from, to);
  };
  if (bucketMs !== MINUTE_MS) {
    add(bucketMs, first, last);
    return padded(ranges);
  }
  // Blocks from the first that starts in the window to the last that ends in it (end exclusive).
  const blocksFrom = Math.ceil(first / TEN_MINUTES_MS) * TEN_MINUTES_MS;
  const blocksTo = Math.floor((last + MINUTE_MS) / TEN_MINUTES_MS) * TEN_MINUTES_MS;
  if (blocksFrom >= blocksTo) {
    add(MINUTE_MS, first, last);
  } else {
    add(MINUTE_MS, first, blocksFrom - MINUTE_MS);
    add(TEN_MINUTES_MS, blocksFrom, blocksTo - TEN_MINUTES_MS);
    add(MINUTE_MS, blocksTo, last);
  }
  return padded(ranges);
}

/** `ranges` and empty ones after them, `DELIVERY_KEY_RANGES` in all. */
function padded(ranges: number[]): number[] {
  while (ranges.length < 3 * DELIVERY_KEY_RANGES) ranges.push(MINUTE_MS, 1, 0);
  return ranges;
}
