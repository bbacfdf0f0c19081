/**
 * Bucket boundaries, in seconds, of the duration histograms, passed as OpenTelemetry's
 * `advice.explicitBucketBoundaries`. Without them an SDK applies its default boundaries
 * (0, 5, 10, … 10 000), made for milliseconds: every handler and store call would land in
 * the first bucket. An app's own View still overrides them.
 */
export const DURATION_BUCKETS_S: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/**
 * `messente.status_api.duration`'s boundaries: one HTTP try may last up to `apiTimeoutMs`
 * (10 s by default, and users raise it), so the buckets go on to 30 s.
 */
export const STATUS_API_BUCKETS_S: readonly number[] = Object.freeze([...DURATION_BUCKETS_S, 20, 30]);
