import type {
  DeliveryBucketRow,
  DeliveryGroupStats,
  DeliveryStats,
  DeliveryWindow,
} from '../interfaces/delivery-stats.interface.js';
import { DELIVERY_BIN_COUNT, quantileOfBins } from './delivery-bins.js';
import { deliveryWindowRange } from './delivery-window.js';

interface Sum {
  started: number;
  delivered: number;
  failed: number;
  readonly bins: number[];
}

function emptySum(): Sum {
  return { started: 0, delivered: 0, failed: 0, bins: new Array<number>(DELIVERY_BIN_COUNT).fill(0) };
}

function add(sum: Sum, row: DeliveryBucketRow): void {
  sum.started += row.started;
  sum.delivered += row.delivered;
  sum.failed += row.failed;
  row.bins.forEach((count, bin) => {
    if (bin < DELIVERY_BIN_COUNT) sum.bins[bin]! += count;
  });
}

function statsOf(key: string, sum: Sum): DeliveryGroupStats {
  const final = sum.delivered + sum.failed;
  return {
    key,
    delivered: sum.delivered,
    failed: sum.failed,
    // A message that started before the window and ended in it is final here but not started.
    pending: Math.max(0, sum.started - final),
    rate: final === 0 ? null : sum.delivered / final,
    p50Seconds: quantileOfBins(sum.bins, 0.5),
    p90Seconds: quantileOfBins(sum.bins, 0.9),
  };
}

function grouped(
  rows: readonly DeliveryBucketRow[],
  keyOf: (row: DeliveryBucketRow) => string,
): DeliveryGroupStats[] {
  const sums = new Map<string, Sum>();
  for (const row of rows) {
    const key = keyOf(row);
    let sum = sums.get(key);
    if (!sum) sums.set(key, (sum = emptySum()));
    add(sum, row);
  }
  return [...sums]
    .map(([key, sum]) => statsOf(key, sum))
    .sort(
      (a, b) =>
        b.delivered + b.failed + b.pending - (a.delivered + a.failed + a.pending) ||
        a.key.localeCompare(b.key),
    );
}

/**
 * The delivery analytics of a window from the bucket rows a store answered: one rule for
 * every store, so that they differ only in how they keep their counters.
 */
export function summarizeDelivery(
  window: DeliveryWindow,
  now: number,
  rows: readonly DeliveryBucketRow[],
): DeliveryStats {
  const range = deliveryWindowRange(window, now);
  const total = emptySum();
  const reasons = new Map<string, number>();
  for (const row of rows) {
    add(total, row);
    for (const [reason, count] of Object.entries(row.reasons)) {
      reasons.set(reason, (reasons.get(reason) ?? 0) + count);
    }
  }
  return {
    window,
    from: range.first,
    to: range.last + range.bucketMs,
    total: statsOf('all', total),
    byChannel: grouped(rows, (row) => row.channel),
    byCountry: grouped(rows, (row) => row.country),
    failuresByReason: [...reasons]
      .filter(([, count]) => count > 0)
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
  };
}
