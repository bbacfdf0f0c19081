/**
 * The histogram of time to deliver, shared by every store, the board and OpenTelemetry's
 * `messente.dlr.delivery.duration`: upper bounds in seconds, from a second to a day. One more
 * bin holds what took longer than the last bound. Fixed, so that buckets written by any
 * instance, on any day, add up.
 */
export const DELIVERY_SECONDS_BOUNDS: readonly number[] = Object.freeze([
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 14_400, 28_800, 86_400,
]);

/** How many bins a histogram has: one per bound and one past the last. */
export const DELIVERY_BIN_COUNT = DELIVERY_SECONDS_BOUNDS.length + 1;

/** The bin of a duration in seconds (negative ones, from clocks apart, count as 0). */
export function deliveryBinOf(seconds: number): number {
  const index = DELIVERY_SECONDS_BOUNDS.findIndex((bound) => seconds <= bound);
  return index < 0 ? DELIVERY_SECONDS_BOUNDS.length : index;
}

/**
 * The `q` quantile (0 < q ≤ 1) of a histogram at the resolution of its bins: the upper bound
 * of the bin that holds the `ceil(q × n)`-th smallest duration (the last bound for the
 * open-ended bin). Null for an empty histogram.
 */
export function quantileOfBins(bins: readonly number[], q: number): number | null {
  const total = bins.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let bin = 0; bin < bins.length; bin++) {
    seen += bins[bin] ?? 0;
    if (seen >= rank) return DELIVERY_SECONDS_BOUNDS[Math.min(bin, DELIVERY_SECONDS_BOUNDS.length - 1)]!;
  }
  return DELIVERY_SECONDS_BOUNDS[DELIVERY_SECONDS_BOUNDS.length - 1]!;
}
